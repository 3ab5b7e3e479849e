"""Block storage as a part of a running exchange."""

from __future__ import annotations

from starlette.types import ASGIApp

from ocx.common.market import Gate
from ocx.landlord import Landlord
from ocx.volume import market
from ocx.volume.app import build
from ocx.volume.service import VolumeService
from ocx.volume.settings import TypeSeed, VolumeSettings


def settings_for(landlord: Landlord) -> VolumeSettings:
    host = landlord.topology.exchange.host
    return VolumeSettings(
        landlord=landlord.name,
        public_url=landlord.base_urls["volume"],
        database_url=landlord.database("volume"),
        data_dir=landlord.data_dir,
        region=landlord.topology.exchange.region,
        verifier=landlord.verifier(),
        data_host=host,
        image_url=landlord.base_urls.get("image"),
        # The landlord's offer: an SSD type on a backend it names itself.
        types=(
            TypeSeed(
                name="ssd",
                description=f"SSD-backed volumes at {landlord.name}",
                extra_specs={"volume_backend_name": f"{landlord.name}-ssd"},
            ),
        ),
    )


class VolumePart:
    def __init__(self, service: VolumeService):
        self.service = service
        self.app: ASGIApp = build(service)

    @classmethod
    def for_landlord(cls, landlord: Landlord) -> VolumePart:
        service = VolumeService(settings_for(landlord))
        link = landlord.market_link()
        if link is not None:  # admission, quotas and metering by the exchange's grants
            service.market_gate = Gate(link, "volume")
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
