"""Identity as a part of a running exchange."""

from __future__ import annotations

from starlette.types import ASGIApp

from ocx.identity.app import build as build_app
from ocx.identity.passwords import HashCost
from ocx.identity.service import IdentityService
from ocx.identity.settings import CatalogEntry, IdentitySettings
from ocx.landlord import Landlord


class IdentityPart:
    def __init__(self, service: IdentityService):
        self.service = service
        self.app: ASGIApp = build_app(service)

    @classmethod
    def for_landlord(cls, landlord: Landlord) -> IdentityPart:
        exchange = landlord.topology.exchange
        cost = exchange.password_hash
        catalog = tuple(
            CatalogEntry(type=e.type, name=e.name, region=e.region, url=e.url)
            for e in landlord.catalog()
        )
        settings = IdentitySettings(
            landlord=landlord.name,
            public_url=landlord.identity_url,
            database_url=landlord.database("identity"),
            data_dir=landlord.data_dir,
            region=exchange.region,
            token_ttl=exchange.token_ttl,
            admin_password=landlord.admin_password,
            operator_domain=landlord.config.operator_domain,
            catalog=catalog,
            trusted_dashboards=trusted_dashboards(landlord),
            hash_cost=HashCost(cost.time_cost, cost.memory_kib, cost.parallelism),
        )
        return cls(IdentityService(settings))

    async def start(self) -> None:
        await self.service.start()

    async def stop(self) -> None:
        await self.service.stop()


def trusted_dashboards(landlord: Landlord) -> tuple[str, ...]:
    """The landlord's own dashboard, if it runs one: where WebSSO may post its tokens."""
    if "dashboard" not in landlord.config.parts:
        return ()
    return (landlord.url("dashboard") + "/auth/websso/",)
