"""Usage ingest, invoices, settlements and budgets: parse, call, render."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Header, Query
from fastapi.responses import Response
from sqlalchemy import func, select

from ocx.common import errors
from ocx.exchange import budgets, invoices, money
from ocx.exchange.api.deps import (
    Caller,
    Operator,
    Paying,
    Service,
    is_landlord_admin,
    is_operator,
)
from ocx.exchange.api.schemas import BudgetIn, IssueIn, Statement
from ocx.exchange.models import UsageRecord

Period = Annotated[str, Query(min_length=7, max_length=7)]


async def ingest(body: Statement, svc: Service) -> dict[str, Any]:
    done = await svc.ingest(body.statement)
    return {
        "accepted": done.accepted,
        "duplicates": done.duplicates,
        "amended_invoices": list(done.amended_invoices),
    }


async def list_usage(
    svc: Service,
    who: Paying,
    period: Period,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10**8)] = 0,
) -> dict[str, Any]:
    invoices.check_period(period)
    query = (
        select(UsageRecord)
        .where(UsageRecord.customer == who.project_id, UsageRecord.period == period)
        .order_by(UsageRecord.start, UsageRecord.landlord, UsageRecord.record_id)
        .limit(limit)
        .offset(offset)
    )
    async with svc.db.session() as session:
        rows = list(await session.scalars(query))
    return {
        "usage": [
            {
                "landlord": r.landlord,
                "record_id": r.record_id,
                "contract_id": r.contract_id,
                "resource_id": r.resource_id,
                "metric": r.metric,
                "start": r.start,
                "end": r.end,
                "quantity": money.show(r.quantity_nanos),
                "unit": r.unit,
                "unit_price": money.show(r.unit_price_nanos),
                "cost": money.show(r.cost_nanos),
            }
            for r in rows
        ]
    }


async def usage_summary(svc: Service, who: Paying, period: Period) -> dict[str, Any]:
    """The month's usage summed by landlord, metric, unit and start (the hour a meter's round
    covers): what a chart or a table of totals needs, in a few rows however many records there
    are. ``records`` counts what was summed."""
    invoices.check_period(period)
    query = (
        select(
            UsageRecord.landlord,
            UsageRecord.metric,
            UsageRecord.unit,
            UsageRecord.start,
            func.count(),
            func.sum(UsageRecord.quantity_nanos),
            func.sum(UsageRecord.cost_nanos),
        )
        .where(UsageRecord.customer == who.project_id, UsageRecord.period == period)
        .group_by(UsageRecord.landlord, UsageRecord.metric, UsageRecord.unit, UsageRecord.start)
        .order_by(UsageRecord.start, UsageRecord.landlord, UsageRecord.metric)
    )
    async with svc.db.session() as session:
        rows = (await session.execute(query)).all()
    groups = [
        {
            "landlord": landlord,
            "metric": metric,
            "unit": unit,
            "start": start,
            "records": int(count),
            "quantity": money.show(int(quantity)),
            "cost": money.show(int(cost)),
        }
        for landlord, metric, unit, start, count, quantity, cost in rows
    ]
    return {"period": period, "records": sum(g["records"] for g in groups), "groups": groups}


async def get_invoice(
    period: str,
    svc: Service,
    who: Caller,
    customer: Annotated[str | None, Query(max_length=64)] = None,
    format: Annotated[str, Query(pattern="^(json|csv|focus)$")] = "json",
) -> Any:
    if customer is not None and customer != who.project_id and not is_operator(who):
        raise errors.Forbidden("Only the exchange's operator reads other customers' invoices.")
    target = customer or who.project_id
    if target is None:
        raise errors.Forbidden("A customer reads invoices with a project-scoped token.")
    async with svc.db.session() as session:
        doc = await invoices.invoice(session, target, period)
    if format == "json":
        return {"invoice": doc}
    rows = invoices.focus_rows(doc, svc.audience)
    if format == "focus":
        return {"rows": rows}
    return Response(invoices.to_csv(rows), media_type="text/csv")


async def issue_invoice(period: str, body: IssueIn, svc: Service, _who: Operator) -> Any:
    async with svc.db.session() as session:
        row = await invoices.issue(session, body.customer, period)
    async with svc.db.session() as session:
        return {"invoice": await invoices.invoice(session, row.customer, row.period)}


async def settlement(
    landlord: str,
    period: str,
    svc: Service,
    authorization: Annotated[str | None, Header(max_length=20000)] = None,
    x_auth_token: Annotated[str | None, Header(max_length=20000)] = None,
) -> dict[str, Any]:
    if x_auth_token is not None:
        who = await svc.verifier.verify(x_auth_token)
        if not (is_operator(who) or is_landlord_admin(who, landlord)):
            raise errors.Forbidden("Only the exchange's operator or the landlord reads this.")
    else:
        await svc.landlord_request(authorization, landlord)
    async with svc.db.session() as session:
        return {"settlement": await invoices.settlement(session, landlord, period)}


async def get_budget(svc: Service, who: Paying) -> dict[str, Any]:
    async with svc.db.session() as session:
        return {"budget": await budgets.view(session, who.project_id)}


async def set_budget(body: BudgetIn, svc: Service, who: Paying) -> dict[str, Any]:
    cap = money.price_nanos(body.monthly_cap, "monthly_cap")
    async with svc.db.session() as session:
        await budgets.set_budget(session, who.project_id, cap, body.refuse_over)
    async with svc.db.session() as session:
        return {"budget": await budgets.view(session, who.project_id)}
