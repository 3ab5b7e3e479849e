"""The shape shared by every Keystone collection: list with filters and pages, get or 404.

:class:`Collection` is Keystone's ``member_key``/``collection_key`` idea: one typed
description of a kind of row (its model, its JSON keys, its view, its list filters, who may
change it) that makes the list, get, update and delete handlers, instead of one copy each.
:class:`Guarded` is the same for rows whose rules (owner or admin, secrets sealed, what
else goes with a row) live in a domain module: its handlers only call that module and render.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from fastapi import Depends, Request, Response
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ocx.common import errors
from ocx.common.auth import Principal
from ocx.common.pagination import Page, fetch_page
from ocx.identity import store
from ocx.identity.api.deps import base_url, caller, collection, filters, page, service
from ocx.identity.service import IdentityService

View = Callable[[str, Any], dict[str, Any]]
T = TypeVar("T")
Handler = Callable[..., Awaitable[Any]]
# Which rows of a list the caller may see, as WHERE clauses (a 403 if none).
Scope = Callable[[IdentityService, Principal, Request], tuple[Any, ...]]


def everyone(_svc: IdentityService, _who: Principal, _request: Request) -> tuple[Any, ...]:
    return ()


SVC = Depends(service)
WHO = Depends(caller)


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


def domain_scope(svc: IdentityService, who: Principal, column: Any, action: str) -> tuple[Any, ...]:
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


@dataclass(frozen=True)
class Collection(Generic[T]):
    """One kind of Keystone row: ``GET /v3/<members>``, ``GET|PATCH|DELETE .../{item_id}``.

    Reads need any valid token (the catalog's rows are every user's to see) or, with
    ``readers_only``, a landlord reader; changes need a landlord admin
    (``identity:<verb>_<member>``).
    """

    model: type[T]
    member: str
    members: str
    view: View
    filters: tuple[str, ...] = ()
    scope: Scope = everyone
    readers_only: bool = False

    def one(self, request: Request, row: T) -> dict[str, Any]:
        return {self.member: self.view(base_url(request), row)}

    def list(self) -> Handler:
        async def list_handler(
            request: Request,
            pg: Page = Depends(page),
            svc: IdentityService = SVC,
            who: Principal = WHO,
        ) -> dict[str, Any]:
            if self.readers_only:
                svc.policy.require_reader(who, f"identity:list_{self.members}")
            where = self.scope(svc, who, request)
            async with svc.db.session() as session:
                return await list_rows(
                    request,
                    session,
                    self.model,
                    key=self.members,
                    view=self.view,
                    page=pg,
                    filter_names=self.filters,
                    where=where,
                )

        return list_handler

    def get(self) -> Handler:
        async def get_handler(
            item_id: str, request: Request, svc: IdentityService = SVC, who: Principal = WHO
        ) -> dict[str, Any]:
            if self.readers_only:
                svc.policy.require_reader(who, f"identity:get_{self.member}")
            async with svc.db.session() as session:
                row = await store.get(session, self.model, item_id, self.member)
            return self.one(request, row)

        return get_handler

    def update(self, body_type: type[BaseModel], exclude: frozenset[str] = frozenset()) -> Handler:
        """PATCH with a ``body_type`` body (``{member: {...}}``): the fields given are set."""

        async def update_handler(
            item_id: str,
            body: BaseModel,
            request: Request,
            svc: IdentityService = SVC,
            who: Principal = WHO,
        ) -> dict[str, Any]:
            svc.policy.require_admin(who, f"identity:update_{self.member}")
            changes = getattr(body, self.member).model_dump(exclude_none=True, exclude=exclude)
            async with svc.db.session() as session:
                row = await store.get(session, self.model, item_id, self.member)
                apply(row, changes)
                await store.flush_unique(session, f"{self.member} {item_id}")
            return self.one(request, row)

        # FastAPI parses and validates the body as the model named here.
        update_handler.__annotations__["body"] = body_type
        return update_handler

    def delete(self, in_use: str | None = None) -> Handler:
        """DELETE; ``in_use`` names what may still refer to the row (a 409 then)."""

        async def delete_handler(
            item_id: str, svc: IdentityService = SVC, who: Principal = WHO
        ) -> Response:
            svc.policy.require_admin(who, f"identity:delete_{self.member}")
            async with svc.db.session() as session:
                await session.delete(await store.get(session, self.model, item_id, self.member))
                if in_use:
                    await store.flush_unique(
                        session, f"{self.member} {item_id} ({in_use} still use it)"
                    )
            return Response(status_code=204)

        return delete_handler


Call = Callable[..., Awaitable[Any]]


@dataclass(frozen=True)
class Guarded(Generic[T]):
    """A kind of row a domain module guards: ``GET /v3/.../<members>``, ``GET|PATCH|DELETE
    .../{id}``, each handler one call of that module and a render.

    The module's functions are called as ``fn(svc, who, **ids)``: ``ids`` are the route's
    path parameters by name (``/v3/users/{user_id}/OS-OAUTH1/access_tokens/{access_token_id}``
    gives ``user_id=`` and ``access_token_id=``), so the route's names are the function's.
    A listing also gets those of the ``query`` parameters named here that the request gives
    (``enabled`` as a boolean); an update also gets ``patch=``, the body's ``member``.
    ``view(base_url, found)`` renders what the get and each item of the listing return.
    """

    member: str
    members: str
    view: Callable[[str, T], dict[str, Any]]
    query: tuple[str, ...] = ()

    def one(self, request: Request, found: T) -> dict[str, Any]:
        return {self.member: self.view(base_url(request), found)}

    def list(self, listing: Call) -> Handler:
        async def list_handler(
            request: Request, svc: IdentityService = SVC, who: Principal = WHO
        ) -> dict[str, Any]:
            asked = filters(request, *self.query)
            found = await listing(svc, who, **request.path_params, **asked)
            base = base_url(request)
            return collection(request, self.members, [self.view(base, item) for item in found])

        return list_handler

    def get(self, read: Call) -> Handler:
        async def get_handler(
            request: Request, svc: IdentityService = SVC, who: Principal = WHO
        ) -> dict[str, Any]:
            return self.one(request, await read(svc, who, **request.path_params))

        return get_handler

    def update(self, body_type: type[BaseModel], change: Call) -> Handler:
        """PATCH with a ``body_type`` body (``{member: {...}}``)."""

        async def update_handler(
            body: BaseModel, request: Request, svc: IdentityService = SVC, who: Principal = WHO
        ) -> dict[str, Any]:
            patch = getattr(body, self.member)
            return self.one(request, await change(svc, who, patch=patch, **request.path_params))

        # FastAPI parses and validates the body as the model named here.
        update_handler.__annotations__["body"] = body_type
        return update_handler

    def delete(self, remove: Call) -> Handler:
        async def delete_handler(
            request: Request, svc: IdentityService = SVC, who: Principal = WHO
        ) -> Response:
            await remove(svc, who, **request.path_params)
            return Response(status_code=204)

        return delete_handler
