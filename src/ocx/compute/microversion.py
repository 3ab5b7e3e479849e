"""Nova's microversions: what a request asks for, and the headers every answer carries.

``OpenStack-API-Version: compute X.Y`` wins over the legacy ``X-OpenStack-Nova-API-Version``;
no header means 2.1, ``latest`` the maximum. Out of range is a 406 in Nova's fault format.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ocx.openstack.microversions import Range, Unreadable, Unserved, Version, asked

MIN_VERSION = Version(2, 1)
MAX_VERSION = Version(2, 100)
SERVED = Range(MIN_VERSION, MAX_VERSION)


class VersionError(Exception):
    def __init__(self, status: int, fault: str, message: str):
        super().__init__(message)
        self.status, self.fault, self.message = status, fault, message


def requested(headers: dict[str, str]) -> Version:
    try:
        return SERVED.negotiate(_from_headers(headers))
    except Unreadable as exc:
        raise VersionError(400, "badRequest", str(exc)) from exc
    except Unserved as exc:
        raise VersionError(406, "computeFault", str(exc)) from exc


def _from_headers(headers: dict[str, str]) -> str | None:
    modern = asked(headers.get("openstack-api-version"), "compute")
    if modern is not None:
        return modern
    legacy = headers.get("x-openstack-nova-api-version")
    return legacy.strip() if legacy else None


class Microversions:
    """ASGI wrapper: parse the version for every API path, echo it on the answer."""

    def __init__(self, app: ASGIApp, prefix: str = "/v2.1/"):
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        try:
            version = requested(headers)
        except VersionError as exc:
            await _fault(send, exc)
            return
        scope.setdefault("state", {})["version"] = version
        echo = [
            (b"openstack-api-version", f"compute {version}".encode()),
            (b"x-openstack-nova-api-version", str(version).encode()),
            (b"vary", b"OpenStack-API-Version, X-OpenStack-Nova-API-Version"),
        ]

        async def send_with_version(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *echo]}
            await send(message)

        await self.app(scope, receive, send_with_version)


async def _fault(send: Send, exc: VersionError) -> None:
    body = json.dumps({exc.fault: {"code": exc.status, "message": exc.message}}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": exc.status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
