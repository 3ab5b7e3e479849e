"""Budgets: a monthly cap per customer, a warning at 80 %, and (if chosen) refusal at 100 %.

Refusal means the exchange takes no new subscription or lease from the customer, and tells
each landlord it holds subscriptions at (a signed ``budget`` entry in the grant feed) to
refuse new use until the next month or a higher cap.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ocx.common import errors
from ocx.exchange import events, money
from ocx.exchange.models import Budget, UsageTotal

WARN_AT = 0.8


def period_of(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m")


async def spent(session: AsyncSession, customer: str, period: str) -> int:
    query = select(func.coalesce(func.sum(UsageTotal.cost_nanos), 0)).where(
        UsageTotal.customer == customer, UsageTotal.period == period
    )
    return int(await session.scalar(query) or 0)


async def set_budget(
    session: AsyncSession, customer: str, cap_nanos: int, refuse_over: bool
) -> Budget:
    row = await session.get(Budget, customer)
    if row is None:
        row = Budget(customer=customer, warned_period="")
        session.add(row)
    row.monthly_cap_nanos, row.refuse_over, row.updated_at = cap_nanos, refuse_over, time.time()
    row.warned_period = ""
    return row


async def require_room(session: AsyncSession, customer: str) -> None:
    row = await session.get(Budget, customer)
    if row is None or not row.refuse_over:
        return
    used = await spent(session, customer, period_of(time.time()))
    if used >= row.monthly_cap_nanos:
        raise errors.Forbidden(
            f"Over budget: {money.show(used)} spent this month of a cap of "
            f"{money.show(row.monthly_cap_nanos)}; new use is refused."
        )


async def check(session: AsyncSession, customers: set[str], period: str) -> list[str]:
    """Warn customers past 80 % and flag those past 100 %; the customers now over budget."""
    over: list[str] = []
    if not customers:
        return over
    rows = await session.scalars(select(Budget).where(Budget.customer.in_(customers)))
    for row in rows:
        used = await spent(session, row.customer, period)
        cap = row.monthly_cap_nanos
        if used >= cap and row.warned_period != period + "!":
            row.warned_period = period + "!"
            over.append(row.customer)
            what = "new use is now refused" if row.refuse_over else "use continues"
            events.add(
                session,
                "budget.exceeded",
                f"Spending in {period} reached {money.show(used)}, over the cap of "
                f"{money.show(cap)}; {what}.",
                customer=row.customer,
            )
        elif used >= cap * WARN_AT and row.warned_period not in (period, period + "!"):
            row.warned_period = period
            events.add(
                session,
                "budget.warning",
                f"Spending in {period} reached {money.show(used)}, 80 % of the cap of "
                f"{money.show(cap)}.",
                customer=row.customer,
            )
    return [c for c in over if (await session.get(Budget, c)).refuse_over]  # type: ignore[union-attr]


async def view(session: AsyncSession, customer: str) -> dict[str, Any]:
    row = await session.get(Budget, customer)
    period = period_of(time.time())
    used = await spent(session, customer, period)
    doc: dict[str, Any] = {"customer": customer, "period": period, "spent": money.show(used)}
    if row is None:
        return {**doc, "monthly_cap": None, "refuse_over": False}
    return {
        **doc,
        "monthly_cap": money.show(row.monthly_cap_nanos),
        "refuse_over": row.refuse_over,
        "used_fraction": str((Decimal(used) / row.monthly_cap_nanos).quantize(Decimal("0.0001")))
        if row.monthly_cap_nanos
        else None,
    }
