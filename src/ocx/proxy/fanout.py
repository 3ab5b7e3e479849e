"""Asking every landlord at once, each within its own deadline.

:func:`fan_out` runs one piece of work per landlord concurrently and sorts the outcomes: the
answers (in landlord order), the landlords that are unreachable (down, slow past the
deadline, or answering garbage) and those where the customer has nothing. It never raises
for one landlord's failure: what a missing landlord means is each operation's policy. The
deadline is one for all, or each landlord's own (a function of the candidate); it measures
the landlord's silence, not the time the work waits inside the proxy (:mod:`ocx.proxy.silence`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from ocx.proxy.errors import Absent, Unreachable, described
from ocx.proxy.landlords import Candidate
from ocx.proxy.silence import polled

T = TypeVar("T")
log = logging.getLogger("ocx.proxy")


@dataclass
class Results(Generic[T]):
    answers: list[tuple[Candidate, T]] = field(default_factory=list)
    missing: list[Unreachable] = field(default_factory=list)
    absent: list[Absent] = field(default_factory=list)

    @property
    def missing_header(self) -> dict[str, str]:
        return {"X-OCX-Missing-Landlords": described(self.missing)} if self.missing else {}


async def fan_out(
    candidates: Sequence[Candidate],
    work: Callable[[Candidate], Awaitable[T]],
    timeout: float | Callable[[Candidate], float],
    what: str,
    *,
    quiet: Callable[[Candidate], float | None] | None = None,
    patience: float = 0.0,
) -> Results[T]:
    """``quiet``: since when each landlord has sent the proxy nothing while asked something
    (``time.monotonic()``), or None while nothing is asked of it (the work waits inside the
    proxy: a turn, a federation's turn, the proxy's loop). A landlord is silent, and left
    out, once quiet for its deadline; work waiting inside the proxy, or at a landlord that is
    busy (heard from within the deadline), is waited for up to ``patience`` in all. Without
    ``quiet`` a landlord is taken as asked from the start."""

    async def one(candidate: Candidate) -> tuple[Candidate, T] | Unreachable | Absent:
        limit = timeout(candidate) if callable(timeout) else timeout
        try:
            return candidate, await _within(work(candidate), limit, candidate, quiet, patience)
        except TimeoutError:  # the work's own deadline (a federation's, a connection's)
            return Unreachable(candidate.name, f"timed out after {limit:g}s")
        except (Unreachable, Absent) as exc:
            return exc
        except ValueError:
            return Unreachable(candidate.name, "answered garbage")

    results: Results[T] = Results()
    for outcome in await asyncio.gather(*(one(c) for c in candidates)):
        if isinstance(outcome, Unreachable):
            results.missing.append(outcome)
        elif isinstance(outcome, Absent):
            results.absent.append(outcome)
        else:
            results.answers.append(outcome)
    if results.missing:
        log.warning("%s: landlords missing: %s", what, described(results.missing))
    return results


async def _within(
    work: Awaitable[T],
    limit: float,
    candidate: Candidate,
    quiet: Callable[[Candidate], float | None] | None,
    patience: float,
) -> T:
    """``work`` unless the landlord is silent for ``limit`` or it takes ``patience`` in all
    (see above); judged once the loop has read its sockets (:mod:`ocx.proxy.silence`)."""
    task = asyncio.ensure_future(work)
    began = time.monotonic()
    wait = limit
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=wait)
            now = time.monotonic() if done else await polled()
            if task.done():
                return task.result()
            since = quiet(candidate) if quiet is not None else began
            left = began + max(limit, patience) - now
            if since is not None and (now - since >= limit or left <= 0):
                raise Unreachable(candidate.name, f"timed out after {limit:g}s")
            if left <= 0:  # all this time inside the proxy, behind other requests
                raise Unreachable(candidate.name, f"busy: no answer in {patience:g}s")
            wait = min(left, limit if since is None else since + limit - now)
    finally:
        if not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
