"""Token translation: the customer's home token in, a token at each of their landlords out.

At the home landlord the customer's own token is used as is (it is that landlord's audience).
At a K2K service provider the proxy federates with the home token (:mod:`ocx.clients.k2k`) and
caches the result per sign-in (:attr:`~ocx.proxy.landlords.Caller.sign_in`: user, scope,
roles, audit chain and expiry, what a K2K assertion follows from), never longer than the home
token lives (less a margin): a token re-issued from another of the same sign-in (Horizon gets
new ones on every page) reuses the translation, and another user's token, another scope or
another sign-in never does. Every request's home token is verified first (signature, expiry,
revocation list), so an expired or revoked token reaches no cached translation, and a token
found revoked drops what its sign-in holds. A landlord where the customer has nothing is
remembered as such for a while.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from ocx.clients.k2k import Federation
from ocx.proxy.cache import Flights, TtlCache
from ocx.proxy.errors import Absent, Unreachable
from ocx.proxy.landlords import OBJECT_STORE, Caller, Candidate, SignIn
from ocx.proxy.settings import ProxySettings
from ocx.proxy.silence import within


@dataclass(frozen=True)
class Backend:
    """One landlord as the proxy reaches it for one customer: its URLs and the token.

    ``storage_url`` is the customer's object-store account there ("" if it has none);
    ``endpoints`` every service of the landlord by catalog type.
    """

    landlord: str
    rank: int
    storage_url: str
    token: str | None
    expires_at: float
    home: bool = False
    endpoints: Mapping[str, str] = field(default_factory=dict)

    def url(self, service: str) -> str | None:
        """The landlord's endpoint for a catalog type, None when it does not run it."""
        if service == OBJECT_STORE:
            return self.storage_url or None
        return self.endpoints.get(service)


Key = tuple[SignIn, str]  # (the home token's sign-in, landlord)


class Translator:
    def __init__(self, federation: Federation, settings: ProxySettings):
        self.federation = federation
        self.settings = settings
        self._cache: TtlCache[Key, Backend | Absent | Unreachable] = TtlCache(
            settings.token_cache_size
        )
        self._flights: Flights[Key, Backend] = Flights()
        # Federations under way at once: each is four calls and a SAML assertion signed at
        # home, and seventy begun together (a token's first listing over 100 landlords) all
        # missed federation_timeout on two loaded cores, were retried and missed it again.
        # Queued, each gets its federation_timeout once it starts.
        self._federating = asyncio.Semaphore(settings.max_federations)
        self._turns: dict[Key, float] = {}  # federations under way: since when (monotonic)
        # The same backends by whose they are: (user id, home project, landlord) -> Backend,
        # for requests without a token (temp URLs) that must read the account's keys there.
        self._by_account: TtlCache[tuple[str, str, str], Backend] = TtlCache(
            settings.token_cache_size
        )

    async def backend(self, caller: Caller, candidate: Candidate) -> Backend:
        """The landlord's backend for this caller; raises Absent or Unreachable."""
        url = candidate.storage_url or ""
        if candidate.kind == "home":
            expires = caller.principal.expires_at
            urls = candidate.urls()
            return Backend(candidate.name, candidate.rank, url, caller.token, expires, True, urls)
        if candidate.kind == "direct":
            token = candidate.token
            urls = candidate.urls()
            return Backend(candidate.name, candidate.rank, url, token, math.inf, False, urls)
        key = (caller.sign_in, candidate.name)
        hit = self._cache.get(key)
        if isinstance(hit, (Absent, Unreachable)):
            raise hit
        if hit is not None:
            return hit
        return await self._flights.run(key, lambda: self._federate(key, caller, candidate))

    def reached(self, caller: Caller, candidate: Candidate) -> bool:
        """Whether the caller's account holds a live token at this landlord (home and direct
        always do): only a landlord reached can hold something the caller made through the
        proxy. By account, not by token: a client that signs in anew (the swift CLI does for
        each command) may have made its container there with the token before."""
        if candidate.kind != "federated":
            return True
        if isinstance(self._cache.get((caller.sign_in, candidate.name)), Backend):
            return True
        user, project = caller.account_key
        return self._by_account.get((user, project, candidate.name)) is not None

    def federating_since(self, caller: Caller, candidate: Candidate) -> float | None:
        """When the caller's federation with the landlord began (had its turn); None when
        none is under way, or it waits for its turn (``max_federations``)."""
        return self._turns.get((caller.sign_in, candidate.name))

    async def _federate(self, key: Key, caller: Caller, candidate: Candidate) -> Backend:
        assert candidate.sp is not None
        limit = self.settings.federation_timeout
        try:
            async with self._federating:
                self._turns[key] = time.monotonic()
                remote = await within(self.federation.token_at(caller.token, candidate.sp), limit)
        except Absent as exc:
            self._cache.put(key, exc, self._cache.clock() + self.settings.absent_ttl)
            raise
        except TimeoutError:
            failed = Unreachable(candidate.name, f"federation timed out after {limit:g}s")
            self._cache.put(key, failed, self._cache.clock() + self.settings.unreachable_ttl)
            raise failed from None
        except Unreachable as exc:
            # A silent identity would otherwise cost every request of the customer its wait.
            self._cache.put(key, exc, self._cache.clock() + self.settings.unreachable_ttl)
            raise
        finally:
            self._turns.pop(key, None)
        expires = min(remote.expires_at, caller.principal.expires_at)
        found = Backend(
            candidate.name,
            candidate.rank,
            remote.storage_url,
            remote.token,
            expires,
            endpoints=remote.endpoints,
        )
        self._cache.put(key, found, expires - self.settings.token_margin)
        user, project = caller.account_key
        self._by_account.put(
            (user, project, candidate.name), found, expires - self.settings.token_margin
        )
        return found

    def held(self, project: str) -> list[tuple[str, Backend]]:
        """Live backends got for users of this home project at other landlords: (user id,
        backend), while the customer's token lives (they came through the proxy)."""
        return [(user, b) for (user, of, _), b in self._by_account.live() if of == project]

    def forget(self, sign_in: SignIn) -> None:
        """Drop every remote token got for this sign-in (a token of it was refused)."""
        dropped = self._cache.pop_where(lambda key: key[0] == sign_in)
        tokens = {b.token for b in dropped if isinstance(b, Backend)}
        self._by_account.pop_values_where(lambda backend: backend.token in tokens)
