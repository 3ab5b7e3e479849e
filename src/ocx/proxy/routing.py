"""The routing cache: which landlord holds a customer's container (by its bare name).

Filled when the proxy finds or places a container; an entry is a hint, not the truth. A 404
from the landlord it names makes the proxy drop it and look again (see
:mod:`ocx.proxy.api.locate`); a container deleted through the proxy is dropped at once. An
entry also ends after ``route_ttl``, so a copy made elsewhere is noticed eventually.
"""

from __future__ import annotations

from ocx.proxy.cache import TtlCache

Account = tuple[str, str]  # (user id, home project id)


class RoutingCache:
    def __init__(self, ttl: float, size: int):
        self.ttl = ttl
        self._cache: TtlCache[tuple[Account, str], str] = TtlCache(size)

    def get(self, account: Account, container: str) -> str | None:
        return self._cache.get((account, container))

    def put(self, account: Account, container: str, landlord: str) -> None:
        self._cache.put((account, container), landlord, self._cache.clock() + self.ttl)

    def forget(self, account: Account, container: str) -> None:
        self._cache.pop((account, container))

    def __len__(self) -> int:
        return len(self._cache)
