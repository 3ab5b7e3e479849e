"""Landlords, offerings, the exchange's keys, and the broker: parse, call, render."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Header, Query, Request

from ocx.common import errors
from ocx.exchange import broker, catalogue, money, offerings, parties, signing
from ocx.exchange.api.deps import Operator, Service
from ocx.exchange.api.schemas import NeedIn, ProbeCredentialIn, Statement


async def discovery(request: Request, svc: Service) -> dict[str, Any]:
    base = svc.settings.public_url.rstrip("/")
    return {
        "exchange": svc.audience,
        "version": "v1",
        "jwks_uri": base + signing.JWKS_PATH,
        "openapi": base + "/openapi.json",
        "statement_types": [
            signing.TYP_ENROL,
            signing.TYP_OFFERING,
            signing.TYP_OFFER,
            signing.TYP_USAGE,
            signing.TYP_REQUEST,
        ],
    }


async def jwks(svc: Service) -> dict[str, Any]:
    return svc.market.jwks()


async def enrol(body: Statement, svc: Service, _who: Operator) -> dict[str, Any]:
    row = await svc.enrol(body.statement)
    return {"landlord": parties.view(row)}


async def list_landlords(svc: Service) -> dict[str, Any]:
    async with svc.db.session() as session:
        rows = await parties.all_landlords(session)
    return {"landlords": [parties.view(r) for r in rows]}


async def get_landlord(name: str, svc: Service) -> dict[str, Any]:
    async with svc.db.session() as session:
        return {"landlord": parties.view(await parties.get(session, name))}


async def set_probe_credential(
    landlord: str,
    body: ProbeCredentialIn,
    svc: Service,
    authorization: Annotated[str | None, Header(max_length=20000)] = None,
) -> dict[str, Any]:
    await svc.landlord_request(authorization, landlord)
    async with svc.db.session() as session:
        row = await parties.get(session, landlord)
        row.probe_credential = {"id": body.id, "secret": body.secret}
        return {"landlord": parties.view(row)}


async def publish(body: Statement, svc: Service) -> dict[str, Any]:
    row = await svc.publish(body.statement)
    async with svc.db.session() as session:
        prices = await offerings.prices_at(session, [row.id], offerings.now())
    return {"offering": offerings.view(row, prices[row.id])}


def _filters(
    service_type: str | None,
    region: str | None,
    landlord: str | None,
    capability: list[str],
    status: str,
    max_price: str | None,
    sort: str,
    limit: int,
    offset: int,
) -> offerings.Filters:
    if sort not in offerings.SORTS:
        raise errors.BadRequest(f"sort must be one of {', '.join(offerings.SORTS)}.")
    return offerings.Filters(
        service_type=service_type,
        region=region,
        landlord=landlord,
        capability=tuple(capability),
        status=None if status == "all" else status,
        max_price=None if max_price is None else money.parse_decimal(max_price, "max_price"),
        sort=sort,
        limit=limit,
        offset=offset,
    )


async def list_offerings(
    svc: Service,
    service_type: Annotated[str | None, Query(max_length=64)] = None,
    region: Annotated[str | None, Query(max_length=64)] = None,
    landlord: Annotated[str | None, Query(max_length=64)] = None,
    capability: Annotated[list[str] | None, Query(max_length=32)] = None,
    status: Annotated[str, Query(max_length=16)] = "listed",
    max_price: Annotated[str | None, Query(max_length=32)] = None,
    sort: Annotated[str, Query(max_length=16)] = "name",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10**7)] = 0,
) -> dict[str, Any]:
    found = _filters(
        service_type, region, landlord, capability or [], status, max_price, sort, limit, offset
    )
    return await catalogue.page(svc, found)


async def get_offering(offering_id: str, svc: Service) -> dict[str, Any]:
    async with svc.db.session() as session:
        row = await offerings.get(session, offering_id)
        prices = await offerings.prices_at(session, [row.id], offerings.now())
    return {"offering": offerings.view(row, prices[row.id], statement=True)}


async def price_history(offering_id: str, svc: Service) -> dict[str, Any]:
    async with svc.db.session() as session:
        await offerings.get(session, offering_id)
        rows = await offerings.price_history(session, offering_id)
    return {
        "prices": [
            {
                "metric": p.metric,
                "unit": p.unit,
                "price": money.show(p.unit_price_nanos),
                "valid_from": p.valid_from,
                "valid_until": p.valid_until,
            }
            for p in rows
        ]
    }


async def check_now(offering_id: str, svc: Service, _who: Operator) -> dict[str, Any]:
    verdict = await svc.check_offering(offering_id)
    return {"ok": verdict.ok, "reason": verdict.reason, "checked": list(verdict.checked)}


async def choose(body: NeedIn, svc: Service) -> dict[str, Any]:
    try:
        need = broker.Need(
            service_type=body.service_type,
            amount=money.parse_decimal(body.amount, "amount"),
            hours=money.parse_decimal(body.hours, "hours"),
            metric=body.metric,
            max_price=None
            if body.max_price is None
            else money.parse_decimal(body.max_price, "max_price"),
            regions=tuple(body.regions),
            capabilities=tuple(body.capabilities),
            sla_floor=None
            if body.sla_floor is None
            else money.parse_decimal(body.sla_floor, "sla_floor"),
            distinct_owners=body.distinct_owners,
            policy=body.policy,
        )
        choice = broker.choose(need, await catalogue.candidates(svc, body.service_type))
    except ValueError as exc:
        raise errors.BadRequest(str(exc)) from exc
    return catalogue.render_choice(choice)
