"""The compute service as a part of a running exchange."""

from __future__ import annotations

from starlette.types import ASGIApp

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
            hosts=options.hosts,
            flavors=options.flavors,
            quotas={**DEFAULT_QUOTAS, **options.quotas},
            timings=options.timings,
        )
        return cls(ComputeService(settings))

    async def start(self) -> None:
        await self.service.start()

    async def stop(self) -> None:
        await self.service.stop()
