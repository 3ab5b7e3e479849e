"""When a landlord is silent, as the proxy can tell: nothing read from it since it was asked
something (a request written whole to its connection), judged only once the proxy has read
what its sockets hold.

Time a request spends inside the proxy is not the landlord's: waiting for a turn at the
landlord service (:mod:`ocx.proxy.lanes`), for a federation's turn, or for the proxy's own
event loop to come round. Under 1,000 concurrent calls on two cores the proxy's loop took
seconds per turn and its queues held requests for longer than a landlord's deadline; with
deadlines that ran from when a request entered the proxy, or that were judged before the loop
had read the answers waiting in its sockets, healthy landlords were named "timed out" (run 5
in docs/proxy.md: 600 such 503s). A request queued in the proxy gives up only at the
client-facing ``read_timeout``; a landlord asked something and silent is still named within
its deadline.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")


async def polled() -> float:
    """Now; returned once the event loop has read its sockets after this moment, so that
    whatever had arrived by then has been seen (``Pool.heard``).

    asyncio's loop runs a turn's ready callbacks, then selects and queues the reads behind
    what is ready: the first yield ends this turn (the next one selects after ``mark``), the
    second waits behind that turn's reads."""
    mark = time.monotonic()
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    return mark


# Turns of the loop a piece of work is given past its deadline to finish what has arrived
# for it: a connection whose handshake is done still takes a few turns to be handed over.
GRACE_TURNS = 8


async def within(work: Awaitable[T], limit: float) -> T:
    """``work`` if it is done within ``limit`` as the proxy can tell (its loop has read its
    sockets after the deadline, and the work has had a few turns to finish with what they
    held); else TimeoutError, and ``work`` is cancelled."""
    task = asyncio.ensure_future(work)
    try:
        done, _ = await asyncio.wait({task}, timeout=limit)
        for _ in range(GRACE_TURNS if not done else 0):
            if task.done():
                break
            await asyncio.sleep(0)
        if not task.done():
            raise TimeoutError
        return task.result()
    finally:
        if not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
