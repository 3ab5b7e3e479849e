"""Straight to a handler: the requests a part serves most, past the framework's layers.

For a small request the framework's layers (its middleware, the route table tried entry by
entry) cost about as much as the work itself. :class:`DirectApp` sends the requests its
``route`` names straight to their handler, through the same request context (request ids,
access log) and the same error renderers as every other request; everything else goes
through the FastAPI app as before. The object store sends object GET, HEAD and PUT this
way, the proxy every object request.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable

from fastapi import FastAPI
from starlette.datastructures import State
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from ocx.common.logs import RequestContext

ErrorHandler = Callable[[Request, Exception], Response | Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]
# (method, path) -> the handler and its path parameters, or None: the framework's route table
Route = Callable[[str, str], tuple[Endpoint, dict[str, str]] | None]


class DirectApp:
    """A part's app: what ``route`` names straight to its handler, the rest to ``app``."""

    def __init__(self, app: FastAPI, name: str, route: Route):
        self.app = app
        self.state: State = app.state  # what servers read of an app (the fault family)
        self._route = route
        self._direct = RequestContext(self._handle, service=name, swift=True)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = None
        if scope["type"] == "http" and not scope.get("root_path"):
            found = self._route(scope["method"], scope["path"])
        if found is None:
            await self.app(scope, receive, send)
            return
        scope["app"] = self.app
        scope["endpoint"], scope["path_params"] = found
        await self._direct(scope, receive, send)

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
