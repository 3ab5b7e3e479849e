"""The routing cache: which landlord holds a customer's resource, keyed by the service (a
catalog type) and the resource's id (a container's bare name, a server's or volume's id).

Filled when the proxy finds, lists or places a resource; an entry is a hint, not the truth. A
404 from the landlord it names makes the proxy drop it and look again (see
:mod:`ocx.proxy.locate` and :mod:`ocx.proxy.os.find`); a resource deleted through the proxy
is dropped at once. An entry also ends after ``route_ttl``, so a copy made elsewhere is
noticed eventually.
"""

from __future__ import annotations

from ocx.proxy.cache import TtlCache

Account = tuple[str, str]  # (user id, home project id)
Key = tuple[Account, str, str]  # (account, service, resource id)


class RoutingCache:
    def __init__(self, ttl: float, size: int):
        self.ttl = ttl
        self._cache: TtlCache[Key, str] = TtlCache(size)

    def get(self, account: Account, service: str, resource: str) -> str | None:
        return self._cache.get((account, service, resource))

    def put(self, account: Account, service: str, resource: str, landlord: str) -> None:
        self._cache.put((account, service, resource), landlord, self._cache.clock() + self.ttl)

    def forget(self, account: Account, service: str, resource: str) -> None:
        self._cache.pop((account, service, resource))

    def __len__(self) -> int:
        return len(self._cache)
