"""Subscriptions and the signed grant feed the landlords pull.

A subscription is the customer's right to use one offering under one plan. Every change
(created, cancelled) appends a grant signed by the exchange to the landlord's feed; the
landlord admits the customer only while its newest grant says ``active``. Cancelling stops
new use; what the customer stores stays (and is billed) until deleted.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ocx.common import errors
from ocx.exchange import budgets, events
from ocx.exchange.models import FeedEntry, Offering, Price, Subscription
from ocx.exchange.signing import MarketSigner

ACTIVE, CANCELLED = "active", "cancelled"
KEPT_NOTE = "Data already stored at the landlord is kept, and billed, until you delete it."


@dataclass(frozen=True)
class Customer:
    """The paying party: a project at the exchange's identity, and who acted for it."""

    project_id: str
    project_name: str
    user_id: str


def append_feed(
    session: AsyncSession,
    signer: MarketSigner,
    landlord: str,
    kind: str,
    ref_id: str,
    claims: dict[str, Any],
) -> None:
    now = time.time()
    statement = signer.sign(
        {**claims, "kind": kind, "id": ref_id, "aud": landlord, "iat": int(now)}
    )
    session.add(
        FeedEntry(landlord=landlord, kind=kind, ref_id=ref_id, statement=statement, created_at=now)
    )


def grant_claims(
    sub: Subscription, quotas: dict[str, int], service_type: str, metrics: list[str]
) -> dict[str, Any]:
    """What the landlord acts on: whom to admit to which service, with which quotas, and
    which metrics it may bill under this subscription (those the offering prices)."""
    return {
        "service_type": service_type,
        "metrics": metrics,
        "start": sub.created_at,
        "status": sub.status,
        "offering_id": sub.offering_id,
        "customer": sub.customer,
        "customer_name": sub.customer_name,
        "user_id": sub.user_id,
        "plan": sub.plan,
        "quotas": quotas,
    }


async def subscribe(
    session: AsyncSession,
    signer: MarketSigner,
    customer: Customer,
    offering: Offering,
    plan: str,
) -> Subscription:
    if offering.status != "listed":
        raise errors.Conflict(
            f"Offering {offering.id} is {offering.status} ({offering.status_reason}); "
            "only listed offerings can be subscribed to."
        )
    if plan not in offering.plans:
        raise errors.BadRequest(
            f"Offering {offering.name!r} has no plan {plan!r}; plans: {', '.join(offering.plans)}."
        )
    await budgets.require_room(session, customer.project_id)
    existing = await session.scalar(
        select(Subscription).where(
            Subscription.customer == customer.project_id,
            Subscription.offering_id == offering.id,
            Subscription.status == ACTIVE,
        )
    )
    if existing is not None:
        raise errors.Conflict(
            f"You already hold subscription {existing.id} to offering {offering.id}."
        )
    sub = Subscription(
        id="sub-" + uuid.uuid4().hex,
        offering_id=offering.id,
        landlord=offering.landlord,
        customer=customer.project_id,
        customer_name=customer.project_name,
        user_id=customer.user_id,
        plan=plan,
        status=ACTIVE,
        created_at=time.time(),
    )
    session.add(sub)
    quotas = offering.plans[plan].get("quotas", {})
    metrics = sorted(
        set(await session.scalars(select(Price.metric).where(Price.offering_id == offering.id)))
    )
    claims = grant_claims(sub, quotas, offering.service_type, metrics)
    append_feed(session, signer, sub.landlord, "subscription", sub.id, claims)
    return sub


async def get_own(session: AsyncSession, customer: str, sub_id: str) -> Subscription:
    sub = await session.get(Subscription, sub_id)
    if sub is None or sub.customer != customer:
        raise errors.NotFound(f"Subscription {sub_id!r} does not exist.")
    return sub


async def cancel(session: AsyncSession, signer: MarketSigner, sub: Subscription) -> Subscription:
    if sub.status != ACTIVE:
        raise errors.Conflict(f"Subscription {sub.id} is already {sub.status}.")
    sub.status, sub.cancelled_at = CANCELLED, time.time()
    offering = await session.get(Offering, sub.offering_id)
    service_type = offering.service_type if offering is not None else ""
    claims = grant_claims(sub, {}, service_type, [])
    append_feed(session, signer, sub.landlord, "subscription", sub.id, claims)
    events.add(
        session,
        "subscription.cancelled",
        f"Subscription {sub.id} at {sub.landlord} is cancelled: no new use. {KEPT_NOTE}",
        customer=sub.customer,
        landlord=sub.landlord,
        subject=sub.id,
    )
    return sub


async def of_customer(session: AsyncSession, customer: str) -> list[Subscription]:
    query = select(Subscription).where(Subscription.customer == customer)
    return list(await session.scalars(query.order_by(Subscription.created_at)))


async def feed(session: AsyncSession, landlord: str, since: int, limit: int) -> list[FeedEntry]:
    query = select(FeedEntry).where(FeedEntry.landlord == landlord, FeedEntry.seq > since)
    return list(await session.scalars(query.order_by(FeedEntry.seq).limit(limit)))


def view(sub: Subscription) -> dict[str, Any]:
    doc = {
        "id": sub.id,
        "offering_id": sub.offering_id,
        "landlord": sub.landlord,
        "customer": sub.customer,
        "customer_name": sub.customer_name,
        "user_id": sub.user_id,
        "plan": sub.plan,
        "status": sub.status,
        "created_at": sub.created_at,
        "cancelled_at": sub.cancelled_at,
    }
    if sub.status == CANCELLED:
        doc["note"] = KEPT_NOTE
    return doc
