"""Users, passwords, groups and group membership."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from ocx.common import errors
from ocx.common.auth import Principal
from ocx.common.pagination import Page
from ocx.identity import assignments, store, tokens
from ocx.identity.api import views
from ocx.identity.api.crud import apply, domain_scope, extras, list_rows
from ocx.identity.api.deps import base_url, caller, collection, page, service
from ocx.identity.models import Domain, Group, Membership, Project, User
from ocx.identity.service import IdentityService

PASSWORD = Field(min_length=1, max_length=4096)


class UserIn(BaseModel):
    model_config = ConfigDict(extra="allow")  # Keystone keeps extra attributes
    name: str = Field(min_length=1, max_length=255)
    domain_id: str | None = None
    password: str | None = Field(None, max_length=4096)
    enabled: bool = True
    default_project_id: str | None = None
    description: str = ""
    email: str | None = None
    options: dict[str, Any] = {}
    federated: list[dict[str, Any]] | None = None


class UserPatch(BaseModel):
    model_config = ConfigDict(extra="allow")  # Keystone keeps extra attributes
    name: str | None = Field(None, min_length=1, max_length=255)
    password: str | None = Field(None, max_length=4096)
    enabled: bool | None = None
    default_project_id: str | None = None
    description: str | None = None
    email: str | None = None
    options: dict[str, Any] | None = None


class UserBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user: UserIn


class UserPatchBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user: UserPatch


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    password: str = PASSWORD
    original_password: str = PASSWORD


class PasswordBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user: PasswordChange


class GroupIn(BaseModel):
    model_config = ConfigDict(extra="allow")  # Keystone keeps extra attributes
    name: str = Field(min_length=1, max_length=255)
    domain_id: str | None = None
    description: str = ""


class GroupPatch(BaseModel):
    model_config = ConfigDict(extra="allow")  # Keystone keeps extra attributes
    name: str | None = Field(None, min_length=1, max_length=255)
    description: str | None = None


class GroupBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    group: GroupIn


class GroupPatchBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    group: GroupPatch


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _domain_of(who: Principal, given: str | None) -> str:
    return given or who.domain_id or who.project_domain_id or who.user_domain_id


# --- users ---------------------------------------------------------------------------------


async def create_user(
    body: UserBody,
    request: Request,
    response: Response,
    svc: IdentityService = Depends(service),
    who: Principal = Depends(caller),
) -> dict[str, Any]:
    u = body.user
    domain_id = _domain_of(who, u.domain_id)
    svc.policy.require_domain_admin(who, domain_id, "identity:create_user")
    hashed = await svc.hasher.hash(u.password) if u.password else None
    async with svc.db.session() as session:
        await store.get(session, Domain, domain_id, "domain")
        if u.default_project_id:
            await store.get(session, Project, u.default_project_id, "project")
        row = User(
            id=store.new_id(),
            name=u.name,
            domain_id=domain_id,
            enabled=u.enabled,
            password_hash=hashed,
            default_project_id=u.default_project_id,
            description=u.description,
            email=u.email,
            extra=extras(u),
            created_at=_now(),
        )
        await store.add_unique(session, row, f"user {u.name} in domain {domain_id}")
    response.status_code = 201
    return {"user": views.user(base_url(request), row)}


async def list_users(
    request: Request,
    pg: Page = Depends(page),
    svc: IdentityService = Depends(service),
    who: Principal = Depends(caller),
) -> dict[str, Any]:
    where = domain_scope(svc, who, User.domain_id, "identity:list_users")
    async with svc.db.session() as session:
        return await list_rows(
            request,
            session,
            User,
            key="users",
            view=views.user,
            page=pg,
            filter_names=("name", "domain_id", "enabled"),
            where=where,
        )


async def get_user(
    user_id: str,
    request: Request,
    svc: IdentityService = Depends(service),
    who: Principal = Depends(caller),
) -> dict[str, Any]:
    async with svc.db.session() as session:
        row = await store.get(session, User, user_id, "user")
    svc.policy.require_self_or_reader(who, row.id, row.domain_id, "identity:get_user")
    return {"user": views.user(base_url(request), row)}


async def update_user(
    user_id: str,
    body: UserPatchBody,
    request: Request,
    svc: IdentityService = Depends(service),
    who: Principal = Depends(caller),
) -> dict[str, Any]:
    extra = extras(body.user, user_id)
    changes = body.user.model_dump(exclude_none=True, exclude={"options", "password", *extra})
    changes.pop("id", None)
    hashed = await svc.hasher.hash(body.user.password) if body.user.password else None
    async with svc.db.session() as session:
        row = await store.get(session, User, user_id, "user")
        svc.policy.require_domain_admin(who, row.domain_id, "identity:update_user")
        changed = apply(row, changes)
        if extra:
            row.extra = {**(row.extra or {}), **extra}
        if hashed is not None:
            row.password_hash = hashed
            changed.append("password")
        await store.flush_unique(session, f"user {row.name}")
        if "password" in changed or ("enabled" in changed and not row.enabled):
            await tokens.record_revocation(session, user_id=row.id)
    svc.revoked_something()
    return {"user": views.user(base_url(request), row)}


async def delete_user(
    user_id: str, svc: IdentityService = Depends(service), who: Principal = Depends(caller)
) -> Response:
    async with svc.db.session() as session:
        row = await store.get(session, User, user_id, "user")
        svc.policy.require_domain_admin(who, row.domain_id, "identity:delete_user")
        if row.id == who.user_id:
            raise errors.Forbidden("You cannot delete your own user.")
        await assignments.remove_for(session, actor_id=row.id)
        await session.delete(row)
        await tokens.record_revocation(session, user_id=row.id)
    svc.revoked_something()
    return Response(status_code=204)


async def change_password(
    user_id: str, body: PasswordBody, svc: IdentityService = Depends(service)
) -> Response:
    # Keystone takes this call without a token: the original password is the credential.
    async with svc.db.session() as session:
        row = await store.get(session, User, user_id, "user")
        if not row.enabled or not await svc.hasher.verify(
            row.password_hash, body.user.original_password
        ):
            raise errors.Unauthorized("The original password is not correct.")
        row.password_hash = await svc.hasher.hash(body.user.password)
        await tokens.record_revocation(session, user_id=row.id)
    svc.revoked_something()
    return Response(status_code=204)


async def user_projects(
    user_id: str,
    request: Request,
    svc: IdentityService = Depends(service),
    who: Principal = Depends(caller),
) -> dict[str, Any]:
    async with svc.db.session() as session:
        row = await store.get(session, User, user_id, "user")
        svc.policy.require_self_or_reader(who, row.id, row.domain_id, "identity:list_user_projects")
        projects = await assignments.projects_of(session, row.id)
    base = base_url(request)
    return collection(request, "projects", [views.project(base, p) for p in projects])


async def user_groups(
    user_id: str,
    request: Request,
    svc: IdentityService = Depends(service),
    who: Principal = Depends(caller),
) -> dict[str, Any]:
    async with svc.db.session() as session:
        row = await store.get(session, User, user_id, "user")
        svc.policy.require_self_or_reader(
            who, row.id, row.domain_id, "identity:list_groups_for_user"
        )
        query = (
            select(Group)
            .join(Membership, Membership.group_id == Group.id)
            .where(Membership.user_id == row.id)
            .order_by(Group.name)
        )
        groups = list(await session.scalars(query))
    base = base_url(request)
    return collection(request, "groups", [views.group(base, g) for g in groups])


# --- groups --------------------------------------------------------------------------------


async def create_group(
    body: GroupBody,
    request: Request,
    response: Response,
    svc: IdentityService = Depends(service),
    who: Principal = Depends(caller),
) -> dict[str, Any]:
    g = body.group
    domain_id = _domain_of(who, g.domain_id)
    svc.policy.require_domain_admin(who, domain_id, "identity:create_group")
    async with svc.db.session() as session:
        await store.get(session, Domain, domain_id, "domain")
        row = Group(
            id=store.new_id(),
            name=g.name,
            domain_id=domain_id,
            description=g.description,
            extra=extras(g),
        )
        await store.add_unique(session, row, f"group {g.name} in domain {domain_id}")
    response.status_code = 201
    return {"group": views.group(base_url(request), row)}


async def list_groups(
    request: Request,
    pg: Page = Depends(page),
    svc: IdentityService = Depends(service),
    who: Principal = Depends(caller),
) -> dict[str, Any]:
    where = domain_scope(svc, who, Group.domain_id, "identity:list_groups")
    async with svc.db.session() as session:
        return await list_rows(
            request,
            session,
            Group,
            key="groups",
            view=views.group,
            page=pg,
            filter_names=("name", "domain_id"),
            where=where,
        )


async def get_group(
    group_id: str,
    request: Request,
    svc: IdentityService = Depends(service),
    who: Principal = Depends(caller),
) -> dict[str, Any]:
    async with svc.db.session() as session:
        row = await store.get(session, Group, group_id, "group")
        member = await session.get(Membership, (row.id, who.user_id))
    if member is None:
        svc.policy.require_domain_reader(who, row.domain_id, "identity:get_group")
    return {"group": views.group(base_url(request), row)}


async def update_group(
    group_id: str,
    body: GroupPatchBody,
    request: Request,
    svc: IdentityService = Depends(service),
    who: Principal = Depends(caller),
) -> dict[str, Any]:
    async with svc.db.session() as session:
        row = await store.get(session, Group, group_id, "group")
        svc.policy.require_domain_admin(who, row.domain_id, "identity:update_group")
        extra = extras(body.group, group_id)
        changes = body.group.model_dump(exclude_none=True, exclude={"id", *extra})
        apply(row, changes)
        if extra:
            row.extra = {**(row.extra or {}), **extra}
        await store.flush_unique(session, f"group {row.name}")
    return {"group": views.group(base_url(request), row)}


async def delete_group(
    group_id: str, svc: IdentityService = Depends(service), who: Principal = Depends(caller)
) -> Response:
    async with svc.db.session() as session:
        row = await store.get(session, Group, group_id, "group")
        svc.policy.require_domain_admin(who, row.domain_id, "identity:delete_group")
        members = list(await session.scalars(select(Membership.user_id).filter_by(group_id=row.id)))
        await assignments.remove_for(session, actor_id=row.id)
        await session.delete(row)
        for member in members:
            await tokens.record_revocation(session, user_id=member)
    svc.revoked_something()
    return Response(status_code=204)


async def group_members(
    group_id: str,
    request: Request,
    svc: IdentityService = Depends(service),
    who: Principal = Depends(caller),
) -> dict[str, Any]:
    async with svc.db.session() as session:
        row = await store.get(session, Group, group_id, "group")
        svc.policy.require_domain_reader(who, row.domain_id, "identity:list_users_in_group")
        query = (
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.group_id == row.id)
            .order_by(User.name)
        )
        users = list(await session.scalars(query))
    base = base_url(request)
    return collection(request, "users", [views.user(base, u) for u in users])


async def _group_and_user(session: Any, group_id: str, user_id: str) -> tuple[Group, User]:
    return (
        await store.get(session, Group, group_id, "group"),
        await store.get(session, User, user_id, "user"),
    )


async def add_member(
    group_id: str,
    user_id: str,
    svc: IdentityService = Depends(service),
    who: Principal = Depends(caller),
) -> Response:
    async with svc.db.session() as session:
        group, user = await _group_and_user(session, group_id, user_id)
        svc.policy.require_domain_admin(who, group.domain_id, "identity:add_user_to_group")
        if await session.get(Membership, (group.id, user.id)) is None:
            session.add(Membership(group_id=group.id, user_id=user.id))
    return Response(status_code=204)


async def check_member(
    group_id: str,
    user_id: str,
    svc: IdentityService = Depends(service),
    who: Principal = Depends(caller),
) -> Response:
    async with svc.db.session() as session:
        group, user = await _group_and_user(session, group_id, user_id)
        if who.user_id != user.id:
            svc.policy.require_domain_reader(who, group.domain_id, "identity:check_user_in_group")
        if await session.get(Membership, (group.id, user.id)) is None:
            raise errors.NotFound(f"User {user.id} is not a member of group {group.id}.")
    return Response(status_code=204)


async def remove_member(
    group_id: str,
    user_id: str,
    svc: IdentityService = Depends(service),
    who: Principal = Depends(caller),
) -> Response:
    async with svc.db.session() as session:
        group, user = await _group_and_user(session, group_id, user_id)
        svc.policy.require_domain_admin(who, group.domain_id, "identity:remove_user_from_group")
        member = await session.get(Membership, (group.id, user.id))
        if member is None:
            raise errors.NotFound(f"User {user.id} is not a member of group {group.id}.")
        await session.delete(member)
        await tokens.record_revocation(session, user_id=user.id)
    svc.revoked_something()
    return Response(status_code=204)
