"""Block storage as a part of a running exchange."""

from __future__ import annotations

from starlette.types import ASGIApp

from ocx.landlord import Landlord
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
        return cls(VolumeService(settings_for(landlord)))

    async def start(self) -> None:
        await self.service.start()

    async def stop(self) -> None:
        await self.service.stop()
