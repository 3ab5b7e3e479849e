"""Which object stores hold a vault's shares: n offerings of n distinct owners.

The owner (the legal operator) is the unit of non-collusion: two landlords of one owner
count as one, so never hold two shares. The choice is the exchange's broker's
(:mod:`ocx.exchange.broker`, policy ``non-colluding`` with ``distinct_owners`` n). The
offerings come from an :class:`OfferingSource`: the exchange's catalogue
(:class:`ExchangeOfferings`: signed offerings, owners from the landlords' enrolments, prices,
SLAs), or without an exchange the topology (:class:`TopologyOfferings`: a landlord's
``owner`` if the topology names one, else the landlord itself). Either way the customer's
``clouds.yaml`` says how to reach each store; stores it cannot reach are not offered.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

import httpx
import yaml

from ocx.common import outbound
from ocx.exchange import broker
from ocx.topology import Topology
from ocx.vault.errors import VaultConfigError

METRIC = "object.gib_hours"  # what an object store's storage is priced by at the exchange


@dataclass(frozen=True)
class Offering:
    landlord: str
    owner: str
    cloud: str  # the clouds.yaml entry that reaches this store as the customer
    region: str | None = None  # the store's catalog region (None: the entry's own)
    price: float = 0.0  # per GiB-hour stored, when the source knows it
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


def cloud_entry(landlord: str, user: str, home: str) -> str:
    """The ``clouds.yaml`` entry that reaches ``landlord`` as ``user`` of ``home``."""
    return f"{landlord}-{user}" if landlord == home else f"{user}-{landlord}-k2k"


def _clouds(path: Path) -> dict[str, object]:
    doc = yaml.safe_load(path.read_text()) or {}
    return dict(doc.get("clouds") or {})


class ExchangeOfferings:
    """The exchange's catalogue: the object-store offerings listed there (signed by their
    landlords, owners from their enrolments, prices and SLAs), those this customer can reach."""

    def __init__(
        self,
        exchange_url: str,
        clouds_file: Path,
        user: str,
        home: str,
        token: str | None = None,
        timeout: float = 30.0,
    ):
        self.url, self.clouds_file, self.user, self.home = exchange_url, clouds_file, user, home
        self.token, self.timeout = token, timeout

    def object_stores(self) -> list[Offering]:
        clouds = _clouds(self.clouds_file)
        best: dict[str, Offering] = {}
        for doc in self._listed():
            cloud = cloud_entry(str(doc["landlord"]), self.user, self.home)
            if cloud not in clouds:
                continue
            offer = Offering(
                landlord=str(doc["landlord"]),
                owner=str(doc["owner"]),
                cloud=cloud,
                region=str(doc.get("region") or "") or None,
                price=_storage_price(doc.get("prices") or []),
                availability=float(
                    doc.get("measured_availability")
                    or (doc.get("sla") or {}).get("availability")
                    or 0
                ),
            )
            held = best.get(offer.landlord)
            if held is None or offer.price < held.price:  # a landlord's cheapest offering
                best[offer.landlord] = offer
        return list(best.values())

    def _listed(self) -> list[dict[str, Any]]:
        headers = {"X-Auth-Token": self.token} if self.token else {}
        found: list[dict[str, Any]] = []
        offset: int | None = 0
        url = f"{self.url.rstrip('/')}/v1/offerings"
        with outbound.client(timeout=self.timeout) as client:
            while offset is not None:
                params: dict[str, str | int] = {
                    "service_type": "object-store",
                    "limit": 100,
                    "offset": offset,
                }
                try:
                    resp = client.get(url, params=params, headers=headers)
                except httpx.HTTPError as exc:
                    raise VaultConfigError(f"the exchange does not answer: {exc}") from exc
                if resp.status_code != 200:
                    answer = resp.text[:200]
                    raise VaultConfigError(f"the exchange answered {resp.status_code}: {answer}")
                page = resp.json()
                found += list(page.get("offerings") or [])
                offset = page.get("next_offset")
        return found


def _storage_price(prices: list[dict[str, Any]]) -> float:
    for price in prices:
        if price.get("metric") == METRIC:
            return float(price["price"])
    return float(prices[0]["price"]) if prices else 0.0


class TopologyOfferings:
    """The topology's object stores that this customer has a ``clouds.yaml`` entry for."""

    def __init__(self, topology: Topology, clouds_file: Path, user: str, home: str):
        self.topology, self.clouds_file, self.user, self.home = topology, clouds_file, user, home

    def object_stores(self) -> list[Offering]:
        clouds = _clouds(self.clouds_file)
        found = []
        for landlord in self.topology.landlords:
            if "object" not in landlord.parts:
                continue
            cloud = cloud_entry(landlord.name, self.user, self.home)
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
