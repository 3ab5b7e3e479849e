"""Requests in flight to one landlord service at once: the rest wait their turn at the proxy.

Under 1,000 concurrent calls over 100 landlords the proxy had a hundred thousand requests out
at once (every find and every listing asks every landlord), one connection each: the
landlords' processes spent their CPU accepting and parsing requests whose answers came too
late for anyone, and the proxy grew to a gigabyte. With a bound per landlord service (its
origin), a request waits at the proxy, where waiting costs nothing, and each landlord works
on a few at a time. A turn not given within ``wait`` is the landlord's fault (busy).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Hashable
from contextlib import asynccontextmanager

from ocx.proxy.errors import Unreachable


class Lanes:
    def __init__(self, width: int, wait: float) -> None:
        self.width, self.wait = width, wait
        self._lanes: dict[Hashable, asyncio.Semaphore] = {}

    @asynccontextmanager
    async def turn(self, origin: Hashable, landlord: str) -> AsyncIterator[None]:
        lane = self._lanes.get(origin)
        if lane is None:
            lane = self._lanes[origin] = asyncio.Semaphore(self.width)
        try:
            async with asyncio.timeout(self.wait):
                await lane.acquire()
        except TimeoutError:
            raise Unreachable(landlord, f"busy: no turn in {self.wait:g}s") from None
        try:
            yield
        finally:
            lane.release()
