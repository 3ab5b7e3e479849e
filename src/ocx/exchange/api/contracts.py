"""Subscriptions, the grant feed, offers, leases and events: parse, call, render."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Header, Query
from sqlalchemy import select

from ocx.common import errors
from ocx.exchange import events, leases, subscriptions
from ocx.exchange.api.deps import Paying, Service
from ocx.exchange.api.schemas import ClaimIn, ExtendIn, Statement, SubleaseIn, SubscribeIn
from ocx.exchange.models import Lease, Offer

# Event and feed sequence numbers are 32-bit columns (PostgreSQL refuses a bigger bound).
Since = Annotated[int, Query(ge=0, le=2**31 - 1)]
Limit = Annotated[int, Query(ge=1, le=1000)]


async def subscribe(body: SubscribeIn, svc: Service, who: Paying) -> dict[str, Any]:
    sub = await svc.subscribe(who, body.offering_id, body.plan)
    return {"subscription": subscriptions.view(sub)}


async def list_subscriptions(svc: Service, who: Paying) -> dict[str, Any]:
    async with svc.db.session() as session:
        rows = await subscriptions.of_customer(session, who.project_id)
    return {"subscriptions": [subscriptions.view(s) for s in rows]}


async def get_subscription(sub_id: str, svc: Service, who: Paying) -> dict[str, Any]:
    async with svc.db.session() as session:
        sub = await subscriptions.get_own(session, who.project_id, sub_id)
    return {"subscription": subscriptions.view(sub)}


async def cancel_subscription(sub_id: str, svc: Service, who: Paying) -> dict[str, Any]:
    sub = await svc.cancel(who.project_id, sub_id)
    return {"subscription": subscriptions.view(sub)}


async def feed(
    landlord: str,
    svc: Service,
    authorization: Annotated[str | None, Header(max_length=20000)] = None,
    since: Since = 0,
    limit: Limit = 500,
) -> dict[str, Any]:
    await svc.landlord_request(authorization, landlord)
    async with svc.db.session() as session:
        rows = await subscriptions.feed(session, landlord, since, limit)
    return {
        "entries": [
            {"seq": r.seq, "kind": r.kind, "id": r.ref_id, "statement": r.statement} for r in rows
        ],
        "next": rows[-1].seq if rows else since,
    }


async def add_offer(body: Statement, svc: Service) -> dict[str, Any]:
    return {"offer": leases.view_offer(await svc.add_offer(body.statement))}


async def list_offers(
    svc: Service,
    landlord: Annotated[str | None, Query(max_length=64)] = None,
    status: Annotated[str, Query(max_length=16)] = "available",
    limit: Limit = 100,
) -> dict[str, Any]:
    query = select(Offer).order_by(Offer.created_at).limit(limit)
    if status != "all":
        query = query.where(Offer.status == status)
    if landlord is not None:
        query = query.where(Offer.landlord == landlord)
    async with svc.db.session() as session:
        rows = list(await session.scalars(query))
        out = [await _with_free(session, o) for o in rows]
    return {"offers": out}


async def _with_free(session: Any, offer: Offer) -> dict[str, Any]:
    held = leases.peak(await leases.live_leases(session, offer.id), offer.start, offer.end)
    doc = leases.view_offer(offer)
    doc["free"] = {k: v - held.get(k, 0) for k, v in offer.capacity.items()}
    return doc


async def get_offer(offer_id: str, svc: Service) -> dict[str, Any]:
    async with svc.db.session() as session:
        offer = await session.get(Offer, offer_id)
        if offer is None:
            raise errors.NotFound(f"Offer {offer_id!r} does not exist.")
        return {"offer": await _with_free(session, offer)}


async def claim(body: ClaimIn, svc: Service, who: Paying) -> dict[str, Any]:
    lease = await svc.claim(who, body.offer_id, body.amounts, body.start, body.end)
    return {"lease": leases.view_lease(lease)}


async def list_leases(
    svc: Service, who: Paying, status: Annotated[str, Query(max_length=16)] = "live"
) -> dict[str, Any]:
    query = select(Lease).where(Lease.customer == who.project_id).order_by(Lease.created_at)
    if status == "live":
        query = query.where(Lease.status.in_(leases.LIVE))
    elif status != "all":
        query = query.where(Lease.status == status)
    async with svc.db.session() as session:
        rows = list(await session.scalars(query.limit(1000)))
    return {"leases": [leases.view_lease(x) for x in rows]}


async def get_lease(lease_id: str, svc: Service, who: Paying) -> dict[str, Any]:
    async with svc.db.session() as session:
        return {"lease": leases.view_lease(await leases.get_own(session, who.project_id, lease_id))}


async def extend_lease(lease_id: str, body: ExtendIn, svc: Service, who: Paying) -> dict[str, Any]:
    return {"lease": leases.view_lease(await svc.extend(who.project_id, lease_id, body.end))}


async def delete_lease(lease_id: str, svc: Service, who: Paying) -> dict[str, Any]:
    return {"lease": leases.view_lease(await svc.end_lease(who.project_id, lease_id))}


async def sublease(lease_id: str, body: SubleaseIn, svc: Service, who: Paying) -> dict[str, Any]:
    doc = body.model_dump(exclude_none=True)
    return {"offer": leases.view_offer(await svc.sublease(who.project_id, lease_id, doc))}


async def list_events(
    svc: Service, who: Paying, since: Since = 0, limit: Limit = 100
) -> dict[str, Any]:
    async with svc.db.session() as session:
        rows = await events.for_customer(session, who.project_id, since, limit)
    return {"events": [events.view(e) for e in rows]}
