"""The exchange as a part of a running exchange operator (a landlord of the topology)."""

from __future__ import annotations

from starlette.types import ASGIApp

from ocx.exchange.app import build
from ocx.exchange.service import ExchangeService
from ocx.exchange.settings import ExchangeSettings
from ocx.landlord import Landlord


class ExchangePart:
    def __init__(self, service: ExchangeService):
        self.service = service
        self.app: ASGIApp = build(service)

    @classmethod
    def for_landlord(cls, landlord: Landlord) -> ExchangePart:
        settings = ExchangeSettings(
            landlord=landlord.name,
            public_url=landlord.base_urls["exchange"],
            database_url=landlord.database("exchange"),
            verifier=landlord.verifier(),
        )
        return cls(ExchangeService(settings))

    async def start(self) -> None:
        await self.service.start()

    async def stop(self) -> None:
        await self.service.stop()
