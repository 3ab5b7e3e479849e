"""Cinder's microversions: ``OpenStack-API-Version: volume 3.x``, honoured and echoed."""

from __future__ import annotations

from ocx.common import errors
from ocx.openstack.microversions import Range, Unreadable, Unserved, Version, asked
from ocx.volume.faults import VersionNotAcceptable

MIN = Version(3, 0)
# 3.67: URLs without a project id; 3.66: in-use snapshots without force; 3.65 consumes_quota;
# 3.64/3.63 encryption_key_id/volume_type_id; 3.54 attachment mode; 3.44 attachment
# complete; 3.42 extend in-use; 3.27 attachments. Nothing past 3.67 (re-image, 3.68).
MAX = Version(3, 67)
SERVED = Range(MIN, MAX)


def negotiate(header: str | None) -> Version:
    """The version a request asks for (3.0 if none); 400 if unreadable, 406 if unserved."""
    try:
        return SERVED.negotiate(asked(header, "volume"))
    except Unreadable as exc:
        raise errors.BadRequest(str(exc)) from exc
    except Unserved as exc:
        raise VersionNotAcceptable(str(exc)) from exc


def documents(base: str) -> list[dict[str, object]]:
    return [
        {
            "id": "v3.0",
            "status": "CURRENT",
            "version": str(MAX),
            "min_version": str(MIN),
            "updated": "2026-11-26T00:00:00Z",
            "links": [
                {"rel": "describedby", "type": "text/html", "href": "https://docs.openstack.org/"},
                {"rel": "self", "href": f"{base}/v3/"},
            ],
            "media-types": [
                {
                    "base": "application/json",
                    "type": "application/vnd.openstack.volume+json;version=3",
                }
            ],
        }
    ]
