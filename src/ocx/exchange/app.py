"""The exchange's ASGI application."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ocx.common import errors
from ocx.common.app import create_app, error_response
from ocx.exchange.routes import routes
from ocx.exchange.service import ExchangeService
from ocx.exchange.signing import MAX_STATEMENT_BYTES

MAX_BODY = MAX_STATEMENT_BYTES + 64 * 1024


class BodyLimit:
    """Refuse request bodies over ``limit`` bytes, whether or not they declare a length."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY):
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise errors.RequestEntityTooLarge(self._text())
            return message

        await self.app(scope, counted, send)

    def _text(self) -> str:
        return f"The request body is larger than {self.limit} bytes."

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(errors.RequestEntityTooLarge(self._text()), errors.Family.OCX)
        await response(scope, receive, send)


def build(service: ExchangeService) -> FastAPI:
    """The app; the caller starts and stops ``service``."""
    app = create_app(
        service=f"exchange:{service.settings.landlord}",
        family=errors.Family.OCX,
        routes=routes(),
        state={"exchange": service},
    )
    app.title = "OCX exchange"
    app.add_middleware(BodyLimit)
    return app
