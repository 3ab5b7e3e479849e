"""Object storage as a part of a running exchange."""

from __future__ import annotations

from starlette.types import ASGIApp

from ocx.common.market import Gate
from ocx.landlord import Landlord
from ocx.object import market
from ocx.object.app import build_app
from ocx.object.service import ObjectService
from ocx.object.settings import ObjectSettings


class ObjectPart:
    def __init__(self, service: ObjectService, traffic: market.Traffic | None = None):
        self.service = service
        self.app: ASGIApp = build_app(service)
        if traffic is not None:  # requests and bytes out, metered for the exchange
            traffic.app = self.app
            self.app = traffic

    @classmethod
    def for_landlord(cls, landlord: Landlord) -> ObjectPart:
        settings = ObjectSettings(
            landlord=landlord.name,
            public_url=landlord.url("object"),
            database_url=landlord.database("object"),
            data_dir=landlord.data_dir,
            region=landlord.topology.exchange.region,
            verifier=landlord.verifier(),
            staff_domain=landlord.config.operator_domain,
        )
        service = ObjectService(settings)
        link = landlord.market_link()
        traffic = None
        if link is not None:  # admission and metering by the exchange's grants
            service.market_gate = Gate(link, "object-store")
            traffic = market.Traffic()
            market.gate(service, service.market_gate, traffic)
        return cls(service, traffic)

    async def start(self) -> None:
        await self.service.start()
        if self.service.market_gate is not None:
            self.service.market_gate.start()

    async def stop(self) -> None:
        if self.service.market_gate is not None:
            await self.service.market_gate.stop()
        await self.service.stop()
