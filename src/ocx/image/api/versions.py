"""Glance's version document (300 at ``/``: clients pick the v2 ``self`` link)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from ocx.common import errors

VERSIONS = ("2.17", "2.16", "2.15", "2.9", "2.7", "2.6", "2.5", "2.4", "2.3", "2.2", "2.1", "2.0")


def _doc(request: Request) -> dict[str, Any]:
    base = str(request.base_url).rstrip("/")
    return {
        "versions": [
            {
                "id": f"v{v}",
                "status": "CURRENT" if i == 0 else "SUPPORTED",
                "links": [{"rel": "self", "href": f"{base}/v2/"}],
            }
            for i, v in enumerate(VERSIONS)
        ]
    }


async def multiple_choices(request: Request) -> JSONResponse:
    return JSONResponse(_doc(request), status_code=300)


async def versions(request: Request) -> dict[str, Any]:
    return _doc(request)


async def unknown(request: Request) -> None:
    raise errors.NotFound("The resource could not be found.")
