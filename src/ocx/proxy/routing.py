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
        # The same entries by home project (a request without a token names only that, in
        # its path): (project, service, resource) -> {user id: landlord}.
        self._by_project: TtlCache[tuple[str, str, str], dict[str, str]] = TtlCache(size)

    def get(self, account: Account, service: str, resource: str) -> str | None:
        return self._cache.get((account, service, resource))

    def put(self, account: Account, service: str, resource: str, landlord: str) -> None:
        until = self._cache.clock() + self.ttl
        self._cache.put((account, service, resource), landlord, until)
        key = (account[1], service, resource)
        users = dict(self._by_project.get(key) or {})
        users[account[0]] = landlord
        self._by_project.put(key, users, until)

    def forget(self, account: Account, service: str, resource: str) -> None:
        self._cache.pop((account, service, resource))
        key = (account[1], service, resource)
        users = self._by_project.get(key)
        if users is not None and account[0] in users:
            users = {u: at for u, at in users.items() if u != account[0]}
            if users:
                self._by_project.put(key, users, self._cache.clock() + self.ttl)
            else:
                self._by_project.pop(key)

    def of_project(self, project: str, service: str, resource: str) -> dict[str, str]:
        """Where each user of a home project was last routed for ``resource``: user -> landlord
        (for requests without a token, which name only the project)."""
        return dict(self._by_project.get((project, service, resource)) or {})

    def clear(self) -> None:
        self._cache.pop_where(lambda key: True)
        self._by_project.pop_where(lambda key: True)

    def __len__(self) -> int:
        return len(self._cache)
