"""The object-storage ASGI application of one landlord.

Object GETs, HEADs and PUTs are most of what an object store serves, and for a small object
the framework's layers (its middleware, the route table tried entry by entry) cost about as
much as the read or write itself. :class:`ObjectApp` sends them straight to their handler,
through the same request context (request ids, access log) and the same error renderers as
every other request; everything else goes through the FastAPI app as before.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable

from fastapi import FastAPI
from starlette.datastructures import State
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import compile_path
from starlette.types import Message, Receive, Scope, Send

from ocx.common.app import create_app
from ocx.common.errors import Family
from ocx.common.logs import RequestContext
from ocx.object.api import objects, uploads
from ocx.object.routes import OBJECT, routes
from ocx.object.service import ObjectService

# The route table's own pattern for objects. The account and container routes come before it
# in the table; of what it matches, they take only the paths with an empty object name.
OBJECT_PATH = compile_path(OBJECT)[0]

ErrorHandler = Callable[[Request, Exception], Response | Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]


def direct(method: str) -> Endpoint | None:
    """The handler an object request of ``method`` goes straight to; None: the framework's
    route table (the same handler there, for these)."""
    if method in ("GET", "HEAD"):
        return objects.get
    if method == "PUT":
        return uploads.put
    return None


def build(service: ObjectService) -> FastAPI:
    """The app; the caller starts and stops ``service`` (so several apps can share a loop)."""
    return create_app(
        name=f"object:{service.settings.landlord}",
        family=Family.SWIFT,
        routes=routes(),
        service=service,
    )


class ObjectApp:
    """The part's app: object GET, HEAD and PUT straight to their handlers (:func:`direct`),
    the rest to ``app`` (the FastAPI app of :func:`build`)."""

    def __init__(self, app: FastAPI, name: str):
        self.app = app
        self.state: State = app.state  # what servers read of an app (the fault family)
        self._direct = RequestContext(self._handle, service=name, swift=True)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        endpoint = direct(scope["method"]) if scope["type"] == "http" else None
        if endpoint is not None and not scope.get("root_path"):
            match = OBJECT_PATH.match(scope["path"])
            if match is not None and match["obj"]:
                scope["app"] = self.app
                scope["endpoint"] = endpoint
                scope["path_params"] = match.groupdict()
                await self._direct(scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        endpoint: Endpoint = scope["endpoint"]
        request = Request(scope, receive)
        started = False

        async def sender(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            response = await endpoint(request)
            await response(scope, receive, sender)
        except Exception as exc:
            handler = self._handler(exc)
            if handler is None or started:  # nothing to render, or too late to: as FastAPI
                raise
            answer = handler(request, exc)
            if inspect.isawaitable(answer):
                answer = await answer
            await answer(scope, receive, sender)

    def _handler(self, exc: Exception) -> ErrorHandler | None:
        """The app's renderer for ``exc``: the one registered for its nearest class."""
        handlers = self.app.exception_handlers
        for cls in type(exc).__mro__:
            if cls in handlers:
                handler: ErrorHandler = handlers[cls]
                return handler
        return None


def build_app(service: ObjectService) -> ObjectApp:
    return ObjectApp(build(service), f"object:{service.settings.landlord}")
