"""Role grants on projects, domains and the system: the rules, without HTTP.

A grant is an actor (user or group) holding a role on a target, possibly inherited down to
the target's projects. Who may grant: an admin of the target's domain (the landlord's
administrators for the system). Removing a grant ends the affected users' tokens
(:mod:`ocx.identity.revocation`). ``api/roles.py`` only parses, calls and renders.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ocx.common import errors
from ocx.common.auth import Principal
from ocx.identity import assignments, revocation, store
from ocx.identity.assignments import USER, AssignmentFilter, Target
from ocx.identity.models import Assignment, Domain, Group, Membership, Project, Role, User
from ocx.identity.service import IdentityService


@dataclass(frozen=True)
class Grantee:
    """Where a grant is: target, actor, and whether it is inherited to projects."""

    target_type: str
    target_id: str
    actor_type: str
    actor_id: str
    inherited: bool = False


async def users_of(session: AsyncSession, actor_type: str, actor_id: str) -> list[str]:
    """The users an actor stands for: itself, or a group's members."""
    if actor_type == USER:
        return [actor_id]
    return list(await session.scalars(select(Membership.user_id).filter_by(group_id=actor_id)))


async def _resolve(
    session: AsyncSession,
    svc: IdentityService,
    who: Principal,
    g: Grantee,
    role_id: str | None,
    action: str,
    *,
    write: bool,
) -> Target:
    target_id = g.target_id
    domain_id: str | None
    if g.target_type == assignments.PROJECT:
        domain_id = (await store.get(session, Project, target_id, "project")).domain_id
    elif g.target_type == assignments.DOMAIN:
        domain_id = (await store.get(session, Domain, target_id, "domain")).id
    else:
        domain_id, target_id = None, assignments.SYSTEM_ALL
    actor_model: type[User] | type[Group] = User if g.actor_type == USER else Group
    await store.get(session, actor_model, g.actor_id, g.actor_type)
    if role_id is not None:
        await store.get(session, Role, role_id, "role")
    if write or who.user_id != g.actor_id:
        if domain_id is None:
            allowed = svc.policy.is_admin(who) if write else svc.policy.is_reader(who)
        elif write:
            allowed = svc.policy.is_domain_admin(who, domain_id)
        else:
            allowed = svc.policy.is_domain_reader(who, domain_id)
        if not allowed:
            raise errors.Forbidden(
                f"You are not authorized to perform the requested action: {action}."
            )
    return Target(g.target_type, target_id)


def _no_grant(g: Grantee, role_id: str) -> errors.NotFound:
    return errors.NotFound(
        f"Could not find role assignment with role: {role_id}, "
        f"{g.actor_type}: {g.actor_id}, {g.target_type}: {g.target_id}."
    )


async def put(svc: IdentityService, who: Principal, g: Grantee, role_id: str) -> None:
    async with svc.db.session() as session:
        target = await _resolve(session, svc, who, g, role_id, "identity:create_grant", write=True)
        await assignments.grant(session, g.actor_type, g.actor_id, target, role_id, g.inherited)


async def check(svc: IdentityService, who: Principal, g: Grantee, role_id: str) -> None:
    async with svc.db.session() as session:
        target = await _resolve(session, svc, who, g, role_id, "identity:check_grant", write=False)
        held = await assignments.has_grant(
            session, g.actor_type, g.actor_id, target, role_id, g.inherited
        )
    if not held:
        raise _no_grant(g, role_id)


async def remove(svc: IdentityService, who: Principal, g: Grantee, role_id: str) -> None:
    async with svc.db.session() as session:
        target = await _resolve(session, svc, who, g, role_id, "identity:revoke_grant", write=True)
        if not await assignments.revoke(
            session, g.actor_type, g.actor_id, target, role_id, g.inherited
        ):
            raise _no_grant(g, role_id)
        affected = await users_of(session, g.actor_type, g.actor_id)
        await revocation.grant(session, affected, target, g.inherited)
    svc.revoked_something()


async def roles_held(svc: IdentityService, who: Principal, g: Grantee) -> list[Role]:
    async with svc.db.session() as session:
        target = await _resolve(session, svc, who, g, None, "identity:list_grants", write=False)
        query = (
            select(Role)
            .join(Assignment, Assignment.role_id == Role.id)
            .where(
                Assignment.actor_type == g.actor_type,
                Assignment.actor_id == g.actor_id,
                Assignment.target_type == target.type,
                Assignment.target_id == target.id,
                Assignment.inherited.is_(g.inherited),
            )
            .order_by(Role.name)
        )
        return list(await session.scalars(query))


def visible_filter(svc: IdentityService, who: Principal, f: AssignmentFilter) -> AssignmentFilter:
    """What of ``/v3/role_assignments`` the caller may see: all, a domain's, or their own."""
    if f.effective and f.group_id:
        raise errors.BadRequest("effective and group.id cannot be combined.")
    if svc.policy.is_reader(who):
        return f
    if f.domain_id and svc.policy.is_domain_reader(who, f.domain_id):
        return f
    if f.user_id in (None, who.user_id):
        return AssignmentFilter(**{**f.__dict__, "user_id": who.user_id})
    raise errors.Forbidden("You may list only your own role assignments.")


async def create_role(
    svc: IdentityService, who: Principal, name: str, domain_id: str | None, description: str
) -> Role:
    svc.policy.require_admin(who, "identity:create_role")
    async with svc.db.session() as session:
        if domain_id:
            await store.get(session, Domain, domain_id, "domain")
        row = Role(id=store.new_id(), name=name, domain_id=domain_id, description=description)
        await store.add_unique(session, row, f"role {name}")
    return row


async def delete_role(svc: IdentityService, who: Principal, role_id: str) -> None:
    """Delete a role; everyone who held it loses their tokens."""
    svc.policy.require_admin(who, "identity:delete_role")
    async with svc.db.session() as session:
        row = await store.get(session, Role, role_id, "role")
        holders = list(await session.scalars(select(Assignment).filter_by(role_id=row.id)))
        for grant in holders:
            await revocation.users(
                session, await users_of(session, grant.actor_type, grant.actor_id)
            )
        await session.delete(row)
    svc.revoked_something()


@dataclass
class Named:
    """Names of an assignment's actor, target and role, for ``include_names``."""

    actor: dict[str, Any]
    target: dict[str, Any]
    role: dict[str, Any]


async def listing(
    svc: IdentityService, who: Principal, f: AssignmentFilter, include_names: bool
) -> list[tuple[Assignment, Named | None]]:
    f = visible_filter(svc, who, f)
    async with svc.db.session() as session:
        rows = await assignments.list_assignments(session, f)
        if not include_names:
            return [(row, None) for row in rows]
        namer = _Namer(session)
        return [(row, await namer.names(row)) for row in rows]


class _Namer:
    """Looks names up once per id while rendering ``include_names``."""

    def __init__(self, session: AsyncSession):
        self.session = session
        self.cache: dict[tuple[Any, str], Any] = {}

    async def row(self, model: Any, ident: str) -> Any:
        key = (model, ident)
        if key not in self.cache:
            self.cache[key] = await self.session.get(model, ident)
        return self.cache[key]

    async def named(self, model: Any, ident: str, with_domain: bool = True) -> dict[str, Any]:
        row = await self.row(model, ident)
        doc: dict[str, Any] = {"id": ident}
        if row is None:
            return doc
        doc["name"] = row.name
        if with_domain and getattr(row, "domain_id", None):
            domain = await self.row(Domain, row.domain_id)
            doc["domain"] = {"id": row.domain_id, "name": domain.name if domain else None}
        return doc

    async def names(self, row: Assignment) -> Named:
        actor_model = User if row.actor_type == USER else Group
        target_model = Project if row.target_type == assignments.PROJECT else Domain
        target = (
            await self.named(target_model, row.target_id, row.target_type == "project")
            if row.target_type != assignments.SYSTEM
            else {"all": True}
        )
        return Named(
            actor=await self.named(actor_model, row.actor_id),
            target=target,
            role=await self.named(Role, row.role_id),
        )
