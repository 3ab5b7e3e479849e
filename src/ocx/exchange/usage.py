"""Usage: landlords' signed batches of usage records, rated at ingest.

A record follows the APEL cloud record's spirit: who (``contract_id``: the subscription or
lease it is used under; ``user_id``), what (``resource_id``, ``metric``), when (``start``,
``end``) and how much (``quantity`` in ``unit``). Ingest is idempotent: a record id seen
before from the same landlord, or a second record for the same contract, resource, metric
and start, counts once. Each record is rated with the unit price in force at its ``start``
(subscriptions: the offering's price history; leases: the price the lease was made at).
A record that arrives after its month's invoice was issued amends that invoice.
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from ocx.common import errors
from ocx.exchange import budgets, events, money
from ocx.exchange.models import Invoice, Lease, Offer, Price, Subscription, UsageRecord

MAX_RECORDS = 10_000
MAX_QUANTITY = Decimal(10**9)
FIELDS = ("record_id", "contract_id", "resource_id", "metric", "start", "end", "quantity", "unit")
OPTIONAL = ("user_id", "resource_type")


@dataclass(frozen=True)
class Ingested:
    accepted: int
    duplicates: int
    amended_invoices: tuple[str, ...]
    cost_nanos: int
    over_budget: tuple[str, ...] = ()


class _Prices:
    """Unit prices by (offering, metric), searchable by time."""

    def __init__(self, rows: Iterable[Price]):
        self._by: dict[tuple[str, str], list[Price]] = {}
        for row in rows:
            self._by.setdefault((row.offering_id, row.metric), []).append(row)
        self._starts = {k: [p.valid_from for p in v] for k, v in self._by.items()}

    def at(self, offering_id: str, metric: str, ts: float) -> Price | None:
        rows = self._by.get((offering_id, metric))
        if not rows:
            return None
        i = bisect.bisect_right(self._starts[(offering_id, metric)], ts) - 1
        if i < 0:
            return None
        row = rows[i]
        return row if row.valid_until is None or ts < row.valid_until else None


def _problem(index: int, text: str) -> errors.UnprocessableEntity:
    return errors.UnprocessableEntity(f"Usage record {index}: {text}")


def _check_shape(index: int, record: object) -> dict[str, Any]:
    if not isinstance(record, dict):
        raise _problem(index, "is not an object.")
    missing = [f for f in FIELDS if f not in record]
    if missing:
        raise _problem(index, f"lacks {', '.join(missing)}.")
    for name in ("record_id", "contract_id", "resource_id", "metric", "unit"):
        value = record[name]
        if not isinstance(value, str) or not 0 < len(value) <= 128:
            raise _problem(index, f"{name} must be a string of 1 to 128 characters.")
    start, end = record["start"], record["end"]
    if not all(isinstance(t, int | float) and not isinstance(t, bool) for t in (start, end)):
        raise _problem(index, "start and end are UNIX times in seconds.")
    if not 0 < start < end <= time.time() + 300:
        raise _problem(index, "needs 0 < start < end, and end not in the future.")
    return record


async def _contracts(
    session: AsyncSession, ids: set[str]
) -> tuple[dict[str, Subscription], dict[str, tuple[Lease, Offer]]]:
    sub_ids = [i for i in ids if i.startswith("sub-")]
    lease_ids = [i for i in ids if i.startswith("lease-")]
    subs = {
        s.id: s
        for s in await session.scalars(select(Subscription).where(Subscription.id.in_(sub_ids)))
    }
    leases: dict[str, tuple[Lease, Offer]] = {}
    if lease_ids:
        query = select(Lease, Offer).join(Offer, Offer.id == Lease.offer_id)
        for lease, offer in (await session.execute(query.where(Lease.id.in_(lease_ids)))).all():
            leases[lease.id] = (lease, offer)
    return subs, leases


async def ingest(session: AsyncSession, landlord: str, records: object) -> Ingested:
    if not isinstance(records, list) or not 0 < len(records) <= MAX_RECORDS:
        raise errors.BadRequest(f"A usage batch holds 1 to {MAX_RECORDS} records.")
    checked = [_check_shape(i, r) for i, r in enumerate(records)]
    subs, leases = await _contracts(session, {r["contract_id"] for r in checked})
    offering_ids = {s.offering_id for s in subs.values()}
    prices = _Prices(
        await session.scalars(
            select(Price).where(Price.offering_id.in_(offering_ids)).order_by(Price.valid_from)
        )
    )
    now = time.time()
    rows = [_rated(i, r, landlord, subs, leases, prices, now) for i, r in enumerate(checked)]
    before = await _count(session, landlord, [r["record_id"] for r in rows])
    await session.execute(_insert_ignoring(session), rows)
    accepted = await _count(session, landlord, [r["record_id"] for r in rows]) - before
    amended = await _amended(session, rows) if accepted else ()
    customers = {r["customer"] for r in rows}
    over: list[str] = []
    for period in {r["period"] for r in rows}:
        over += await budgets.check(session, customers, period)
    cost = sum(r["cost_nanos"] for r in rows)
    return Ingested(accepted, len(rows) - accepted, amended, cost, tuple(sorted(set(over))))


def _rated(
    index: int,
    r: dict[str, Any],
    landlord: str,
    subs: dict[str, Subscription],
    leases: dict[str, tuple[Lease, Offer]],
    prices: _Prices,
    now: float,
) -> dict[str, Any]:
    contract = r["contract_id"]
    quantity = money.parse_decimal(r["quantity"], f"record {index} quantity")
    if quantity > MAX_QUANTITY:
        raise _problem(index, f"quantity is over {MAX_QUANTITY} for one record.")
    start = float(r["start"])
    if contract in subs:
        sub = subs[contract]
        if sub.landlord != landlord:
            raise _problem(index, f"subscription {contract} is not with {landlord}.")
        if start < sub.created_at:
            raise _problem(index, f"use before subscription {contract} began is not billable.")
        if sub.cancelled_at is not None and start >= sub.cancelled_at:
            raise _problem(index, f"subscription {contract} was cancelled before this use.")
        offering_id, customer = sub.offering_id, sub.customer
        price = prices.at(offering_id, r["metric"], start)
        if price is None:
            raise _problem(index, f"offering {offering_id} has no price for {r['metric']!r} then.")
        if price.unit != r["unit"]:
            raise _problem(index, f"{r['metric']} is priced per {price.unit!r}, not {r['unit']!r}.")
        unit_nanos = price.unit_price_nanos
    elif contract in leases:
        lease, offer = leases[contract]
        if lease.landlord != landlord:
            raise _problem(index, f"lease {contract} is not with {landlord}.")
        offering_id, customer = offer.id, lease.customer
        if not lease.start <= start < lease.end + offer.grace_seconds:
            raise _problem(index, f"use outside lease {contract}'s window is not billable.")
        if r["metric"] not in offer.prices:
            raise _problem(index, f"offer {offer.id} has no price for {r['metric']!r}.")
        unit_nanos = money.price_nanos(offer.prices[r["metric"]], "offer price")
    else:
        raise _problem(index, f"no subscription or lease {contract!r} at this exchange.")
    return {
        "landlord": landlord,
        "record_id": r["record_id"],
        "contract_id": contract,
        "offering_id": offering_id,
        "customer": customer,
        "user_id": str(r.get("user_id", ""))[:64],
        "resource_id": r["resource_id"],
        "metric": r["metric"],
        "start": start,
        "end": float(r["end"]),
        "quantity_nanos": money.to_nanos(quantity),
        "unit": r["unit"],
        "unit_price_nanos": unit_nanos,
        "cost_nanos": money.cost_nanos(quantity, unit_nanos),
        "period": budgets.period_of(start),
        "ingested_at": now,
    }


def _insert_ignoring(session: AsyncSession) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(UsageRecord).on_conflict_do_nothing()
    return sqlite.insert(UsageRecord).on_conflict_do_nothing()


async def _count(session: AsyncSession, landlord: str, record_ids: list[str]) -> int:
    total = 0
    for i in range(0, len(record_ids), 900):
        chunk = record_ids[i : i + 900]
        query = select(func.count()).where(
            UsageRecord.landlord == landlord, UsageRecord.record_id.in_(chunk)
        )
        total += int(await session.scalar(query) or 0)
    return total


async def _amended(session: AsyncSession, rows: list[dict[str, Any]]) -> tuple[str, ...]:
    keys = {(r["customer"], r["period"]) for r in rows}
    query = select(Invoice).where(tuple_(Invoice.customer, Invoice.period).in_(list(keys)))
    found = []
    for invoice in await session.scalars(query):
        found.append(invoice.id)
        events.add(
            session,
            "invoice.amended",
            f"Late usage arrived for {invoice.period}; invoice {invoice.id} has an amendment.",
            customer=invoice.customer,
            subject=invoice.id,
        )
    return tuple(found)
