"""The compute ASGI application of one landlord: Nova's routes behind its microversions."""

from __future__ import annotations

from starlette.types import ASGIApp

from ocx.common.app import create_app
from ocx.common.errors import Family
from ocx.compute.microversion import Microversions
from ocx.compute.routes import routes
from ocx.compute.service import ComputeService


def build(service: ComputeService) -> ASGIApp:
    """The app; the caller starts and stops ``service``."""
    app = create_app(
        name=f"compute:{service.settings.landlord}",
        family=Family.NOVA,
        routes=routes(),
        service=service,
    )
    return Microversions(app)
