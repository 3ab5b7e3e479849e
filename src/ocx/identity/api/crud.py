"""The shape shared by every Keystone collection: list with filters and pages, get or 404."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Request
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ocx.common import errors
from ocx.common.auth import Principal
from ocx.common.pagination import Page, fetch_page
from ocx.identity.api.deps import base_url, collection, filters

View = Callable[[str, Any], dict[str, Any]]


async def list_rows(
    request: Request,
    session: AsyncSession,
    model: Any,
    *,
    key: str,
    view: View,
    page: Page,
    filter_names: tuple[str, ...],
    where: tuple[Any, ...] = (),
) -> dict[str, Any]:
    query = select(model).filter_by(**filters(request, *filter_names)).where(*where)
    rows, more = await fetch_page(session, query, model.id, page)
    base = base_url(request)
    last = rows[-1].id if rows else None
    return collection(request, key, [view(base, row) for row in rows], more, last)


def domain_scope(svc: Any, who: Principal, column: Any, action: str) -> tuple[Any, ...]:
    """What a caller may list: everything for a landlord reader, their domain's rows for a
    domain-scoped reader, nothing (403) for anyone else."""
    if svc.policy.is_reader(who):
        return ()
    if who.domain_id is None or not svc.policy.is_domain_reader(who, who.domain_id):
        raise errors.Forbidden(f"You are not authorized to perform the requested action: {action}.")
    return (column == who.domain_id,)


def apply(row: Any, changes: dict[str, Any]) -> list[str]:
    """Set the given fields on ``row``; returns the names that really changed."""
    changed = []
    for name, value in changes.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed.append(name)
    return changed


def extras(body: Any, row_id: str | None = None) -> dict[str, Any]:
    """The attributes Keystone keeps beyond its own (``extra`` in Keystone), minus ``id``.

    An update body may repeat the row's own ``id`` (Tempest's clients do); another id is a 400.
    """
    found = dict(body.model_extra or {})
    given = found.pop("id", None)
    if row_id is not None and given is not None and given != row_id:
        raise errors.ValidationError("Cannot change the ID of a resource.")
    return found
