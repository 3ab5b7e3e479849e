"""``GET /info``: what this Swift can do, read by clients to choose how to upload."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ocx.object.service import ObjectService
from ocx.swift import tempurl
from ocx.swift.info import SWIFT_VERSION, advertised, policies


def capabilities(svc: ObjectService) -> dict[str, Any]:
    limits = svc.limits
    return {
        "swift": {
            "version": SWIFT_VERSION,
            **advertised(limits),
            "extra_header_count": 0,
            "strict_cors_mode": True,
            "allow_account_management": False,
            "account_autocreate": True,
            "policies": policies(),
        },
        "slo": {
            "max_manifest_segments": limits.slo_max_segments,
            "max_manifest_size": limits.slo_max_manifest_size,
            "min_segment_size": 1,
            "yield_frequency": 10,
            "allow_async_delete": False,
        },
        "dlo": {"max_segments": limits.dlo_max_segments},
        "tempurl": {
            "methods": list(tempurl.METHODS),
            "allowed_digests": sorted(tempurl.DIGESTS),
            "incoming_remove_headers": ["x-timestamp"],
            "incoming_allow_headers": [],
            "outgoing_remove_headers": ["x-object-meta-*"],
            "outgoing_allow_headers": ["x-object-meta-public-*"],
        },
        "bulk_delete": {
            "max_deletes_per_request": limits.max_deletes_per_request,
            "max_failed_deletes": 1000,
        },
        "bulk_upload": {"max_containers_per_extraction": 10000, "max_failed_extractions": 1000},
        "container_quotas": {},
        "account_quotas": {},
        "keystoneauth": {},
    }


async def info(request: Request) -> Response:
    svc: ObjectService = request.app.state.service
    return JSONResponse(capabilities(svc))
