"""The identity ASGI application of one landlord."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from ocx.common.app import create_app
from ocx.common.errors import Family
from ocx.identity.oidc.api import on_oauth_error
from ocx.identity.oidc.errors import OAuthError
from ocx.identity.routes import routes
from ocx.identity.service import IdentityService


def build(service: IdentityService) -> FastAPI:
    """The app; the caller starts and stops ``service`` (so several apps can share a loop)."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield

    return create_app(
        name=f"identity:{service.settings.landlord}",
        family=Family.KEYSTONE,
        routes=routes(),
        lifespan=lifespan,
        service=service,
        handlers={OAuthError: on_oauth_error},
    )
