"""Nova's microversions: what a request asks for, and the headers every answer carries.

``OpenStack-API-Version: compute X.Y`` wins over the legacy ``X-OpenStack-Nova-API-Version``;
no header means 2.1, ``latest`` the maximum. Out of range is a 406 in Nova's fault format.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MIN = (2, 1)
MAX = (2, 100)
_FORMAT = re.compile(r"^([1-9]\d*)\.([1-9]\d*|0)$")


@dataclass(frozen=True, order=True)
class Version:
    major: int
    minor: int

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"

    def at_least(self, text: str) -> bool:
        major, minor = text.split(".")
        return (self.major, self.minor) >= (int(major), int(minor))


MIN_VERSION = Version(*MIN)
MAX_VERSION = Version(*MAX)


class VersionError(Exception):
    def __init__(self, status: int, fault: str, message: str):
        super().__init__(message)
        self.status, self.fault, self.message = status, fault, message


def requested(headers: dict[str, str]) -> Version:
    text = _from_headers(headers)
    if text is None:
        return MIN_VERSION
    if text == "latest":
        return MAX_VERSION
    found = _FORMAT.match(text)
    if found is None:
        raise VersionError(400, "badRequest", f"API Version String {text} is of invalid format.")
    version = Version(int(found.group(1)), int(found.group(2)))
    if not MIN_VERSION <= version <= MAX_VERSION:
        raise VersionError(
            406,
            "computeFault",
            f"Version {version} is not supported by the API. Minimum is {MIN_VERSION} and "
            f"maximum is {MAX_VERSION}.",
        )
    return version


def _from_headers(headers: dict[str, str]) -> str | None:
    modern = headers.get("openstack-api-version")
    if modern:
        for item in modern.split(","):
            service, _, value = item.strip().partition(" ")
            if service.lower() == "compute":
                return value.strip()
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
