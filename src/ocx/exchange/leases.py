"""Offers and leases, after esi-leap, with what its users asked for.

A landlord offers capacity (``vcpus``, ``ram_gib``, ``gib`` of a type, ...) for a window at
unit-hour prices. A customer claims part of it as a lease; claims never overbook (the peak
of overlapping leases is checked before commit, with the reason when it does not fit). The
lessee extends within the offer's window without an administrator, sub-leases inside its own
lease, and is warned before expiry. At expiry the lease's grant says so, and the landlord
stops (never deletes) what exceeds the customer's remaining quota after the offer's grace.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ocx.common import errors
from ocx.exchange import budgets, events, money
from ocx.exchange.models import Lease, Offer
from ocx.exchange.signing import MarketSigner
from ocx.exchange.subscriptions import Customer, append_feed

DEFAULT_LEASE = 7 * 86400.0
MAX_LEASE = 21 * 86400.0
EXPIRY_ACTIONS = ("stop",)
LIVE = ("created", "active")
MAX_KEYS = 8


def _amounts(doc: object, what: str) -> dict[str, int]:
    if not isinstance(doc, dict) or not 0 < len(doc) <= MAX_KEYS:
        raise errors.BadRequest(f"{what} maps up to {MAX_KEYS} resource names to whole numbers.")
    for key, value in doc.items():
        if not isinstance(key, str) or not key.isidentifier() or len(key) > 32:
            raise errors.BadRequest(f"{what}: {key!r} is not a resource name.")
        if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= 10**9:
            raise errors.BadRequest(f"{what}.{key} must be a whole number from 1.")
    return dict(doc)


def _time(doc: dict[str, Any], key: str, default: float | None = None) -> float:
    value = doc.get(key, default)
    if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
        raise errors.BadRequest(f"{key} must be a UNIX time in seconds.")
    return float(value)


def parse_offer(claims: dict[str, Any], now: float) -> dict[str, Any]:
    doc = claims.get("offer")
    if not isinstance(doc, dict):
        raise errors.BadRequest("The statement carries no offer object.")
    name = doc.get("name")
    if not isinstance(name, str) or not 0 < len(name) <= 128:
        raise errors.BadRequest("offer.name must be a string of 1 to 128 characters.")
    capacity = _amounts(doc.get("capacity"), "offer.capacity")
    prices = doc.get("prices")
    if not isinstance(prices, dict) or not prices:
        raise errors.BadRequest("offer.prices maps metrics to unit-hour prices.")
    for metric, price in prices.items():
        money.price_nanos(price, f"offer price {metric}")
    start, end = _time(doc, "start", now), _time(doc, "end")
    if not start < end or end <= now:
        raise errors.BadRequest("An offer needs start < end, and an end in the future.")
    action = doc.get("expiry_action", "stop")
    if action not in EXPIRY_ACTIONS:
        raise errors.BadRequest(f"expiry_action must be one of {', '.join(EXPIRY_ACTIONS)}.")
    grace = doc.get("grace_seconds", 3600)
    if not isinstance(grace, int) or isinstance(grace, bool) or not 0 <= grace <= 30 * 86400:
        raise errors.BadRequest("grace_seconds is a whole number of seconds up to 30 days.")
    return {
        "name": name,
        "resource_type": str(doc.get("resource_type", "compute"))[:64],
        "region": str(doc.get("region", "RegionOne"))[:64],
        "capacity": capacity,
        "prices": {str(k): str(v) for k, v in prices.items()},
        "start": start,
        "end": end,
        "grace_seconds": grace,
        "expiry_action": action,
    }


async def add_offer(
    session: AsyncSession, landlord: str, spec: dict[str, Any], statement: str
) -> Offer:
    clash = await session.scalar(
        select(Offer).where(Offer.landlord == landlord, Offer.name == spec["name"])
    )
    if clash is not None:
        raise errors.Conflict(f"{landlord} already has an offer named {spec['name']!r}.")
    offer = Offer(
        id="offer-" + uuid.uuid4().hex,
        landlord=landlord,
        statement=statement,
        status="available",
        created_at=time.time(),
        **spec,
    )
    session.add(offer)
    return offer


def peak(leases: list[Lease], start: float, end: float) -> dict[str, int]:
    """The most of each resource that ``leases`` hold at once within [start, end)."""
    points = sorted({start, *(x.start for x in leases if start < x.start < end)})
    found: dict[str, int] = {}
    for t in points:
        held = [x for x in leases if x.start <= t < x.end]
        for key in {k for x in held for k in x.amounts}:
            found[key] = max(found.get(key, 0), sum(x.amounts.get(key, 0) for x in held))
    return found


async def _offer_for_update(session: AsyncSession, offer_id: str) -> Offer:
    offer = await session.scalar(select(Offer).where(Offer.id == offer_id).with_for_update())
    if offer is None:
        raise errors.NotFound(f"Offer {offer_id!r} does not exist.")
    return offer


async def live_leases(session: AsyncSession, offer_id: str, skip: str = "") -> list[Lease]:
    query = select(Lease).where(Lease.offer_id == offer_id, Lease.status.in_(LIVE))
    return [x for x in await session.scalars(query) if x.id != skip]


def _fits(offer: Offer, held: dict[str, int], amounts: dict[str, int]) -> None:
    unknown = set(amounts) - set(offer.capacity)
    if unknown:
        raise errors.BadRequest(
            f"Offer {offer.id} has no {', '.join(sorted(unknown))}; it offers "
            f"{', '.join(sorted(offer.capacity))}."
        )
    for key, want in amounts.items():
        free = offer.capacity[key] - held.get(key, 0)
        if want > free:
            raise errors.Conflict(
                f"Not enough {key} in offer {offer.id} for that window: {want} asked, {free} "
                f"free of {offer.capacity[key]} (the rest is leased)."
            )


def _grant(lease: Lease, offer: Offer) -> dict[str, Any]:
    return {
        "service_type": offer.resource_type,
        "metrics": sorted(offer.prices),
        "status": lease.status,
        "offer_id": offer.id,
        "parent_lease_id": offer.parent_lease_id,
        "customer": lease.customer,
        "user_id": lease.user_id,
        "amounts": lease.amounts,
        "start": lease.start,
        "end": lease.end,
        "expiry_action": offer.expiry_action,
        "grace_seconds": offer.grace_seconds,
    }


async def claim(
    session: AsyncSession,
    signer: MarketSigner,
    customer: Customer,
    offer_id: str,
    amounts: object,
    start: float | None,
    end: float | None,
) -> Lease:
    wanted = _amounts(amounts, "amounts")
    await budgets.require_room(session, customer.project_id)
    offer = await _offer_for_update(session, offer_id)
    now = time.time()
    if offer.status != "available":
        raise errors.Conflict(f"Offer {offer.id} is {offer.status}; it cannot be claimed.")
    begin = max(start if start is not None else now, offer.start)
    finish = end if end is not None else min(begin + DEFAULT_LEASE, offer.end)
    _window(offer, begin, finish, now)
    _fits(offer, peak(await live_leases(session, offer.id), begin, finish), wanted)
    lease = Lease(
        id="lease-" + uuid.uuid4().hex,
        offer_id=offer.id,
        landlord=offer.landlord,
        customer=customer.project_id,
        user_id=customer.user_id,
        amounts=wanted,
        start=begin,
        end=finish,
        status="active" if begin <= now else "created",
        warned=False,
        created_at=now,
    )
    session.add(lease)
    append_feed(session, signer, offer.landlord, "lease", lease.id, _grant(lease, offer))
    return lease


def _window(offer: Offer, start: float, end: float, now: float) -> None:
    if not start < end:
        raise errors.BadRequest("A lease needs start < end.")
    if start < offer.start or end > offer.end:
        raise errors.Conflict(
            f"The lease must lie within the offer's window ({offer.start:.0f} to {offer.end:.0f})."
        )
    if end - start > MAX_LEASE:
        raise errors.Conflict(f"A lease lasts at most {MAX_LEASE / 86400:.0f} days.")
    if end <= now:
        raise errors.BadRequest("A lease must end in the future.")


async def get_own(session: AsyncSession, customer: str, lease_id: str) -> Lease:
    lease = await session.get(Lease, lease_id)
    if lease is None or lease.customer != customer:
        raise errors.NotFound(f"Lease {lease_id!r} does not exist.")
    return lease


async def extend(
    session: AsyncSession, signer: MarketSigner, customer: str, lease_id: str, end: float
) -> Lease:
    lease = await get_own(session, customer, lease_id)
    offer = await _offer_for_update(session, lease.offer_id)
    if lease.status not in LIVE:
        raise errors.Conflict(f"Lease {lease.id} is {lease.status}; it cannot be extended.")
    if end <= lease.end:
        raise errors.BadRequest("A new end must be later than the current one.")
    _window(offer, lease.start, end, time.time())
    others = await live_leases(session, offer.id, skip=lease.id)
    _fits(offer, peak(others, lease.end, end), lease.amounts)
    lease.end, lease.warned = end, False
    append_feed(session, signer, lease.landlord, "lease", lease.id, _grant(lease, offer))
    return lease


async def sublease_offer(
    session: AsyncSession, customer: str, lease_id: str, doc: dict[str, Any]
) -> Offer:
    """An offer made by a lessee out of its own lease, to whoever claims it."""
    lease = await get_own(session, customer, lease_id)
    if lease.status not in LIVE:
        raise errors.Conflict(f"Lease {lease.id} is {lease.status}; nothing to sub-lease.")
    parent = await session.get(Offer, lease.offer_id)
    assert parent is not None
    spec = parse_offer(
        {"offer": {**doc, "region": parent.region, "resource_type": parent.resource_type}},
        time.time(),
    )
    if spec["start"] < lease.start or spec["end"] > lease.end:
        raise errors.Conflict("A sub-lease offer must lie within your own lease's window.")
    siblings = list(
        await session.scalars(
            select(Offer).where(Offer.parent_lease_id == lease.id, Offer.status == "available")
        )
    )
    held = peak([_as_lease(o) for o in siblings], spec["start"], spec["end"])
    for key, want in spec["capacity"].items():
        free = lease.amounts.get(key, 0) - held.get(key, 0)
        if want > free:
            raise errors.Conflict(
                f"Your lease has {free} {key} left to sub-lease then; {want} asked."
            )
    offer = Offer(
        id="offer-" + uuid.uuid4().hex,
        landlord=lease.landlord,
        parent_lease_id=lease.id,
        lessor=customer,
        status="available",
        created_at=time.time(),
        **{**spec, "grace_seconds": parent.grace_seconds, "expiry_action": parent.expiry_action},
    )
    session.add(offer)
    return offer


def _as_lease(offer: Offer) -> Lease:
    return Lease(start=offer.start, end=offer.end, amounts=offer.capacity)


async def cancel(
    session: AsyncSession, signer: MarketSigner, customer: str, lease_id: str
) -> Lease:
    lease = await get_own(session, customer, lease_id)
    if lease.status not in LIVE:
        raise errors.Conflict(f"Lease {lease.id} is already {lease.status}.")
    await _end(session, signer, lease, "cancelled")
    return lease


async def _end(session: AsyncSession, signer: MarketSigner, lease: Lease, status: str) -> None:
    """End ``lease`` and, first, everything sub-leased out of it."""
    children = await session.scalars(select(Offer).where(Offer.parent_lease_id == lease.id))
    for child in children:
        child.status = "withdrawn"
        for sub in await live_leases(session, child.id):
            await _end(session, signer, sub, status)
    lease.status = status
    offer = await session.get(Offer, lease.offer_id)
    assert offer is not None
    append_feed(session, signer, lease.landlord, "lease", lease.id, _grant(lease, offer))
    events.add(
        session,
        f"lease.{status}",
        f"Lease {lease.id} at {lease.landlord} is {status}. Servers beyond your remaining "
        f"quota there are stopped (not deleted) after {offer.grace_seconds} s.",
        customer=lease.customer,
        landlord=lease.landlord,
        subject=lease.id,
    )


async def tick(session: AsyncSession, signer: MarketSigner, now: float, warning: float) -> None:
    """Fulfil leases whose start came, warn before the end, expire those past it."""
    for lease in await session.scalars(select(Lease).where(Lease.status.in_(LIVE))):
        if lease.end <= now:
            await _end(session, signer, lease, "expired")
            continue
        if lease.status == "created" and lease.start <= now:
            lease.status = "active"
            offer = await session.get(Offer, lease.offer_id)
            assert offer is not None
            append_feed(session, signer, lease.landlord, "lease", lease.id, _grant(lease, offer))
        if not lease.warned and lease.end - warning <= now:
            lease.warned = True
            events.add(
                session,
                "lease.expiring",
                f"Lease {lease.id} at {lease.landlord} ends in {max(0, lease.end - now):.0f} s; "
                "extend it within its offer's window to keep it.",
                customer=lease.customer,
                landlord=lease.landlord,
                subject=lease.id,
            )
    for offer in await session.scalars(select(Offer).where(Offer.status == "available")):
        if offer.end <= now:
            offer.status = "expired"


def view_offer(offer: Offer) -> dict[str, Any]:
    return {
        "id": offer.id,
        "name": offer.name,
        "landlord": offer.landlord,
        "resource_type": offer.resource_type,
        "region": offer.region,
        "capacity": offer.capacity,
        "prices": offer.prices,
        "start": offer.start,
        "end": offer.end,
        "grace_seconds": offer.grace_seconds,
        "expiry_action": offer.expiry_action,
        "parent_lease_id": offer.parent_lease_id,
        "status": offer.status,
    }


def view_lease(lease: Lease) -> dict[str, Any]:
    return {
        "id": lease.id,
        "offer_id": lease.offer_id,
        "landlord": lease.landlord,
        "customer": lease.customer,
        "user_id": lease.user_id,
        "amounts": lease.amounts,
        "start": lease.start,
        "end": lease.end,
        "status": lease.status,
    }
