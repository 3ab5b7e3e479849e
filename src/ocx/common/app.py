"""The app factory every OCX part is built with.

The middleware pipeline is the list in :func:`create_app`, in order. Errors from the one
tree in :mod:`ocx.common.errors` (and the framework's own 404/405/422, and a client that went
away mid-request) are rendered here, in the fault format of the part's API family, so handlers
only ``raise``. A part whose endpoints speak another error format too (identity's OAuth
endpoints) passes its own renderers in ``handlers``. The part's service is always at
``app.state.service``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

import sqlalchemy.exc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect
from starlette.responses import Response
from starlette.routing import BaseRoute

from ocx.common import errors
from ocx.common.bodies import CLIENT_GONE, MAX_BODY, BodyLimits
from ocx.common.logs import RequestContext

log = logging.getLogger("ocx.app")

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]
Handler = Callable[[Request, Exception], Awaitable[Response]]


def create_app(
    *,
    name: str,
    family: errors.Family,
    routes: Sequence[BaseRoute],
    service: Any,
    lifespan: Lifespan | None = None,
    max_body: int = MAX_BODY,
    handlers: Mapping[type[Exception], Handler] | None = None,
) -> FastAPI:
    """The ASGI app of one part; ``name`` (``object:harvard``) is what its logs call it."""
    middleware = [
        Middleware(RequestContext, service=name, swift=family is errors.Family.SWIFT),
    ]
    if family is not errors.Family.SWIFT:  # Swift bodies are data, streamed by the part itself
        middleware.append(Middleware(BodyLimits, family=family, max_body=max_body))

    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": name}

    app = FastAPI(
        title=f"OCX {name}",
        routes=[*routes, APIRoute("/healthz", healthz, methods=["GET"], include_in_schema=False)],
        middleware=middleware,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json" if family is errors.Family.OCX else None,
    )
    app.state.service = service
    app.state.family = family
    _install_error_handlers(app, family)
    for exc_class, handler in (handlers or {}).items():
        app.add_exception_handler(exc_class, handler)
    return app


def error_response(error: errors.OCXError, family: errors.Family) -> Response:
    status, headers, body = errors.render(error, family)
    return Response(body, status_code=status, headers=headers)


def _install_error_handlers(app: FastAPI, family: errors.Family) -> None:
    async def on_ocx_error(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, errors.OCXError)
        return error_response(exc, family)

    async def on_http_error(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        message = exc.detail if isinstance(exc.detail, str) else None
        if exc.status_code == 404:
            message = "The resource could not be found."
        return error_response(errors.from_status(exc.status_code, message), family)

    async def on_validation_error(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return error_response(errors.ValidationError(describe_validation(exc)), family)

    async def on_client_gone(request: Request, _exc: Exception) -> Response:
        # Nobody is left to read an answer; the access log says 499, not a 500.
        log.info("client went away on %s %s", request.method, request.url.path)
        request.scope.setdefault("state", {})["client_gone"] = True
        return Response(status_code=CLIENT_GONE)

    async def on_busy(request: Request, _exc: Exception) -> Response:
        # Every database connection stayed busy for the pool's whole timeout: overload, not
        # a bug; the client may try again.
        log.warning("no database connection free for %s %s", request.method, request.url.path)
        busy = errors.ServiceUnavailable(
            "The service is too busy to answer now; try again shortly.",
            headers={"Retry-After": "1"},
        )
        return error_response(busy, family)

    async def on_bug(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        message = "The server hit an internal error and could not complete the request."
        return error_response(errors.OCXError(message), family)

    app.add_exception_handler(errors.OCXError, on_ocx_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(ClientDisconnect, on_client_gone)
    app.add_exception_handler(sqlalchemy.exc.TimeoutError, on_busy)
    app.add_exception_handler(Exception, on_bug)


def describe_validation(exc: RequestValidationError) -> str:
    """One readable sentence from pydantic's error list (the first problem is enough)."""
    problems = []
    for err in exc.errors()[:3]:
        where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body",))
        problems.append(f"{where}: {err.get('msg', 'invalid')}" if where else err.get("msg", ""))
    return "Invalid input for request: " + "; ".join(problems)
