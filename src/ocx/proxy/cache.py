"""Bounded caches with expiry, and single flight (concurrent askers share one fetch).

These are the proxy's only state (DESIGN §4): losing them costs a refetch, never a result.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    """Least recently used entries go first past ``max_entries``; each entry has an end."""

    def __init__(self, max_entries: int, clock: Callable[[], float] = time.time):
        self.max_entries = max_entries
        self.clock = clock
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()

    def get(self, key: K) -> V | None:
        found = self._entries.get(key)
        if found is None:
            return None
        if found[0] <= self.clock():
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return found[1]

    def put(self, key: K, value: V, expires_at: float) -> None:
        self._entries[key] = (expires_at, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def pop(self, key: K) -> V | None:
        found = self._entries.pop(key, None)
        return None if found is None else found[1]

    def pop_where(self, wanted: Callable[[K], bool]) -> list[V]:
        keys = [k for k in self._entries if wanted(k)]
        return [self._entries.pop(k)[1] for k in keys]

    def live(self) -> list[tuple[K, V]]:
        """Every entry not yet expired (in no particular order of use)."""
        now = self.clock()
        return [(k, value) for k, (until, value) in self._entries.items() if until > now]

    def pop_values_where(self, wanted: Callable[[V], bool]) -> list[V]:
        keys = [k for k, (_, value) in self._entries.items() if wanted(value)]
        return [self._entries.pop(k)[1] for k in keys]

    def __len__(self) -> int:
        return len(self._entries)


class Flights(Generic[K, V]):
    """One running fetch per key; whoever asks meanwhile waits for the same result."""

    def __init__(self) -> None:
        self._running: dict[K, asyncio.Future[V]] = {}

    def running(self, key: K) -> bool:
        return key in self._running

    async def run(self, key: K, fetch: Callable[[], Awaitable[V]]) -> V:
        running = self._running.get(key)
        if running is None:
            running = asyncio.ensure_future(fetch())
            self._running[key] = running
            running.add_done_callback(lambda done: self._finished(key, done))
        # Shielded: one asker giving up (a client gone) does not cancel it for the others.
        return await asyncio.shield(running)

    def _finished(self, key: K, done: asyncio.Future[V]) -> None:
        if self._running.get(key) is done:
            del self._running[key]
        if not done.cancelled():
            done.exception()  # retrieved, so no "never retrieved" warning if all gave up
