"""Object storage as a part of a running exchange."""

from __future__ import annotations

from starlette.types import ASGIApp

from ocx.landlord import Landlord
from ocx.object.app import build as build_app
from ocx.object.service import ObjectService
from ocx.object.settings import ObjectSettings


class ObjectPart:
    def __init__(self, service: ObjectService):
        self.service = service
        self.app: ASGIApp = build_app(service)

    @classmethod
    def for_landlord(cls, landlord: Landlord) -> ObjectPart:
        settings = ObjectSettings(
            landlord=landlord.name,
            public_url=landlord.url("object"),
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
