"""The events feed: what a customer or landlord should know (expiry warnings, budgets, ...)."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ocx.exchange.models import Event


def add(
    session: AsyncSession,
    kind: str,
    message: str,
    *,
    customer: str = "",
    landlord: str = "",
    subject: str = "",
) -> None:
    session.add(
        Event(
            kind=kind,
            message=message,
            customer=customer,
            landlord=landlord,
            subject=subject,
            created_at=time.time(),
        )
    )


async def for_customer(
    session: AsyncSession, customer: str, since: int = 0, limit: int = 100
) -> list[Event]:
    query = select(Event).where(Event.customer == customer, Event.seq > since)
    return list(await session.scalars(query.order_by(Event.seq).limit(limit)))


def view(row: Event) -> dict[str, Any]:
    return {
        "seq": row.seq,
        "kind": row.kind,
        "subject": row.subject,
        "landlord": row.landlord,
        "message": row.message,
        "created_at": row.created_at,
    }
