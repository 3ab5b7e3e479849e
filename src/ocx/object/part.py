"""Object storage as a part of a running exchange."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.types import ASGIApp

from ocx.object.app import build
from ocx.object.service import ObjectService
from ocx.object.settings import ObjectSettings

if TYPE_CHECKING:
    from ocx.runner import Landlord


class ObjectPart:
    def __init__(self, service: ObjectService):
        self.service = service
        self.app: ASGIApp = build(service)

    @classmethod
    def for_landlord(cls, landlord: Landlord) -> ObjectPart:
        settings = ObjectSettings(
            landlord=landlord.name,
            public_url=landlord.base_urls["object"],
            database_url=landlord.database("object"),
            data_dir=landlord.data_dir,
            region=landlord.topology.exchange.region,
            verifier=landlord.verifier(),
        )
        return cls(ObjectService(settings))

    async def start(self) -> None:
        await self.service.start()

    async def stop(self) -> None:
        await self.service.stop()
