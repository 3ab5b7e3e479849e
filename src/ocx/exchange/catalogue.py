"""The catalogue as pages for the API and as broker candidates."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from ocx.exchange import broker, money, offerings
from ocx.exchange.models import Offering

if TYPE_CHECKING:
    from ocx.exchange.service import ExchangeService

MAX_CANDIDATES = 5000


async def page(svc: ExchangeService, filters: offerings.Filters) -> dict[str, Any]:
    async with svc.db.session() as session:
        rows, more = await offerings.search(session, filters)
        prices = await offerings.prices_at(session, [r.id for r in rows], offerings.now())
    return {
        "offerings": [offerings.view(r, prices[r.id]) for r in rows],
        "next_offset": filters.offset + filters.limit if more else None,
    }


async def candidates(svc: ExchangeService, service_type: str) -> list[broker.Candidate]:
    async with svc.db.session() as session:
        query = select(Offering).where(Offering.service_type == service_type)
        rows = list(await session.scalars(query.limit(MAX_CANDIDATES)))
        prices = await offerings.prices_at(session, [r.id for r in rows], offerings.now())
    return [
        broker.Candidate(
            offering_id=r.id,
            name=r.name,
            landlord=r.landlord,
            owner=r.owner,
            service_type=r.service_type,
            region=r.region,
            capabilities=tuple(r.capabilities),
            prices={p.metric: Decimal(money.show(p.unit_price_nanos)) for p in prices[r.id]},
            promised=Decimal(r.sla["availability"]) if "availability" in r.sla else None,
            measured=None
            if offerings.measured_availability(r) is None
            else Decimal(str(offerings.measured_availability(r))),
            listed=r.status == offerings.LISTED,
            endpoint=r.endpoint,
        )
        for r in rows
    ]


def _who(c: broker.Candidate) -> dict[str, Any]:
    return {
        "offering_id": c.offering_id,
        "name": c.name,
        "landlord": c.landlord,
        "owner": c.owner,
        "region": c.region,
        "endpoint": c.endpoint,
    }


def render_choice(choice: broker.Choice) -> dict[str, Any]:
    def ranked(r: broker.Ranked) -> dict[str, Any]:
        return {
            **_who(r.candidate),
            "rank": r.rank,
            "estimated_cost": str(r.cost),
            "reasons": list(r.reasons),
        }

    return {
        "policy": choice.need.policy,
        "satisfied": choice.satisfied,
        "summary": choice.summary,
        "chosen": [ranked(r) for r in choice.chosen],
        "ranked": [ranked(r) for r in choice.ranked],
        "excluded": [{**_who(e.candidate), "reasons": list(e.reasons)} for e in choice.excluded],
        "notes": list(choice.notes),
    }
