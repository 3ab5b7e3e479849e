"""The image service as a part of a running exchange."""

from __future__ import annotations

from starlette.types import ASGIApp

from ocx.image.app import build
from ocx.image.service import ImageService
from ocx.image.settings import ImageSettings
from ocx.landlord import Landlord


class ImagePart:
    def __init__(self, service: ImageService):
        self.service = service
        self.app: ASGIApp = build(service)

    @classmethod
    def for_landlord(cls, landlord: Landlord) -> ImagePart:
        settings = ImageSettings(
            landlord=landlord.name,
            public_url=landlord.url("image"),
            database_url=landlord.database("image"),
            data_dir=landlord.data_dir,
            region=landlord.topology.exchange.region,
            verifier=landlord.verifier(),
        )
        return cls(ImageService(settings))

    async def start(self) -> None:
        await self.service.start()

    async def stop(self) -> None:
        await self.service.stop()
