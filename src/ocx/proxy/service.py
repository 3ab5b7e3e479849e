"""The proxy service: its settings, token verifier, outbound clients and caches."""

from __future__ import annotations

import logging
import time
from typing import Any

import httpx

from ocx.clients.k2k import Federation
from ocx.common import errors
from ocx.common.auth import Principal, TokenVerifier
from ocx.proxy.cache import Flights, TtlCache
from ocx.proxy.landlords import Caller, LandlordSource, SignIn, TokenLandlords, digest_of
from ocx.proxy.lanes import Lanes
from ocx.proxy.pages import Pages
from ocx.proxy.placement import NoPrices, Prices
from ocx.proxy.routing import RoutingCache
from ocx.proxy.settings import ProxySettings
from ocx.proxy.tokens import Translator
from ocx.proxy.upstream import Upstream
from ocx.proxy.wire import Pool

log = logging.getLogger("ocx.proxy")


class ProxyService:
    def __init__(
        self,
        settings: ProxySettings,
        *,
        source: LandlordSource | None = None,
        prices: Prices | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ):
        self.settings = settings
        self.verifier = TokenVerifier(
            identity_url=settings.verifier.identity_url,
            issuer=settings.verifier.identity_url,
            audience=settings.verifier.audience,
            revocation_interval=settings.verifier.revocation_interval,
        )
        self.data = Pool(
            settings.connect_timeout,
            settings.read_timeout,
            settings.max_idle_connections,
            settings.answer_timeout,
        )
        self.identity = httpx.AsyncClient(transport=transport, timeout=settings.federation_timeout)
        self.upstream = Upstream(self.data)
        self.source: LandlordSource = source or TokenLandlords(
            self.identity,
            settings.identity_url,
            settings.landlord,
            settings.landlords_ttl,
            settings.token_cache_size,
        )
        self.translator = Translator(Federation(self.identity, settings.identity_url), settings)
        self.routes = RoutingCache(settings.route_ttl, settings.route_cache_size)
        # Looks for an uncached container under way, shared by the caller's concurrent
        # requests for it (keyed by home token digest, service, name and hops).
        self.finding: Flights[tuple[str, ...], Any] = Flights()
        self.prices: Prices = prices or NoPrices()
        self.verified: TtlCache[str, Caller] = TtlCache(settings.token_cache_size)
        # Each token's sign-in while it lives, so a token refused later (revoked) drops what
        # its sign-in holds even after its verification is no longer remembered.
        self.sign_ins: TtlCache[str, SignIn] = TtlCache(settings.token_cache_size)
        # The OpenStack layers' caches: where a listing goes on after a page's last id (for
        # clients that page by id), the landlords' version documents, and the endpoints of
        # each API seen lately (for version documents asked for without a token).
        self.markers: TtlCache[tuple[object, ...], str] = TtlCache(settings.route_cache_size)
        self.pages = Pages(settings.page_ttl, settings.page_cache_size)
        self.lanes = Lanes(settings.max_in_flight, settings.read_timeout)
        self.version_docs: TtlCache[str, tuple[int, dict[str, Any]]] = TtlCache(1000)
        self.known_endpoints: dict[str, list[str]] = {}

    async def caller(self, token: str) -> Caller:
        """The verified caller of ``token`` (401 if it is not good here).

        A verification is remembered for the verifier's revocation interval, the staleness
        the verifier's own revocation list already has, so a revoked token is refused within
        two intervals, and its signature is not checked again on every request.
        """
        digest = digest_of(token)
        known = self.verified.get(digest)
        if known is not None:
            return known
        try:
            principal = await self.verifier.verify(token)
        except errors.Unauthorized:
            if token:
                self.forget_token(digest)
            raise
        found = Caller(principal, token, digest)
        interval = self.settings.verifier.revocation_interval
        self.verified.put(digest, found, min(principal.expires_at, time.time() + interval))
        self.sign_ins.put(digest, found.sign_in, principal.expires_at)
        return found

    async def verify(self, token: str | None) -> Principal:
        return (await self.caller(token or "")).principal

    def forget_token(self, digest: str) -> None:
        """The home token was refused: drop everything got for its sign-in."""
        self.verified.pop(digest)
        sign_in = self.sign_ins.pop(digest)
        if sign_in is None:
            return
        self.translator.forget(sign_in)
        if isinstance(self.source, TokenLandlords):
            self.source.forget(sign_in)

    async def start(self) -> None:
        log.info("proxy of %s ready at %s", self.settings.landlord, self.settings.public_url)

    async def stop(self) -> None:
        await self.data.aclose()
        await self.identity.aclose()
        await self.verifier.aclose()
