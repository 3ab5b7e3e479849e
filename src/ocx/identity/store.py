"""Small helpers every identity module uses: ids, lookups that 404 the Keystone way."""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ocx.common import errors
from ocx.common.db import Database

T = TypeVar("T")


def new_id() -> str:
    return uuid.uuid4().hex


async def get(session: AsyncSession, model: type[T], ident: str | None, kind: str) -> T:
    """The row with primary key ``ident``, or Keystone's "Could not find …" 404."""
    row = await session.get(model, ident) if ident else None
    if row is None:
        raise errors.NotFound(f"Could not find {kind}: {ident}.")
    return row


async def get_by_name(
    session: AsyncSession, model: Any, name: str, kind: str, **filters: Any
) -> Any:
    row = await session.scalar(select(model).filter_by(name=name, **filters))
    if row is None:
        raise errors.NotFound(f"Could not find {kind}: {name}.")
    return row


async def add_unique(session: AsyncSession, row: Any, what: str) -> None:
    """Insert ``row``; a duplicate becomes Keystone's 409 and leaves nothing behind."""
    session.add(row)
    await flush_unique(session, what)


async def flush_unique(session: AsyncSession, what: str) -> None:
    """Flush; a uniqueness clash becomes a 409 (the caller's transaction then rolls back)."""
    try:
        await session.flush()
    except IntegrityError as exc:
        raise errors.Conflict(f"Conflict occurred attempting to store {what}.") from exc


async def every(db: Database, model: type[T], order: Any) -> list[T]:
    """Every row of ``model`` by ``order``, in a session of its own (the few rows an admin
    makes: consumers, mappings, service providers, OIDC clients)."""
    async with db.session() as session:
        return list(await session.scalars(select(model).order_by(order)))


async def fetch(db: Database, model: type[T], ident: str, kind: str) -> T:
    """One row by id in a session of its own, or the 404 of :func:`get`."""
    async with db.session() as session:
        return await get(session, model, ident, kind)
