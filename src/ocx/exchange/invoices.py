"""Invoices (one per customer and month, across every landlord) and settlements (one per
landlord and month, across every customer), aggregated in SQL over the rated records.

Issuing an invoice freezes its total; records that arrive later for that month are shown as
an amendment on the same invoice instead of changing what was issued.
"""

from __future__ import annotations

import csv
import io
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ocx.common import errors
from ocx.exchange import money
from ocx.exchange.models import Invoice, Offering, UsageRecord, UsageTotal

CURRENCY = "USD"


def check_period(period: str) -> str:
    try:
        datetime.strptime(period, "%Y-%m")
    except ValueError as exc:
        raise errors.BadRequest(f"A period is a month, YYYY-MM, not {period!r}.") from exc
    if len(period) != 7:
        raise errors.BadRequest(f"A period is a month, YYYY-MM, not {period!r}.")
    return period


def period_bounds(period: str) -> tuple[str, str]:
    start = datetime.strptime(period, "%Y-%m").replace(tzinfo=UTC)
    end = start.replace(year=start.year + (start.month == 12), month=start.month % 12 + 1)
    return start.isoformat(), end.isoformat()


@dataclass
class Line:
    landlord: str
    offering_id: str
    metric: str
    unit: str
    unit_price_nanos: int
    quantity_nanos: int
    cost_nanos: int
    records: int
    customer: str = ""

    def view(self, names: dict[str, tuple[str, str, str]]) -> dict[str, Any]:
        name, service_type, region = names.get(self.offering_id, ("?", "?", "?"))
        doc = {
            "landlord": self.landlord,
            "offering_id": self.offering_id,
            "offering": name,
            "service_type": service_type,
            "region": region,
            "metric": self.metric,
            "unit": self.unit,
            "unit_price": money.show(self.unit_price_nanos),
            "quantity": money.show(self.quantity_nanos),
            "cost": money.show(self.cost_nanos),
            "records": self.records,
        }
        if self.customer:
            doc["customer"] = self.customer
        return doc


async def _lines(session: AsyncSession, where: list[Any], by_customer: bool = False) -> list[Line]:
    """Invoice lines from the running totals (one row per line, whatever the record count)."""
    t = UsageTotal
    keys: list[Any] = [t.landlord, t.offering_id, t.metric, t.unit, t.unit_price_nanos]
    if by_customer:
        keys.append(t.customer)
    query = select(
        *keys, func.sum(t.quantity_nanos), func.sum(t.cost_nanos), func.sum(t.records)
    ).where(*where)
    return _to_lines(await session.execute(query.group_by(*keys).order_by(*keys)), by_customer)


async def _late_lines(
    session: AsyncSession, customer: str, period: str, after: float
) -> list[Line]:
    """Lines of the records that arrived after ``after`` (an issued invoice's amendment)."""
    r = UsageRecord
    keys: list[Any] = [r.landlord, r.offering_id, r.metric, r.unit, r.unit_price_nanos]
    query = select(*keys, func.sum(r.quantity_nanos), func.sum(r.cost_nanos), func.count()).where(
        r.customer == customer, r.period == period, r.ingested_at > after
    )
    return _to_lines(await session.execute(query.group_by(*keys).order_by(*keys)), False)


def _to_lines(result: Any, by_customer: bool) -> list[Line]:
    lines = []
    for row in result.all():
        values: tuple[Any, ...] = tuple(row)
        landlord, offering_id, metric, unit, price = values[:5]
        quantity, cost, count = values[-3:]
        line = Line(
            landlord, offering_id, metric, unit, price, int(quantity), int(cost), int(count)
        )
        if by_customer:
            line.customer = values[5]
        lines.append(line)
    return lines


async def _names(session: AsyncSession, lines: list[Line]) -> dict[str, tuple[str, str, str]]:
    ids = {line.offering_id for line in lines}
    if not ids:
        return {}
    query = select(Offering.id, Offering.name, Offering.service_type, Offering.region)
    rows = (await session.execute(query.where(Offering.id.in_(ids)))).all()
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


async def invoice(session: AsyncSession, customer: str, period: str) -> dict[str, Any]:
    check_period(period)
    where = [UsageTotal.customer == customer, UsageTotal.period == period]
    lines = await _lines(session, where)
    names = await _names(session, lines)
    total = sum(line.cost_nanos for line in lines)
    issued = await session.scalar(
        select(Invoice).where(Invoice.customer == customer, Invoice.period == period)
    )
    start, end = period_bounds(period)
    doc: dict[str, Any] = {
        "customer": customer,
        "period": period,
        "period_start": start,
        "period_end": end,
        "currency": CURRENCY,
        "landlords": sorted({line.landlord for line in lines}),
        "lines": [line.view(names) for line in lines],
        "total": money.show(total),
        "records": sum(line.records for line in lines),
        "status": "open",
    }
    if issued is not None:
        late = await _late_lines(session, customer, period, issued.issued_at)
        doc.update(
            id=issued.id,
            status="issued",
            issued_at=issued.issued_at,
            issued_total=money.show(issued.total_nanos),
            amendment={
                "lines": [line.view(names) for line in late],
                "total": money.show(sum(line.cost_nanos for line in late)),
            }
            if late
            else None,
        )
    return doc


async def issue(session: AsyncSession, customer: str, period: str) -> Invoice:
    check_period(period)
    if period >= datetime.fromtimestamp(time.time(), UTC).strftime("%Y-%m"):
        raise errors.Conflict(f"The month {period} is not over yet; it cannot be issued.")
    found = await session.scalar(
        select(Invoice).where(Invoice.customer == customer, Invoice.period == period)
    )
    if found is not None:
        raise errors.Conflict(f"Invoice {found.id} for {period} was already issued.")
    where = [UsageTotal.customer == customer, UsageTotal.period == period]
    total, count = (
        await session.execute(
            select(
                func.coalesce(func.sum(UsageTotal.cost_nanos), 0),
                func.coalesce(func.sum(UsageTotal.records), 0),
            ).where(*where)
        )
    ).one()
    row = Invoice(
        id="inv-" + uuid.uuid4().hex[:16],
        customer=customer,
        period=period,
        total_nanos=int(total),
        records=int(count),
        issued_at=time.time(),
    )
    session.add(row)
    return row


async def settlement(session: AsyncSession, landlord: str, period: str) -> dict[str, Any]:
    check_period(period)
    where = [UsageTotal.landlord == landlord, UsageTotal.period == period]
    lines = await _lines(session, where, by_customer=True)
    names = await _names(session, lines)
    return {
        "landlord": landlord,
        "period": period,
        "currency": CURRENCY,
        "customers": len({line.customer for line in lines}),
        "lines": [line.view(names) for line in lines],
        "total": money.show(sum(line.cost_nanos for line in lines)),
    }


FOCUS_COLUMNS = (
    "BillingAccountId",
    "BillingPeriodStart",
    "BillingPeriodEnd",
    "BillingCurrency",
    "InvoiceIssuerName",
    "ProviderName",
    "ServiceName",
    "ServiceCategory",
    "RegionId",
    "ChargeCategory",
    "ChargeDescription",
    "ConsumedQuantity",
    "ConsumedUnit",
    "ContractedUnitPrice",
    "BilledCost",
)


def focus_rows(doc: dict[str, Any], issuer: str) -> list[dict[str, str]]:
    """The invoice's lines with FOCUS-style column names."""
    return [
        {
            "BillingAccountId": doc["customer"],
            "BillingPeriodStart": doc["period_start"],
            "BillingPeriodEnd": doc["period_end"],
            "BillingCurrency": doc["currency"],
            "InvoiceIssuerName": issuer,
            "ProviderName": line["landlord"],
            "ServiceName": line["offering"],
            "ServiceCategory": line["service_type"],
            "RegionId": line["region"],
            "ChargeCategory": "Usage",
            "ChargeDescription": line["metric"],
            "ConsumedQuantity": line["quantity"],
            "ConsumedUnit": line["unit"],
            "ContractedUnitPrice": line["unit_price"],
            "BilledCost": line["cost"],
        }
        for line in doc["lines"]
    ]


def to_csv(rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=FOCUS_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()
