"""Asking every landlord at once, each within its own deadline.

:func:`fan_out` runs one piece of work per landlord concurrently and sorts the outcomes: the
answers (in landlord order), the landlords that are unreachable (down, slow past the
deadline, or answering garbage) and those where the customer has nothing. It never raises
for one landlord's failure: what a missing landlord means is each operation's policy. The
deadline is one for all, or each landlord's own (a function of the candidate).
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
    heard: Callable[[Candidate], float] | None = None,
    patience: float = 0.0,
) -> Results[T]:
    """``heard``: when each landlord last sent the proxy anything (``time.monotonic()``). A
    landlord past its deadline that has been heard from within it is busy, not silent: it is
    waited for until it has been silent for the deadline, up to ``patience`` in all."""

    async def one(candidate: Candidate) -> tuple[Candidate, T] | Unreachable | Absent:
        limit = timeout(candidate) if callable(timeout) else timeout
        try:
            return candidate, await _within(work(candidate), limit, candidate, heard, patience)
        except TimeoutError:
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
    heard: Callable[[Candidate], float] | None,
    patience: float,
) -> T:
    """``work`` within ``limit``, or longer while the landlord is heard from (see above)."""
    task = asyncio.ensure_future(work)
    began = time.monotonic()
    wait = limit
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=wait)
            if done:
                return task.result()
            now = time.monotonic()
            last = heard(candidate) if heard is not None else 0.0
            left = began + max(limit, patience) - now
            if now - last >= limit or left <= 0:
                raise TimeoutError
            wait = min(left, last + limit - now)
    finally:
        if not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
