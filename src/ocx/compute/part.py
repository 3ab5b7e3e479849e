"""The compute service as a part of a running exchange."""

from __future__ import annotations

from starlette.types import ASGIApp

from ocx.common.market import Gate
from ocx.compute import market
from ocx.compute.app import build
from ocx.compute.service import ComputeService
from ocx.compute.settings import DEFAULT_QUOTAS, ComputeOptions, ComputeSettings
from ocx.landlord import Landlord


class ComputePart:
    def __init__(self, service: ComputeService):
        self.service = service
        self.app: ASGIApp = build(service)

    @classmethod
    def for_landlord(cls, landlord: Landlord) -> ComputePart:
        options = landlord.config.part_options("compute")
        assert isinstance(options, ComputeOptions)
        settings = ComputeSettings(
            landlord=landlord.name,
            public_url=landlord.base_urls["compute"],
            database_url=landlord.database("compute"),
            data_dir=landlord.data_dir,
            region=landlord.topology.exchange.region,
            verifier=landlord.verifier(),
            image_url=landlord.base_urls.get("image"),
            volume_url=landlord.base_urls["volume"] + "/v3"
            if "volume" in landlord.base_urls
            else None,
            host_ip=landlord.topology.exchange.host,
            volume_landlords={
                name: url
                for name in landlord.peers
                if name != landlord.name and (url := landlord.peer_url(name, "volume"))
            },
            image_landlords={
                name: url
                for name in landlord.peers
                if name != landlord.name and (url := landlord.peer_url(name, "image"))
            },
            hosts=options.hosts,
            flavors=options.flavors,
            quotas={**DEFAULT_QUOTAS, **options.quotas},
            timings=options.timings,
        )
        service = ComputeService(settings)
        link = landlord.market_link()
        if link is not None:  # admission, quotas, stops at expiry and metering by grants
            service.market_gate = Gate(link, "compute")
            market.gate(service, service.market_gate)
        return cls(service)

    async def start(self) -> None:
        await self.service.start()
        if self.service.market_gate is not None:
            self.service.market_gate.start()

    async def stop(self) -> None:
        if self.service.market_gate is not None:
            await self.service.market_gate.stop()
        await self.service.stop()
