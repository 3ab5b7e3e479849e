"""The proxy's URL table: the Swift v1 paths of one combined account, to handlers.

HEAD routes come before GET ones (a GET route would answer HEAD too). Every handler gets a
verified :class:`~ocx.proxy.api.context.Call`; a request without a token goes to the home
landlord as it is (:mod:`ocx.proxy.api.anonymous`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, compile_path

from ocx.common.auth import token_of
from ocx.common.direct import Endpoint
from ocx.proxy.api import account, anonymous, container, info, objects
from ocx.proxy.api.context import Call, begin
from ocx.proxy.openstack import routes as openstack
from ocx.swift.info import healthcheck

ACCOUNT = ("/v1/{account}", "/v1/{account}/")
CONTAINER = ("/v1/{account}/{container}", "/v1/{account}/{container}/")
OBJECT = ("/v1/{account}/{container}/{obj:path}",)
OBJECT_METHODS = ("HEAD", "GET", "PUT", "POST", "DELETE", "COPY")

Handler = Callable[[Call], Awaitable[Response]]


def endpoint(handler: Handler) -> Endpoint:
    async def run(request: Request) -> Response:
        if token_of(request) is None:
            return await anonymous.relay(request)
        return await handler(await begin(request))

    return run


OBJECT_PATH = compile_path(OBJECT[0])[0]
OBJECTS = endpoint(objects.handle)


def direct(method: str, path: str) -> tuple[Endpoint, dict[str, str]] | None:
    """Object requests, most of what the proxy serves, straight to their handler (the one the
    table below gives them first; :class:`ocx.common.direct.DirectApp`)."""
    match = OBJECT_PATH.match(path) if method in OBJECT_METHODS else None
    return None if match is None else (OBJECTS, match.groupdict())


def _on(paths: tuple[str, ...], handler: Handler, *methods: str) -> list[Route]:
    return [Route(p, endpoint(handler), methods=list(methods)) for p in paths]


def routes() -> list[BaseRoute]:
    # Objects first: most requests are theirs, and Starlette tries routes in order.
    return [
        Route(OBJECT[0], OBJECTS, methods=list(OBJECT_METHODS)),
        Route("/info", info.info, methods=["GET", "HEAD"]),
        Route("/healthcheck", healthcheck, methods=["GET", "HEAD"]),
        *_on(ACCOUNT, account.head, "HEAD"),
        *_on(ACCOUNT, account.get, "GET"),
        *_on(ACCOUNT, account.post, "POST"),
        *_on(ACCOUNT, account.put, "PUT"),
        *_on(ACCOUNT, account.delete, "DELETE"),
        *_on(CONTAINER, container.read, "HEAD"),
        *_on(CONTAINER, container.read, "GET"),
        *_on(CONTAINER, container.put, "PUT"),
        *_on(CONTAINER, container.post, "POST"),
        *_on(CONTAINER, container.delete, "DELETE"),
        *openstack.routes(),
    ]
