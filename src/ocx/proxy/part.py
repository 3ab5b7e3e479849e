"""The proxy as a part of a running exchange (run by a landlord that is an identity provider)."""

from __future__ import annotations

from collections.abc import Iterable

from starlette.types import ASGIApp

from ocx.common.app import create_app
from ocx.common.direct import DirectApp
from ocx.common.errors import Family
from ocx.landlord import CatalogEndpoint, Landlord
from ocx.proxy.routes import direct, routes
from ocx.proxy.service import ProxyService
from ocx.proxy.settings import ProxySettings


def build(service: ProxyService) -> DirectApp:
    """The app, object requests straight to their handler; the caller starts and stops
    ``service``."""
    name = f"proxy:{service.settings.landlord}"
    app = create_app(name=name, family=Family.SWIFT, routes=routes(), service=service)
    return DirectApp(app, name, direct)


def settings_for(landlord: Landlord) -> ProxySettings:
    options = landlord.config.part_options("proxy")
    market = landlord.market_link()
    return ProxySettings(
        placement=options.placement,
        read_timeout=options.read_timeout,
        exchange_url=None if market is None else market.exchange_url,
        landlord=landlord.name,
        public_url=landlord.base_urls["proxy"],
        verifier=landlord.verifier(),
        identity_url=landlord.identity_url,
        proxy_id=f"{landlord.name}-proxy",
        home_object_url=landlord.base_urls.get("object"),
        # The landlord's own services: in the exchange's region (region None), not the proxy's.
        home_endpoints={e.type: e.url for e in landlord.catalog() if e.region is None},
        peer_endpoints=_by_type(landlord.admitting_catalog()),
    )


def _by_type(entries: Iterable[CatalogEndpoint]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for entry in entries:
        found.setdefault(entry.type, []).append(entry.url)
    return found


class ProxyPart:
    def __init__(self, service: ProxyService):
        self.service = service
        self.app: ASGIApp = build(service)

    @classmethod
    def for_landlord(cls, landlord: Landlord) -> ProxyPart:
        return cls(ProxyService(settings_for(landlord)))

    async def start(self) -> None:
        await self.service.start()

    async def stop(self) -> None:
        await self.service.stop()
