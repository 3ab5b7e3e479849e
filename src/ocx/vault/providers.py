"""Which object stores hold a vault's shares: n offerings of n distinct owners.

The owner (the legal operator) is the unit of non-collusion: two landlords of one owner
count as one, so never hold two shares. Offerings come from an :class:`OfferingSource`: the
exchange's broker once it offers ``distinct_owners``, and until then the topology (a
landlord's ``owner`` if the topology names one, else the landlord itself) with the
customer's ``clouds.yaml`` entries saying how to reach each store.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import yaml

from ocx.topology import Topology
from ocx.vault.errors import VaultConfigError


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
    """n offerings of n distinct owners (cheapest, then most available, then by name), with
    the reason for each one taken or left; :class:`VaultConfigError` if there are too few."""
    reasons: list[str] = []
    fit = []
    for offer in offerings:
        why = _unfit(offer, constraints)
        if why:
            reasons.append(f"{offer.landlord}: left out, {why}")
        else:
            fit.append(offer)
    fit.sort(key=lambda o: (o.price, -o.availability, o.landlord))
    chosen: list[Offering] = []
    owners: dict[str, str] = {}
    for offer in fit:
        if offer.owner in owners:
            reasons.append(
                f"{offer.landlord}: left out, owner {offer.owner} already holds a share "
                f"(at {owners[offer.owner]})"
            )
        elif len(chosen) < n:
            owners[offer.owner] = offer.landlord
            chosen.append(offer)
            reasons.append(f"{offer.landlord}: chosen, owner {offer.owner}, price {offer.price:g}")
        else:
            reasons.append(f"{offer.landlord}: not needed ({n} chosen already)")
    if len(chosen) < n:
        raise VaultConfigError(
            f"only {len(chosen)} object stores of distinct owners fit, {n} needed: "
            + "; ".join(reasons)
        )
    return Choice(tuple(chosen), tuple(reasons))


def _unfit(offer: Offering, c: Constraints) -> str:
    if offer.owner in c.exclude_owners:
        return f"owner {offer.owner} excluded"
    if offer.landlord in c.exclude_landlords:
        return "excluded"
    if c.max_price is not None and offer.price > c.max_price:
        return f"price {offer.price:g} above {c.max_price:g}"
    if c.min_availability is not None and offer.availability < c.min_availability:
        return f"availability {offer.availability:g} below {c.min_availability:g}"
    if c.regions and offer.region not in c.regions:
        return f"region {offer.region} not allowed"
    return ""
