"""The block-storage URL table: Cinder v3 with and without a project id in the path (3.67
made it optional; Nova's Cinder client still uses it)."""

from __future__ import annotations

import functools

from fastapi import APIRouter
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from ocx.volume.api import attachments, extensions, quotas, snapshots, types, versions, volumes

ROUTERS = (
    volumes.router,
    snapshots.router,
    types.router,
    attachments.router,
    quotas.router,
    extensions.router,
)


@functools.cache  # built once per process: FastAPI's analysis of each handler is costly
def routes() -> list[BaseRoute]:
    v3 = APIRouter()
    for prefix in ("/v3", "/v3/{url_project_id}"):
        for router in ROUTERS:
            v3.include_router(router, prefix=prefix)
    return [
        APIRoute("/", versions.root, methods=["GET"], include_in_schema=False),
        APIRoute("/v3", versions.v3, methods=["GET"], include_in_schema=False),
        APIRoute("/v3/", versions.v3, methods=["GET"], include_in_schema=False),
        *v3.routes,
    ]
