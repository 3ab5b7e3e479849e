"""``GET /info``: what clients may use through the proxy (they read it to choose how to upload).

Swift's default limits, as every OCX landlord has them; static and dynamic large objects,
temp URLs and container quotas (a container lives at one landlord, which enforces them); no
bulk delete or bulk upload (the proxy would have to split them by landlord) and no account
quotas (an account spans landlords, each of which would count only its own part); and what
the proxy adds, under ``ocx_proxy``.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ocx.proxy import headers as h
from ocx.proxy.placement import Policy
from ocx.proxy.service import ProxyService
from ocx.swift import tempurl
from ocx.swift.info import SWIFT_VERSION, advertised, policies
from ocx.swift.limits import Limits


def capabilities(svc: ProxyService) -> dict[str, Any]:
    limits = Limits()
    return {
        "swift": {
            "version": SWIFT_VERSION,
            **advertised(limits),
            "allow_account_management": False,
            # Every landlord's containers are in Swift's implicit default policy; Horizon's
            # container form requires a policy from this list.
            "policies": policies(),
        },
        "slo": {
            "max_manifest_segments": limits.slo_max_segments,
            "max_manifest_size": limits.slo_max_manifest_size,
            "min_segment_size": 1,
        },
        "dlo": {"max_segments": limits.dlo_max_segments},
        "tempurl": {"methods": list(tempurl.METHODS)},
        "container_quotas": {},
        "ocx_proxy": {
            "id": svc.settings.proxy_id,
            "landlord": svc.settings.landlord,
            "placement_policies": [p.value for p in Policy],
            "default_placement": svc.settings.placement.value,
            "headers": [h.LANDLORD, h.PLACEMENT, h.LANDLORDS, h.MISSING, h.HOPS],
        },
    }


async def info(request: Request) -> Response:
    return JSONResponse(capabilities(request.app.state.service))
