"""Offerings: a landlord's signed description of a service, its prices, SLA and plans.

A new version of an offering never rewrites the past: its prices take effect at
``effective_from`` (now, or later) and close the rows they replace, so usage is always rated
with the price that was in force when it happened.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ocx.common import errors
from ocx.exchange import money
from ocx.exchange.models import Landlord, Offering, Price

SERVICE_TYPES = ("object-store", "volume", "compute", "image", "proxy", "exchange", "identity")
SLA_KEYS = ("availability", "durability", "support")
# How far back an offering may say its prices started: clock skew, not history rewriting.
MAX_BACKDATE = 60.0
LISTED, DELISTED, PENDING = "listed", "delisted", "pending"


@dataclass(frozen=True)
class PriceSpec:
    metric: str
    unit: str
    nanos: int


@dataclass(frozen=True)
class OfferingSpec:
    name: str
    service_type: str
    region: str
    endpoint: str
    version: int
    prices: tuple[PriceSpec, ...]
    effective_from: float
    description: str = ""
    sla: dict[str, str] = field(default_factory=dict)
    capabilities: tuple[str, ...] = ()
    plans: dict[str, Any] = field(default_factory=dict)


def _str(doc: dict[str, Any], key: str, limit: int, default: str | None = None) -> str:
    value = doc.get(key, default)
    if not isinstance(value, str) or not 0 < len(value) <= limit:
        raise errors.BadRequest(f"offering.{key} must be a string of 1 to {limit} characters.")
    return value


def parse_prices(items: object) -> tuple[PriceSpec, ...]:
    if not isinstance(items, list) or not 0 < len(items) <= 100:
        raise errors.BadRequest("offering.prices must be a list of 1 to 100 price dimensions.")
    found: dict[str, PriceSpec] = {}
    for item in items:
        if not isinstance(item, dict):
            raise errors.BadRequest("Each price is an object {metric, unit, price}.")
        metric = _str(item, "metric", 128)
        if metric in found:
            raise errors.BadRequest(f"Price dimension {metric!r} is given twice.")
        found[metric] = PriceSpec(
            metric, _str(item, "unit", 32), money.price_nanos(item.get("price"), f"{metric} price")
        )
    return tuple(found.values())


def parse_sla(doc: object) -> dict[str, str]:
    if not isinstance(doc, dict) or set(doc) - set(SLA_KEYS):
        raise errors.BadRequest(f"offering.sla takes only {', '.join(SLA_KEYS)}.")
    sla = {}
    for key in ("availability", "durability"):
        if key in doc:
            value = money.parse_decimal(doc[key], f"sla.{key}")
            if value > 1:
                raise errors.BadRequest(f"sla.{key} is a fraction between 0 and 1.")
            sla[key] = str(value)
    if "support" in doc:
        if not isinstance(doc["support"], str) or len(doc["support"]) > 128:
            raise errors.BadRequest("sla.support is a short text.")
        sla["support"] = doc["support"]
    return sla


def parse_capabilities(items: object) -> tuple[str, ...]:
    if not isinstance(items, list) or len(items) > 32:
        raise errors.BadRequest("offering.capabilities is a list of at most 32 names.")
    for item in items:
        if not isinstance(item, str) or not item.isidentifier() or len(item) > 32:
            raise errors.BadRequest(f"Capability {item!r} is not a short identifier.")
    return tuple(sorted(set(items)))


def parse_plans(doc: object) -> dict[str, Any]:
    if not isinstance(doc, dict) or len(doc) > 20:
        raise errors.BadRequest("offering.plans maps at most 20 plan names to their quotas.")
    plans: dict[str, Any] = {}
    for name, plan in doc.items():
        quotas = plan.get("quotas", {}) if isinstance(plan, dict) else None
        if not isinstance(quotas, dict) or not all(
            isinstance(v, int) and not isinstance(v, bool) and v >= -1 for v in quotas.values()
        ):
            raise errors.BadRequest(f"Plan {name!r} needs quotas as whole numbers (-1: none).")
        plans[str(name)[:64]] = {"quotas": quotas}
    return plans or {"default": {"quotas": {}}}


def parse_offering(claims: dict[str, Any], now: float) -> OfferingSpec:
    doc = claims.get("offering")
    if not isinstance(doc, dict):
        raise errors.BadRequest("The statement carries no offering object.")
    service_type = _str(doc, "service_type", 64)
    if service_type not in SERVICE_TYPES:
        raise errors.BadRequest(f"service_type must be one of {', '.join(SERVICE_TYPES)}.")
    endpoint = _str(doc, "endpoint", 512)
    if not endpoint.startswith(("http://", "https://")):
        raise errors.BadRequest("offering.endpoint must be an http(s) URL.")
    version = claims.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise errors.BadRequest("The statement's version must be a positive whole number.")
    effective = doc.get("effective_from", now)
    if not isinstance(effective, int | float) or effective < now - MAX_BACKDATE:
        raise errors.BadRequest("Prices cannot take effect in the past (effective_from).")
    return OfferingSpec(
        name=_str(doc, "name", 128),
        service_type=service_type,
        region=_str(doc, "region", 64, "RegionOne"),
        endpoint=endpoint.rstrip("/"),
        version=version,
        prices=parse_prices(doc.get("prices")),
        effective_from=max(float(effective), now),
        description=str(doc.get("description", ""))[:2000],
        sla=parse_sla(doc.get("sla", {})),
        capabilities=parse_capabilities(doc.get("capabilities", [])),
        plans=parse_plans(doc.get("plans", {})),
    )


async def publish(
    session: AsyncSession, landlord: Landlord, spec: OfferingSpec, statement: str, now: float
) -> Offering:
    row = await session.scalar(
        select(Offering).where(Offering.landlord == landlord.name, Offering.name == spec.name)
    )
    if row is None:
        row = Offering(id=str(uuid.uuid4()), landlord=landlord.name, name=spec.name, created_at=now)
        session.add(row)
    elif spec.version <= row.version:
        raise errors.Conflict(
            f"Offering {spec.name!r} is at version {row.version}; a statement must carry a "
            f"newer version (got {spec.version}), so an old one cannot be replayed."
        )
    row.service_type, row.region, row.endpoint = spec.service_type, spec.region, spec.endpoint
    row.owner, row.description, row.sla = landlord.owner, spec.description, spec.sla
    row.capabilities = list(spec.capabilities)
    row.capability_tags = "|" + "".join(f"{c}|" for c in spec.capabilities)
    row.plans, row.version, row.statement = spec.plans, spec.version, statement
    if row.sort_price_nanos is None or spec.effective_from <= now + 1:
        row.sort_price_nanos = spec.prices[0].nanos  # a scheduled price sorts once in force
    row.status, row.status_reason, row.updated_at = PENDING, "not yet checked", now
    await _set_prices(session, row.id, spec)
    return row


async def _set_prices(session: AsyncSession, offering_id: str, spec: OfferingSpec) -> None:
    at = spec.effective_from
    rows = list(await session.scalars(select(Price).where(Price.offering_id == offering_id)))
    for price in rows:
        if price.valid_from >= at:
            await session.delete(price)  # a scheduled price not yet in force: replaced
        elif price.valid_until is None or price.valid_until > at:
            price.valid_until = at
    for p in spec.prices:
        session.add(
            Price(
                offering_id=offering_id,
                metric=p.metric,
                unit=p.unit,
                unit_price_nanos=p.nanos,
                valid_from=at,
            )
        )


async def get(session: AsyncSession, offering_id: str) -> Offering:
    row = await session.get(Offering, offering_id)
    if row is None:
        raise errors.NotFound(f"Offering {offering_id!r} does not exist.")
    return row


def in_force(at: float) -> Any:
    return and_(Price.valid_from <= at, or_(Price.valid_until.is_(None), Price.valid_until > at))


async def prices_at(
    session: AsyncSession, offering_ids: list[str], at: float
) -> dict[str, list[Price]]:
    found: dict[str, list[Price]] = {i: [] for i in offering_ids}
    if not offering_ids:
        return found
    query = select(Price).where(Price.offering_id.in_(offering_ids), in_force(at))
    for price in await session.scalars(query.order_by(Price.id)):
        found[price.offering_id].append(price)
    return found


async def price_history(session: AsyncSession, offering_id: str) -> list[Price]:
    query = select(Price).where(Price.offering_id == offering_id)
    return list(await session.scalars(query.order_by(Price.valid_from, Price.metric)))


@dataclass(frozen=True)
class Filters:
    service_type: str | None = None
    region: str | None = None
    landlord: str | None = None
    capability: tuple[str, ...] = ()
    status: str | None = LISTED
    max_price: Decimal | None = None
    sort: str = "name"
    limit: int = 100
    offset: int = 0


SORTS = ("name", "price", "availability")


def query(filters: Filters) -> Select[Any]:
    q = select(Offering)
    for column, value in (
        (Offering.service_type, filters.service_type),
        (Offering.region, filters.region),
        (Offering.landlord, filters.landlord),
        (Offering.status, filters.status),
    ):
        if value is not None:
            q = q.where(column == value)
    for capability in filters.capability:
        q = q.where(Offering.capability_tags.contains(f"|{capability}|", autoescape=True))
    if filters.max_price is not None:
        q = q.where(Offering.sort_price_nanos <= money.to_nanos(filters.max_price))
    if filters.sort == "price":
        q = q.order_by(Offering.sort_price_nanos, Offering.id)
    elif filters.sort == "availability":
        ratio = (Offering.probes_ok * 1.0) / (Offering.probes_total + 1)
        q = q.order_by(ratio.desc(), Offering.id)
    else:
        q = q.order_by(Offering.landlord, Offering.name)
    return q.limit(filters.limit + 1).offset(filters.offset)


async def search(session: AsyncSession, filters: Filters) -> tuple[list[Offering], bool]:
    rows = list(await session.scalars(query(filters)))
    return rows[: filters.limit], len(rows) > filters.limit


def measured_availability(row: Offering) -> str | None:
    if row.probes_total == 0:
        return None
    return str((Decimal(row.probes_ok) / Decimal(row.probes_total)).quantize(Decimal("0.0001")))


def view(row: Offering, prices: list[Price], *, statement: bool = False) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": row.id,
        "name": row.name,
        "landlord": row.landlord,
        "owner": row.owner,
        "service_type": row.service_type,
        "region": row.region,
        "endpoint": row.endpoint,
        "description": row.description,
        "sla": row.sla,
        "measured_availability": measured_availability(row),
        "probes": row.probes_total,
        "capabilities": row.capabilities,
        "capabilities_checked": row.capabilities_checked,
        "plans": row.plans,
        "prices": [
            {"metric": p.metric, "unit": p.unit, "price": money.show(p.unit_price_nanos)}
            for p in prices
        ],
        "version": row.version,
        "status": row.status,
        "status_reason": row.status_reason,
        "checked_at": row.checked_at,
        "updated_at": row.updated_at,
    }
    if statement:
        doc["statement"] = row.statement
    return doc


def now() -> float:
    return time.time()
