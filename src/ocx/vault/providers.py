"""Which object stores hold a vault's shares: n offerings of n distinct owners.

The owner (the legal operator) is the unit of non-collusion: two landlords of one owner
count as one, so never hold two shares. The choice is the exchange's broker's
(:mod:`ocx.exchange.broker`, policy ``non-colluding`` with ``distinct_owners`` n). The
offerings come from an :class:`OfferingSource`: for now the topology (a landlord's ``owner``
if the topology names one, else the landlord itself), with the customer's ``clouds.yaml``
entries saying how to reach each store; the exchange's signed catalogue is the next source.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Protocol

import yaml

from ocx.exchange import broker
from ocx.topology import Topology
from ocx.vault.errors import VaultConfigError

METRIC = "gib-month"


@dataclass(frozen=True)
class Offering:
    landlord: str
    owner: str
    cloud: str  # the clouds.yaml entry that reaches this store as the customer
    region: str | None = None  # the store's catalog region (None: the entry's own)
    price: float = 0.0  # per GiB-month, when the source knows it
    availability: float = 0.0  # SLA, when the source knows it


@dataclass(frozen=True)
class Constraints:
    max_price: float | None = None
    min_availability: float | None = None
    regions: tuple[str, ...] = ()
    exclude_owners: tuple[str, ...] = ()
    exclude_landlords: tuple[str, ...] = ()


@dataclass(frozen=True)
class Choice:
    chosen: tuple[Offering, ...]
    reasons: tuple[str, ...] = field(default=())


class OfferingSource(Protocol):
    def object_stores(self) -> list[Offering]: ...


class TopologyOfferings:
    """The topology's object stores that this customer has a ``clouds.yaml`` entry for."""

    def __init__(self, topology: Topology, clouds_file: Path, user: str, home: str):
        self.topology, self.clouds_file, self.user, self.home = topology, clouds_file, user, home

    def object_stores(self) -> list[Offering]:
        doc = yaml.safe_load(self.clouds_file.read_text()) or {}
        clouds = doc.get("clouds") or {}
        found = []
        for landlord in self.topology.landlords:
            if "object" not in landlord.parts:
                continue
            if landlord.name == self.home:
                cloud = f"{landlord.name}-{self.user}"
            else:
                cloud = f"{self.user}-{landlord.name}-k2k"
            if cloud in clouds:
                owner = str(getattr(landlord, "owner", None) or landlord.name)
                region = self.topology.exchange.region
                found.append(Offering(landlord.name, owner, cloud, region))
        return found


def choose(offerings: Iterable[Offering], n: int, constraints: Constraints) -> Choice:
    """n offerings of n distinct owners, chosen by the exchange's ``non-colluding`` broker
    (cheapest, then most available), with the reason for each one taken or left;
    :class:`VaultConfigError` if too few qualify."""
    offers = list(offerings)
    reasons: list[str] = []
    candidates = []
    for offer in offers:
        why = _unfit(offer, constraints)
        if why:
            reasons.append(f"{offer.landlord}: left out, {why}")
        else:
            candidates.append(_candidate(offer))
    need = broker.Need(
        service_type="object-store",
        amount=Decimal(1),
        hours=Decimal(1),
        metric=METRIC,
        max_price=None if constraints.max_price is None else _dec(constraints.max_price),
        regions=constraints.regions,
        sla_floor=None
        if constraints.min_availability is None
        else _dec(constraints.min_availability),
        distinct_owners=n,
        # one more store (a repair) cannot collude with itself; owners already holding a
        # share are excluded above
        policy="non-colluding" if n > 1 else "cheapest",
    )
    found = broker.choose(need, candidates)
    by_landlord = {o.landlord: o for o in offers}
    chosen = tuple(by_landlord[r.candidate.landlord] for r in found.chosen)
    taken = {r.candidate.landlord for r in found.chosen}
    for r in found.ranked:
        c = r.candidate
        priced = by_landlord[c.landlord].price > 0
        why = ("; " + "; ".join(r.reasons)) if priced else " (no price known)"
        if c.landlord in taken:
            reasons.append(f"{c.landlord}: chosen, owner {c.owner}, rank {r.rank}{why}")
        elif not any(f"({c.landlord})" in note for note in found.notes):
            reasons.append(f"{c.landlord}: not needed, rank {r.rank} of {len(found.ranked)}")
    for e in found.excluded:
        reasons.append(f"{e.candidate.landlord}: left out, " + "; ".join(e.reasons))
    reasons += list(found.notes)
    if not found.satisfied or len(chosen) != n:
        raise VaultConfigError(
            f"only {len(chosen)} object stores of distinct owners fit, {n} needed: "
            + "; ".join(reasons)
        )
    return Choice(chosen, tuple(reasons))


def _dec(value: float) -> Decimal:
    return Decimal(str(value))


def _candidate(offer: Offering) -> broker.Candidate:
    return broker.Candidate(
        offering_id=offer.landlord,
        name=f"object storage at {offer.landlord}",
        landlord=offer.landlord,
        owner=offer.owner,
        service_type="object-store",
        region=offer.region or "",
        capabilities=(),
        prices={METRIC: _dec(offer.price)},
        promised=_dec(offer.availability) if offer.availability else None,
    )


def _unfit(offer: Offering, c: Constraints) -> str:
    if offer.owner in c.exclude_owners:
        return f"owner {offer.owner} excluded"
    if offer.landlord in c.exclude_landlords:
        return "excluded"
    return ""
