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
import functools
import time
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from ocx.common import errors
from ocx.exchange import budgets, bulk, events, money
from ocx.exchange.models import Invoice, Lease, Offer, Price, Subscription

MAX_RECORDS = 10_000
MAX_QUANTITY = Decimal(10**9)
FIELDS = ("record_id", "contract_id", "resource_id", "metric", "start", "end", "quantity", "unit")
OPTIONAL = ("user_id", "resource_type")
FIELD_SET = frozenset(FIELDS)
TEXT_FIELDS = ("record_id", "contract_id", "resource_id", "metric", "unit")
TIMES = (int, float)


@dataclass(frozen=True)
class Ingested:
    accepted: int
    duplicates: int
    amended_invoices: tuple[str, ...]
    cost_nanos: int
    over_budget: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Price:
    valid_from: float
    valid_until: float | None
    unit: str
    nanos: int


class _Prices:
    """Unit prices by (offering, metric), searchable by time (plain values: no ORM per row)."""

    def __init__(self, rows: Iterable[Price]):
        self._by: dict[tuple[str, str], list[_Price]] = {}
        for row in rows:
            price = _Price(row.valid_from, row.valid_until, row.unit, row.unit_price_nanos)
            self._by.setdefault((row.offering_id, row.metric), []).append(price)
        self._starts = {k: [p.valid_from for p in v] for k, v in self._by.items()}

    def at(self, offering_id: str, metric: str, ts: float) -> _Price | None:
        rows = self._by.get((offering_id, metric))
        if not rows:
            return None
        i = bisect.bisect_right(self._starts[(offering_id, metric)], ts) - 1
        if i < 0:
            return None
        row = rows[i]
        return row if row.valid_until is None or ts < row.valid_until else None


@dataclass(frozen=True)
class _Contract:
    """What rating needs of a subscription or lease, read once per batch."""

    kind: str
    landlord: str
    offering_id: str
    customer: str
    begins: float
    ends: float | None
    lease_prices: dict[str, str] | None = None


def _problem(index: int, text: str) -> errors.UnprocessableEntity:
    return errors.UnprocessableEntity(f"Usage record {index}: {text}")


def _check_shape(index: int, record: object, horizon: float) -> dict[str, Any]:
    """``record`` if its fields have the right types (checked with plain type tests: this
    runs for every record of every batch)."""
    if type(record) is not dict:
        raise _problem(index, "is not an object.")
    if not record.keys() >= FIELD_SET:
        missing = [f for f in FIELDS if f not in record]
        raise _problem(index, f"lacks {', '.join(missing)}.")
    for name in TEXT_FIELDS:
        value = record[name]
        if type(value) is not str or not 0 < len(value) <= 128:
            raise _problem(index, f"{name} must be a string of 1 to 128 characters.")
    start, end = record["start"], record["end"]
    if type(start) not in TIMES or type(end) not in TIMES:
        raise _problem(index, "start and end are UNIX times in seconds.")
    if not 0 < start < end <= horizon:
        raise _problem(index, "needs 0 < start < end, and end not in the future.")
    return record


async def _contracts(session: AsyncSession, ids: set[str]) -> dict[str, _Contract]:
    sub_ids = [i for i in ids if i.startswith("sub-")]
    lease_ids = [i for i in ids if i.startswith("lease-")]
    found: dict[str, _Contract] = {}
    if sub_ids:
        for s in await session.scalars(select(Subscription).where(Subscription.id.in_(sub_ids))):
            found[s.id] = _Contract(
                "subscription", s.landlord, s.offering_id, s.customer, s.created_at, s.cancelled_at
            )
    if lease_ids:
        query = select(Lease, Offer).join(Offer, Offer.id == Lease.offer_id)
        for lease, offer in (await session.execute(query.where(Lease.id.in_(lease_ids)))).all():
            found[lease.id] = _Contract(
                "lease",
                lease.landlord,
                offer.id,
                lease.customer,
                lease.start,
                lease.end + offer.grace_seconds,
                offer.prices,
            )
    return found


async def ingest(session: AsyncSession, landlord: str, records: object) -> Ingested:
    if not isinstance(records, list) or not 0 < len(records) <= MAX_RECORDS:
        raise errors.BadRequest(f"A usage batch holds 1 to {MAX_RECORDS} records.")
    horizon = time.time() + 300
    checked = [_check_shape(i, r, horizon) for i, r in enumerate(records)]
    contracts = await _contracts(session, {r["contract_id"] for r in checked})
    offering_ids = {c.offering_id for c in contracts.values() if c.kind == "subscription"}
    prices = _Prices(
        await session.scalars(
            select(Price).where(Price.offering_id.in_(offering_ids)).order_by(Price.valid_from)
        )
    )
    rows = _rate_all(checked, landlord, contracts, prices, time.time())
    new = set(await bulk.insert_new(session, rows))
    accepted = len(new)
    if accepted == len(rows):
        await bulk.add_totals(session, rows)
    else:
        await bulk.add_totals(session, [r for r in rows if r[bulk.RECORD_ID] in new])
    amended = await _amended(session, rows) if accepted else ()
    customers = {r[bulk.CUSTOMER] for r in rows}
    over: list[str] = []
    for period in {r[bulk.PERIOD] for r in rows}:
        over += await budgets.check(session, customers, period)
    cost = sum(r[bulk.COST] for r in rows)
    return Ingested(accepted, len(rows) - accepted, amended, cost, tuple(sorted(set(over))))


MAX_QUANTITY_NANOS = money.to_nanos(MAX_QUANTITY)


def _rate_all(
    records: list[dict[str, Any]],
    landlord: str,
    contracts: dict[str, _Contract],
    prices: _Prices,
    now: float,
) -> list[bulk.Row]:
    """Each record rated, as a row in :data:`bulk.COLUMNS` order.

    This runs for every record of every batch, so it is one loop: the unit price is looked
    up once per (contract, metric, start) of the batch, and a plain decimal quantity is
    turned into nanos with integers (exactly what the :class:`Decimal` path gives, which
    any other form of quantity takes).
    """
    rows: list[bulk.Row] = []
    append = rows.append
    unit_prices: dict[tuple[str, str, float], tuple[int, str | None]] = {}
    plain, period = money.plain_nanos, _period
    for index, r in enumerate(records):
        text = r["quantity"]
        quantity_nanos = plain(text)
        exact: Decimal | None = None
        if quantity_nanos is None:
            exact = money.parse_decimal(text, f"record {index} quantity")
            if exact > MAX_QUANTITY:
                raise _problem(index, f"quantity is over {MAX_QUANTITY} for one record.")
            quantity_nanos = money.to_nanos(exact)
        elif quantity_nanos > MAX_QUANTITY_NANOS:
            raise _problem(index, f"quantity is over {MAX_QUANTITY} for one record.")
        contract_id, metric, start = r["contract_id"], r["metric"], float(r["start"])
        key = (contract_id, metric, start)
        found = unit_prices.get(key)
        if found is None:
            found = unit_prices[key] = _unit_price(index, key, landlord, contracts, prices)
        unit_nanos, priced_unit = found
        if priced_unit is not None and priced_unit != r["unit"]:
            raise _problem(index, f"{metric} is priced per {priced_unit!r}, not {r['unit']!r}.")
        contract = contracts[contract_id]
        cost = (
            money.cost_of_nanos(quantity_nanos, unit_nanos)
            if exact is None
            else money.cost_nanos(exact, unit_nanos)
        )
        user = r.get("user_id", "")
        append(
            (
                landlord,
                r["record_id"],
                contract_id,
                contract.offering_id,
                contract.customer,
                user if type(user) is str and len(user) <= 64 else str(user)[:64],
                r["resource_id"],
                metric,
                start,
                float(r["end"]),
                quantity_nanos,
                r["unit"],
                unit_nanos,
                cost,
                period(start),
                now,
            )
        )
    return rows


def _unit_price(
    index: int,
    key: tuple[str, str, float],
    landlord: str,
    contracts: dict[str, _Contract],
    prices: _Prices,
) -> tuple[int, str | None]:
    """The unit price in nanos of record ``index``'s use, and the unit it must be in (None: a
    lease's price names no unit); the record's problem if its use is not billable."""
    contract_id, metric, start = key
    contract = contracts.get(contract_id)
    if contract is None:
        raise _problem(index, f"no subscription or lease {contract_id!r} at this exchange.")
    if contract.landlord != landlord:
        raise _problem(index, f"{contract.kind} {contract_id} is not with {landlord}.")
    offering_id = contract.offering_id
    if contract.lease_prices is None:
        if start < contract.begins:
            raise _problem(index, f"use before subscription {contract_id} began is not billable.")
        if contract.ends is not None and start >= contract.ends:
            raise _problem(index, f"subscription {contract_id} was cancelled before this use.")
        price = prices.at(offering_id, metric, start)
        if price is None:
            raise _problem(index, f"offering {offering_id} has no price for {metric!r} then.")
        return price.nanos, price.unit
    if not contract.begins <= start < (contract.ends or 0.0):
        raise _problem(index, f"use outside lease {contract_id}'s window is not billable.")
    if metric not in contract.lease_prices:
        raise _problem(index, f"offer {offering_id} has no price for {metric!r}.")
    return money.price_nanos(contract.lease_prices[metric], "offer price"), None


@functools.lru_cache(maxsize=4096)
def _month_of_hour(hour: int) -> str:
    return budgets.period_of(hour * 3600.0)


def _period(start: float) -> str:
    return _month_of_hour(int(start // 3600))


async def _amended(session: AsyncSession, rows: list[bulk.Row]) -> tuple[str, ...]:
    keys = {(r[bulk.CUSTOMER], r[bulk.PERIOD]) for r in rows}
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
