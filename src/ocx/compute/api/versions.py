"""Nova's version documents (no token needed, as in Nova's paste pipeline)."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from ocx.compute.microversion import MAX_VERSION, MIN_VERSION


def _v21(request: Request) -> dict[str, Any]:
    root = str(request.base_url).rstrip("/")
    return {
        "id": "v2.1",
        "status": "CURRENT",
        "version": str(MAX_VERSION),
        "min_version": str(MIN_VERSION),
        "updated": "2013-07-23T11:33:21Z",
        "links": [
            {"rel": "self", "href": f"{root}/v2.1/"},
            {"rel": "describedby", "type": "text/html", "href": "http://docs.openstack.org/"},
        ],
        "media-types": [
            {
                "base": "application/json",
                "type": "application/vnd.openstack.compute+json;version=2.1",
            }
        ],
    }


async def versions(request: Request) -> dict[str, Any]:
    return {"versions": [_v21(request)]}


async def version(request: Request) -> dict[str, Any]:
    return {"version": _v21(request)}
