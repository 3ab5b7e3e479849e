"""The block-storage ASGI application of one landlord, and its microversion layer."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ocx.common import errors
from ocx.common.app import create_app, error_response
from ocx.openstack.microversions import HEADER
from ocx.volume import microversion
from ocx.volume.routes import routes
from ocx.volume.service import VolumeService


class Microversions:
    """Negotiates ``OpenStack-API-Version`` for ``/v3/...``: 406 (or 400) in Cinder's fault
    format before anything else runs; echoes the version with ``Vary`` on every answer."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/v3/"):
            await self.app(scope, receive, send)
            return
        try:
            version = microversion.negotiate(Headers(scope=scope).get(HEADER))
        except errors.OCXError as exc:
            await error_response(exc, errors.Family.NOVA)(scope, receive, send)
            return
        scope.setdefault("state", {})["volume_version"] = version
        echo = f"volume {version}"

        async def send_with_version(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers[HEADER] = echo
                headers["Vary"] = HEADER
            await send(message)

        await self.app(scope, receive, send_with_version)


def build(service: VolumeService) -> FastAPI:
    """The app; the caller starts and stops ``service`` (so several apps can share a loop)."""
    app = create_app(
        name=f"volume:{service.settings.landlord}",
        family=errors.Family.NOVA,
        routes=routes(),
        service=service,
    )
    app.add_middleware(Microversions)
    return app
