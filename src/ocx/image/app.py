"""The image ASGI application of one landlord."""

from __future__ import annotations

from fastapi import FastAPI

from ocx.common.app import create_app
from ocx.common.errors import Family
from ocx.image.routes import routes
from ocx.image.service import ImageService


def build(service: ImageService) -> FastAPI:
    """The app; the caller starts and stops ``service``. Faults are Glance's HTML pages."""
    app = create_app(
        name=f"image:{service.settings.landlord}",
        family=Family.SWIFT,
        routes=routes(),
        service=service,
    )
    return app
