"""Identity as a part of a running exchange."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.types import ASGIApp

from ocx.identity.app import build
from ocx.identity.passwords import HashCost
from ocx.identity.service import IdentityService
from ocx.identity.settings import CatalogEntry, IdentitySettings
from ocx.topology import CATALOG_ALIASES, CATALOG_TYPES

if TYPE_CHECKING:
    from ocx.runner import Landlord


class IdentityPart:
    def __init__(self, service: IdentityService):
        self.service = service
        self.app: ASGIApp = build(service)

    @classmethod
    def for_landlord(cls, landlord: Landlord) -> IdentityPart:
        exchange = landlord.topology.exchange
        cost = exchange.password_hash
        catalog = tuple(
            CatalogEntry(
                type=CATALOG_TYPES[part][0],
                name=CATALOG_TYPES[part][1],
                region=CATALOG_TYPES[part][2],
                url=landlord.catalog_url(part),
            )
            for part in landlord.config.parts
        ) + tuple(
            CatalogEntry(type=kind, name=name, url=landlord.catalog_url(part))
            for part in landlord.config.parts
            for kind, name in CATALOG_ALIASES.get(part, ())
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
            hash_cost=HashCost(cost.time_cost, cost.memory_kib, cost.parallelism),
        )
        return cls(IdentityService(settings))

    async def start(self) -> None:
        await self.service.start()

    async def stop(self) -> None:
        await self.service.stop()
