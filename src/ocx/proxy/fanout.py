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
) -> Results[T]:
    async def one(candidate: Candidate) -> tuple[Candidate, T] | Unreachable | Absent:
        limit = timeout(candidate) if callable(timeout) else timeout
        try:
            async with asyncio.timeout(limit):
                return candidate, await work(candidate)
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
