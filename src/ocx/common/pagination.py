"""Marker/limit pagination over SQL queries, the way OpenStack clients page."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from ocx.common import errors

T = TypeVar("T")

MAX_LIMIT = 1000


@dataclass(frozen=True)
class Page:
    limit: int | None = None
    marker: str | None = None

    @classmethod
    def parse(cls, limit: str | None, marker: str | None) -> Page:
        if limit is None:
            return cls(None, marker)
        try:
            value = int(limit)
        except ValueError as exc:
            raise errors.BadRequest(f"limit must be an integer, not {limit!r}.") from exc
        if value < 0:
            raise errors.BadRequest("limit must not be negative.")
        return cls(min(value, MAX_LIMIT), marker)


async def fetch_page(
    session: AsyncSession, query: Select[Any], key: InstrumentedAttribute[Any], page: Page
) -> tuple[Sequence[Any], bool]:
    """Rows after ``page.marker`` ordered by ``key``, and whether more rows follow."""
    query = query.order_by(key)
    if page.marker is not None:
        query = query.where(key > page.marker)
    if page.limit is not None:
        query = query.limit(page.limit + 1)
    rows = list((await session.scalars(query)).all())
    more = page.limit is not None and len(rows) > page.limit
    return rows[: page.limit] if more else rows, more
