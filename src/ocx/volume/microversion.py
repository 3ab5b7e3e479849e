"""Cinder's microversions: ``OpenStack-API-Version: volume 3.x``, honoured and echoed."""

from __future__ import annotations

import re

from ocx.common import errors
from ocx.volume.faults import VersionNotAcceptable

Version = tuple[int, int]

MIN: Version = (3, 0)
# 3.67: URLs without a project id; 3.66: in-use snapshots without force; 3.65 consumes_quota;
# 3.64/3.63 encryption_key_id/volume_type_id; 3.54 attachment mode; 3.44 attachment
# complete; 3.42 extend in-use; 3.27 attachments. Nothing past 3.67 (re-image, 3.68).
MAX: Version = (3, 67)
HEADER = "OpenStack-API-Version"


def text(version: Version) -> str:
    return f"{version[0]}.{version[1]}"


def negotiate(header: str | None) -> Version:
    """The version a request asks for (3.0 if none); 400 if unreadable, 406 if unserved."""
    if not header:
        return MIN
    wanted = None
    for entry in header.split(","):
        parts = entry.strip().split()
        if len(parts) == 2 and parts[0].lower() == "volume":
            wanted = parts[1]
    if wanted is None:
        return MIN
    if wanted.lower() == "latest":
        return MAX
    match = re.fullmatch(r"(\d+)\.(\d+)", wanted)
    if match is None:
        raise errors.BadRequest(
            f"API Version String {wanted} is of invalid format. Must be of format "
            "MajorNum.MinorNum."
        )
    version = (int(match[1]), int(match[2]))
    if not MIN <= version <= MAX:
        raise VersionNotAcceptable(
            f"Version {wanted} is not supported by the API. Minimum is {text(MIN)} and "
            f"maximum is {text(MAX)}."
        )
    return version


def documents(base: str) -> list[dict[str, object]]:
    return [
        {
            "id": "v3.0",
            "status": "CURRENT",
            "version": text(MAX),
            "min_version": text(MIN),
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
