"""The exchange's ASGI application."""

from __future__ import annotations

from fastapi import FastAPI

from ocx.common import errors
from ocx.common.app import create_app
from ocx.exchange.routes import routes
from ocx.exchange.service import ExchangeService
from ocx.exchange.signing import MAX_STATEMENT_BYTES

# A signed usage batch is the largest body: the statement plus its JSON wrapping.
MAX_BODY = MAX_STATEMENT_BYTES + 64 * 1024


def build(service: ExchangeService) -> FastAPI:
    """The app; the caller starts and stops ``service``."""
    app = create_app(
        name=f"exchange:{service.settings.landlord}",
        family=errors.Family.OCX,
        routes=routes(),
        service=service,
        max_body=MAX_BODY,
    )
    app.title = "OCX exchange"
    return app
