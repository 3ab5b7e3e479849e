"""Version discovery, unauthenticated as in Cinder: ``/`` (300) and ``/v3/`` (200)."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse

from ocx.volume.microversion import documents
from ocx.volume.service import VolumeService


def _base(request: Request) -> str:
    svc: VolumeService = request.app.state.service
    return svc.settings.public_url.rstrip("/")


async def root(request: Request) -> JSONResponse:
    return JSONResponse({"versions": documents(_base(request))}, status_code=300)


async def v3(request: Request) -> JSONResponse:
    return JSONResponse({"versions": documents(_base(request))})
