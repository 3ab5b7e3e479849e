"""The object-storage ASGI application of one landlord."""

from __future__ import annotations

from fastapi import FastAPI

from ocx.common.app import create_app
from ocx.common.errors import Family
from ocx.object.routes import routes
from ocx.object.service import ObjectService


def build(service: ObjectService) -> FastAPI:
    """The app; the caller starts and stops ``service`` (so several apps can share a loop)."""
    return create_app(
        name=f"object:{service.settings.landlord}",
        family=Family.SWIFT,
        routes=routes(),
        service=service,
    )
