"""Token translation: the customer's home token in, a token at each of their landlords out.

At the home landlord the customer's own token is used as is (it is that landlord's audience).
At a K2K service provider the proxy federates with the home token (:mod:`ocx.proxy.k2k`) and
caches the result per home token, never longer than either token lives (less a margin), so
revoking or letting the home token expire ends the proxy's use of the remote ones: every
request's home token is verified first (revocation list included), and the cache is keyed by
that token. A landlord where the customer has nothing is remembered as such for a while.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass

from ocx.proxy.cache import Flights, TtlCache
from ocx.proxy.errors import Absent, Unreachable
from ocx.proxy.k2k import Federation
from ocx.proxy.landlords import Caller, Candidate
from ocx.proxy.settings import ProxySettings


@dataclass(frozen=True)
class Backend:
    """One landlord as the proxy reaches it for one customer: the account URL and the token."""

    landlord: str
    rank: int
    storage_url: str
    token: str | None
    expires_at: float
    home: bool = False


Key = tuple[str, str]  # (home token digest, landlord)


class Translator:
    def __init__(self, federation: Federation, settings: ProxySettings):
        self.federation = federation
        self.settings = settings
        self._cache: TtlCache[Key, Backend | Absent] = TtlCache(settings.token_cache_size)
        self._flights: Flights[Key, Backend] = Flights()

    async def backend(self, caller: Caller, candidate: Candidate) -> Backend:
        """The landlord's backend for this caller; raises Absent or Unreachable."""
        if candidate.kind == "home":
            url = candidate.storage_url or ""
            return Backend(
                candidate.name, candidate.rank, url, caller.token, caller.principal.expires_at, True
            )
        if candidate.kind == "direct":
            url = candidate.storage_url or ""
            return Backend(candidate.name, candidate.rank, url, candidate.token, math.inf)
        key = (caller.digest, candidate.name)
        hit = self._cache.get(key)
        if isinstance(hit, Absent):
            raise hit
        if hit is not None:
            return hit
        return await self._flights.run(key, lambda: self._federate(key, caller, candidate))

    async def _federate(self, key: Key, caller: Caller, candidate: Candidate) -> Backend:
        assert candidate.sp is not None
        limit = self.settings.federation_timeout
        try:
            async with asyncio.timeout(limit):
                remote = await self.federation.token_at(caller.token, candidate.sp)
        except Absent as exc:
            self._cache.put(key, exc, self._cache.clock() + self.settings.absent_ttl)
            raise
        except TimeoutError:
            raise Unreachable(candidate.name, f"federation timed out after {limit:g}s") from None
        expires = min(remote.expires_at, caller.principal.expires_at)
        found = Backend(candidate.name, candidate.rank, remote.storage_url, remote.token, expires)
        self._cache.put(key, found, expires - self.settings.token_margin)
        return found

    def forget(self, digest: str) -> None:
        """Drop every remote token got with this home token (it was revoked)."""
        self._cache.pop_where(lambda key: key[0] == digest)
