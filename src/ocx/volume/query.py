"""Listing volumes and snapshots as Cinder does: filters, sort keys and marker pages."""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from ocx.common import errors
from ocx.common.pagination import MAX_LIMIT
from ocx.volume.caller import Caller
from ocx.volume.microversion import Version

# Query keys that are not filters.
CONTROL = {
    "limit",
    "marker",
    "offset",
    "sort",
    "sort_key",
    "sort_dir",
    "all_tenants",
    "with_count",
    "project_id",
    "is_public",
}
FILTERS = {
    "volume": {
        "name",
        "status",
        "metadata",
        "bootable",
        "availability_zone",
        "size",
        "migration_status",
        "group_id",
        "consumes_quota",
        "id",
    },
    "snapshot": {
        "name",
        "status",
        "volume_id",
        "metadata",
        "availability_zone",
        "consumes_quota",
        "id",
    },
}
SORT_KEYS = {"id", "name", "status", "size", "created_at", "updated_at", "availability_zone"}


@dataclass(frozen=True)
class Listing:
    filters: dict[str, str]
    limit: int | None
    marker: str | None
    sort_key: str
    sort_dir: str
    all_tenants: bool
    project_id: str | None
    with_count: bool

    @classmethod
    def parse(cls, params: dict[str, str], kind: str, version: Version) -> Listing:
        filters: dict[str, str] = {}
        for key, value in params.items():
            if key in CONTROL:
                continue
            base = key.removesuffix("~") if version >= (3, 34) else key
            if base not in FILTERS[kind]:
                raise errors.BadRequest(f"Invalid filters {key} are found in query options.")
            filters[key] = value
        key, direction = _sort(params)
        return cls(
            filters=filters,
            limit=_limit(params.get("limit")),
            marker=params.get("marker"),
            sort_key=key,
            sort_dir=direction,
            all_tenants=_true(params.get("all_tenants")),
            project_id=params.get("project_id"),
            with_count=_true(params.get("with_count")) and version >= (3, 45),
        )


def _true(value: str | None) -> bool:
    return value is not None and value.lower() in ("1", "true", "yes", "t", "on")


def _limit(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        limit = int(value)
    except ValueError as exc:
        raise errors.BadRequest(f"limit param must be an integer, not {value!r}") from exc
    if limit < 0:
        raise errors.BadRequest("limit param must be positive")
    return min(limit, MAX_LIMIT)


def _sort(params: dict[str, str]) -> tuple[str, str]:
    key, direction = "created_at", "desc"
    if params.get("sort"):
        first = params["sort"].split(",")[0]
        key, _, direction = first.partition(":")
        direction = direction or "desc"
    elif params.get("sort_key"):
        key, direction = params["sort_key"], params.get("sort_dir", "desc")
    if key not in SORT_KEYS:
        raise errors.BadRequest(f"Invalid sort key {key!r}.")
    if direction not in ("asc", "desc"):
        raise errors.BadRequest(f"Invalid sort direction {direction!r}: must be asc or desc.")
    return key, direction


def metadata_filter(value: str) -> dict[str, str]:
    """OSC sends ``"{'k': 'v'}"`` (a Python dict's str); JSON is fine too."""
    try:
        parsed = json.loads(value)
    except ValueError:
        try:
            parsed = ast.literal_eval(value)
        except (ValueError, SyntaxError) as exc:
            raise errors.BadRequest(f"Invalid metadata filter {value!r}.") from exc
    if not isinstance(parsed, dict):
        raise errors.BadRequest(f"Invalid metadata filter {value!r}.")
    return {str(k): str(v) for k, v in parsed.items()}


async def page(
    session: AsyncSession, model: Any, query: Select[Any], listing: Listing
) -> tuple[list[Any], bool]:
    """Rows after the marker in (sort key, id) order, and whether more follow."""
    column: InstrumentedAttribute[Any] = getattr(model, listing.sort_key)
    ident: InstrumentedAttribute[Any] = model.id
    desc = listing.sort_dir == "desc"
    if listing.marker:
        marker = await session.get(model, listing.marker)
        if marker is None:
            raise errors.BadRequest(f"Marker {listing.marker} could not be found.")
        value = getattr(marker, listing.sort_key)
        after = (column < value) if desc else (column > value)
        same = and_(column == value, (ident < marker.id) if desc else (ident > marker.id))
        query = query.where(or_(after, same))
    order = (column.desc(), ident.desc()) if desc else (column.asc(), ident.asc())
    query = query.order_by(*order)
    if listing.limit is not None:
        query = query.limit(listing.limit + 1)
    rows = list(await session.scalars(query))
    more = listing.limit is not None and len(rows) > listing.limit
    return (rows[: listing.limit] if more else rows), more


async def count(session: AsyncSession, model: Any, query: Select[Any]) -> int:
    """How many rows ``query`` matches, whatever its page (Cinder's ``with_count``)."""
    counted = query.with_only_columns(func.count(model.id)).order_by(None)
    return int(await session.scalar(counted) or 0)


def scoped(model: Any, caller: Caller, listing: Listing) -> Select[Any]:
    query = select(model)
    if caller.is_admin and listing.all_tenants:
        if listing.project_id:
            query = query.where(model.project_id == listing.project_id)
        return query
    return query.where(model.project_id == caller.project_id)


def filtered(model: Any, query: Select[Any], filters: dict[str, str]) -> Select[Any]:
    """Cinder's exact-match filters, ``key~`` substring filters (3.34) and metadata."""
    for key, value in filters.items():
        if key.endswith("~"):
            column = getattr(model, key[:-1])
            query = query.where(column.contains(value, autoescape=True))
        elif key == "metadata":
            for meta_key, meta_value in metadata_filter(value).items():
                query = query.where(model.meta[meta_key].as_string() == meta_value)
        elif key in ("migration_status", "group_id"):
            query = query.where(false()) if value else query
        elif key == "consumes_quota":
            query = query if _true(value) else query.where(false())
        elif key == "bootable":
            query = query.where(model.bootable.is_(_true(value)))
        elif key == "size":
            query = query.where(model.size == _int(value, key))
        else:
            query = query.where(getattr(model, key) == value)
    return query


def _int(value: str, key: str) -> int:
    try:
        return int(value)
    except ValueError as exc:
        raise errors.BadRequest(f"Invalid filter {key}={value!r}: must be an integer.") from exc
