"""The landlords' listing pages as the proxy last got them, per customer: a list page need not
ask every landlord every time.

A merged page asks each landlord for a page (its filters, ``limit`` and own marker). At 100
landlords that is 100 requests for one page of 20, and the landlords' CPU is what limits the
proxy (docs/proxy.md, "Scale"). So a landlord's page is kept for ``page_ttl`` seconds, keyed
by customer (``account_key``), landlord and the request as sent (path, query, microversion),
and served to the customer's next listing that asks the same, with these rules:

- **Writes through the proxy show at once.** Any write the proxy sends for a customer to a
  landlord (create, delete, action, update, attach, upload) drops what is kept for that
  customer at that landlord, before it is sent and again when its answer is in (so a page
  fetched while the write ran is not kept either): the customer's next listing asks that
  landlord again. :meth:`Pages.changed` is called by :func:`ocx.proxy.openstack.call.send`.
- **Only settled pages are kept.** A page holding an item on its way somewhere (a server in
  BUILD or with a task, a volume attaching, an image saving) is not kept: its landlord
  changes it by itself, and a client waiting for ACTIVE in a listing sees it at once.
- **A landlord that fails is asked again.** A request to a landlord that finds it
  unreachable drops every customer's pages there, so the next listing names it missing.
- **Changes made directly at a landlord** (not through this proxy, or through another copy
  of it) show within ``page_ttl``: a listing is then as stale as Nova's with its cell cache.
- **Concurrent asks share one request** (single flight, per generation): a hundred clients
  asking the same page at once make one request to the landlord, and a request that the
  fan-out's deadline gave up on still lands in the cache for the next listing.

``page_ttl = 0`` turns all of this off (every listing asks every landlord).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ocx.proxy.cache import Flights

Item = dict[str, Any]
Account = Hashable

# Statuses an item keeps until someone acts on it (servers, volumes, snapshots, images).
SETTLED = frozenset(
    {
        "active", "shutoff", "error", "paused", "suspended", "shelved", "shelved_offloaded",
        "stopped", "rescue", "available", "in-use", "error_deleting", "deactivated", "killed",
    }
)  # fmt: skip
TASK_FIELDS = ("OS-EXT-STS:task_state", "task_state")


def settled(items: Sequence[Item]) -> bool:
    """Whether no item is on its way somewhere (its landlord will change it by itself)."""
    for item in items:
        status = item.get("status")
        if status is not None and str(status).lower() not in SETTLED:
            return False
        if any(item.get(f) for f in TASK_FIELDS):
            return False
    return True


@dataclass(frozen=True)
class Page:
    items: list[Item]
    echo: Mapping[str, str]  # the answer's microversion headers


@dataclass
class _Kept:
    until: float
    generation: tuple[int, int]
    page: Page


class Pages:
    def __init__(
        self, ttl: float, max_entries: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl, self.max_entries, self.clock = ttl, max_entries, clock
        self._kept: OrderedDict[tuple[Account, str, str], _Kept] = OrderedDict()
        self._accounts: dict[tuple[Account, str], int] = {}
        self._landlords: dict[str, int] = {}
        self._flights: Flights[tuple[Any, ...], Page] = Flights()
        self.served = 0  # pages served from memory (kept or joined)
        self.fetched = 0  # pages asked of a landlord

    def generation(self, account: Account, landlord: str) -> tuple[int, int]:
        return self._accounts.get((account, landlord), 0), self._landlords.get(landlord, 0)

    def changed(self, account: Account, landlord: str) -> None:
        """The customer wrote at the landlord: nothing kept from before is served."""
        key = (account, landlord)
        self._accounts[key] = self._accounts.get(key, 0) + 1

    def unreachable(self, landlord: str) -> None:
        """The landlord failed a request: every customer's listing asks it again."""
        self._landlords[landlord] = self._landlords.get(landlord, 0) + 1

    async def page(
        self, account: Account, landlord: str, request: str, fetch: Callable[[], Awaitable[Page]]
    ) -> Page:
        """The landlord's page for ``request``: kept, joined while under way, or fetched."""
        if self.ttl <= 0:
            return await fetch()
        key = (account, landlord, request)
        generation = self.generation(account, landlord)
        kept = self._kept.get(key)
        if kept is not None and kept.generation == generation and kept.until > self.clock():
            self._kept.move_to_end(key)
            self.served += 1
            return kept.page
        flight = (*key, generation)
        if self._flights.running(flight):
            self.served += 1

        async def fetched() -> Page:
            started = self.clock()
            self.fetched += 1
            got = await fetch()
            if self.generation(account, landlord) == generation and settled(got.items):
                self._keep(key, _Kept(started + self.ttl, generation, got))
            return got

        return await self._flights.run(flight, fetched)

    def _keep(self, key: tuple[Account, str, str], kept: _Kept) -> None:
        self._kept[key] = kept
        self._kept.move_to_end(key)
        now = self.clock()
        # The least recently used first: past max_entries, and the expired among them (a
        # page is never served past its ttl, so none is held for long).
        while self._kept:
            oldest = next(iter(self._kept.values()))
            if len(self._kept) <= self.max_entries and oldest.until > now:
                break
            self._kept.popitem(last=False)

    def __len__(self) -> int:
        return len(self._kept)
