"""Brokers: pure policy functions that choose offerings for a need and say why.

No network and no database here: :func:`choose` takes the catalogue as values and answers
the ranked candidates (with each one's estimated cost and reasons) and the excluded ones
(with the reasons they were left out). Policies:

- ``cheapest``: lowest estimated cost first; ties go to the better measured availability.
- ``most-available``: best measured availability first (the promised SLA where nothing is
  measured yet); ties go to the cheaper.
- ``non-colluding``: cheapest, but never two offerings of the same owner (the legal operator);
  ``distinct_owners`` k asks for k of them (the vault's k-of-n).

Every policy honours ``distinct_owners``: the chosen k are the first k of the ranking whose
owners differ.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

POLICIES = ("cheapest", "most-available", "non-colluding")
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Candidate:
    offering_id: str
    name: str
    landlord: str
    owner: str
    service_type: str
    region: str
    capabilities: tuple[str, ...]
    prices: dict[str, Decimal]
    promised: Decimal | None = None
    measured: Decimal | None = None
    listed: bool = True
    endpoint: str = ""


@dataclass(frozen=True)
class Need:
    service_type: str
    amount: Decimal = Decimal(1)
    hours: Decimal = Decimal(720)
    metric: str | None = None
    max_price: Decimal | None = None
    regions: tuple[str, ...] = ()
    capabilities: tuple[str, ...] = ()
    sla_floor: Decimal | None = None
    distinct_owners: int = 1
    policy: str = "cheapest"


@dataclass(frozen=True)
class Ranked:
    candidate: Candidate
    rank: int
    cost: Decimal
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Excluded:
    candidate: Candidate
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Choice:
    need: Need
    chosen: tuple[Ranked, ...]
    ranked: tuple[Ranked, ...]
    excluded: tuple[Excluded, ...]
    satisfied: bool
    summary: str
    notes: tuple[str, ...] = field(default=())


def estimate(need: Need, candidate: Candidate) -> tuple[str, Decimal] | None:
    """The metric the need is priced by at this candidate, and the estimated cost."""
    metric = need.metric or next(iter(candidate.prices), None)
    if metric is None or metric not in candidate.prices:
        return None
    cost = need.amount * need.hours * candidate.prices[metric]
    return metric, cost.quantize(Decimal("0.000001"))


def availability(candidate: Candidate) -> Decimal | None:
    return candidate.measured if candidate.measured is not None else candidate.promised


def _exclusions(need: Need, c: Candidate, priced: tuple[str, Decimal] | None) -> list[str]:
    why = []
    if not c.listed:
        why.append("not listed (failed the conformance gate)")
    if need.regions and c.region not in need.regions:
        why.append(f"region {c.region} is not among {', '.join(need.regions)}")
    missing = [cap for cap in need.capabilities if cap not in c.capabilities]
    if missing:
        why.append(f"lacks {', '.join(missing)}")
    if need.sla_floor is not None:
        if c.promised is None or c.promised < need.sla_floor:
            why.append(f"promised availability {c.promised} is below the floor {need.sla_floor}")
        if c.measured is not None and c.measured < need.sla_floor:
            why.append(f"measured availability {c.measured} is below the floor {need.sla_floor}")
    if priced is None:
        why.append(f"has no price for {need.metric or 'any metric'}")
    elif need.max_price is not None and priced[1] > need.max_price:
        why.append(f"estimated {priced[1]} is over the maximum {need.max_price}")
    return why


def _order(need: Need, cost: Decimal, c: Candidate) -> tuple[Decimal, Decimal, str]:
    avail = availability(c) or Decimal(0)
    if need.policy == "most-available":
        return (-avail, cost, c.offering_id)
    return (cost, -avail, c.offering_id)


def _reasons(need: Need, rank: int, metric: str, cost: Decimal, c: Candidate) -> tuple[str, ...]:
    avail = availability(c)
    shown = "unmeasured" if avail is None else str(avail)
    why = [
        f"estimated {cost} for {need.amount} x {need.hours} h of {metric} at {c.prices[metric]}",
        f"availability {shown} ({'measured' if c.measured is not None else 'promised'})",
    ]
    if rank == 1:
        why.append(
            "best availability among the qualifying"
            if need.policy == "most-available"
            else "cheapest among the qualifying"
        )
    return tuple(why)


def choose(need: Need, catalogue: Iterable[Candidate]) -> Choice:
    if need.policy not in POLICIES:
        raise ValueError(f"unknown policy {need.policy!r}; known: {', '.join(POLICIES)}")
    k = max(need.distinct_owners, 2 if need.policy == "non-colluding" else 1)
    good: list[tuple[tuple[Decimal, Decimal, str], Candidate, str, Decimal]] = []
    excluded: list[Excluded] = []
    for c in catalogue:
        if c.service_type != need.service_type:
            continue
        priced = estimate(need, c)
        why = _exclusions(need, c, priced)
        if why or priced is None:
            excluded.append(Excluded(c, tuple(why)))
            continue
        good.append((_order(need, priced[1], c), c, priced[0], priced[1]))
    good.sort(key=lambda item: item[0])
    ranked = tuple(
        Ranked(c, i, cost, _reasons(need, i, metric, cost, c))
        for i, (_key, c, metric, cost) in enumerate(good, start=1)
    )
    chosen: list[Ranked] = []
    notes: list[str] = []
    owners: set[str] = set()
    for item in ranked:
        if len(chosen) == k:
            break
        if item.candidate.owner in owners:
            notes.append(
                f"skipped {item.candidate.name} ({item.candidate.landlord}): owner "
                f"{item.candidate.owner} is already chosen"
            )
            continue
        owners.add(item.candidate.owner)
        chosen.append(item)
    satisfied = len(chosen) == k
    if satisfied:
        names = ", ".join(f"{r.candidate.name} at {r.candidate.landlord}" for r in chosen)
        summary = f"{need.policy}: chose {names}"
    else:
        summary = (
            f"{need.policy}: only {len(chosen)} of the {k} offerings with distinct owners "
            f"that were asked for qualify"
        )
    return Choice(need, tuple(chosen), ranked, tuple(excluded), satisfied, summary, tuple(notes))
