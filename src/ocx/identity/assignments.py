"""Roles, grants and the effective roles a user holds on a target."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from ocx.identity.federation.models import ExpiringMembership
from ocx.identity.models import Assignment, ImpliedRole, Membership, Project, Role

USER, GROUP = "user", "group"
PROJECT, DOMAIN, SYSTEM = "project", "domain", "system"
SYSTEM_ALL = "all"


@dataclass(frozen=True)
class Target:
    type: str
    id: str

    @classmethod
    def project(cls, project_id: str) -> Target:
        return cls(PROJECT, project_id)

    @classmethod
    def domain(cls, domain_id: str) -> Target:
        return cls(DOMAIN, domain_id)

    @classmethod
    def system(cls) -> Target:
        return cls(SYSTEM, SYSTEM_ALL)


async def group_ids(session: AsyncSession, user_id: str) -> list[str]:
    """The user's groups: plain memberships, and those a federation mapping granted that
    have not lapsed yet (see ``federation.login``)."""
    rows = list(
        await session.scalars(select(Membership.group_id).where(Membership.user_id == user_id))
    )
    expiring = select(ExpiringMembership.group_id).where(
        ExpiringMembership.user_id == user_id, ExpiringMembership.expires_at > time.time()
    )
    return rows + [g for g in await session.scalars(expiring) if g not in rows]


async def _target_clauses(session: AsyncSession, target: Target) -> list[ColumnElement[bool]]:
    """Where grants on ``target`` can come from: the target itself, or inherited from above."""
    clauses: list[ColumnElement[bool]] = [
        and_(
            Assignment.target_type == target.type,
            Assignment.target_id == target.id,
            Assignment.inherited.is_(False),
        )
    ]
    if target.type != PROJECT:
        return clauses
    project = await session.get(Project, target.id)
    if project is None:
        return clauses
    ancestors = [project.domain_id]
    parent = project.parent_id
    while parent:
        ancestors.append(parent)
        row = await session.get(Project, parent)
        parent = row.parent_id if row else None
    clauses.append(and_(Assignment.target_id.in_(ancestors), Assignment.inherited.is_(True)))
    return clauses


async def effective_role_ids(session: AsyncSession, user_id: str, target: Target) -> set[str]:
    """Role ids the user holds on ``target``: direct, through groups, inherited, implied."""
    actors = [user_id, *await group_ids(session, user_id)]
    clauses = await _target_clauses(session, target)
    query = select(Assignment.role_id).where(Assignment.actor_id.in_(actors), or_(*clauses))
    return await expand_implied(session, set(await session.scalars(query)))


async def expand_implied(session: AsyncSession, role_ids: set[str]) -> set[str]:
    """The roles ``role_ids`` give: themselves and what they imply, less domain-specific roles.

    A domain-specific role (one with a ``domain_id``) is, as in Keystone, only a local name
    for the global roles it implies: it is expanded, then dropped, so it never reaches a
    token or an effective assignment.
    """
    if not role_ids:
        return role_ids
    rules = (
        await session.execute(select(ImpliedRole.prior_role_id, ImpliedRole.implied_role_id))
    ).all()
    implies: dict[str, list[str]] = {}
    for prior, implied in rules:
        implies.setdefault(prior, []).append(implied)
    result, todo = set(role_ids), list(role_ids)
    while todo:
        for implied in implies.get(todo.pop(), ()):
            if implied not in result:
                result.add(implied)
                todo.append(implied)
    local = select(Role.id).where(Role.id.in_(result), Role.domain_id.is_not(None))
    return result - set(await session.scalars(local))


async def roles_by_id(session: AsyncSession, role_ids: Iterable[str]) -> list[Role]:
    ids = list(role_ids)
    if not ids:
        return []
    return list(await session.scalars(select(Role).where(Role.id.in_(ids)).order_by(Role.name)))


async def grant(
    session: AsyncSession,
    actor_type: str,
    actor_id: str,
    target: Target,
    role_id: str,
    inherited: bool = False,
) -> None:
    exists = await session.get(
        Assignment, (actor_type, actor_id, target.type, target.id, role_id, inherited)
    )
    if exists is None:
        session.add(
            Assignment(
                actor_type=actor_type,
                actor_id=actor_id,
                target_type=target.type,
                target_id=target.id,
                role_id=role_id,
                inherited=inherited,
            )
        )
        await session.flush()


async def has_grant(
    session: AsyncSession,
    actor_type: str,
    actor_id: str,
    target: Target,
    role_id: str,
    inherited: bool = False,
) -> bool:
    key = (actor_type, actor_id, target.type, target.id, role_id, inherited)
    return await session.get(Assignment, key) is not None


async def revoke(
    session: AsyncSession,
    actor_type: str,
    actor_id: str,
    target: Target,
    role_id: str,
    inherited: bool = False,
) -> bool:
    result = await session.execute(
        delete(Assignment).where(
            Assignment.actor_type == actor_type,
            Assignment.actor_id == actor_id,
            Assignment.target_type == target.type,
            Assignment.target_id == target.id,
            Assignment.role_id == role_id,
            Assignment.inherited.is_(inherited),
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def remove_for(
    session: AsyncSession, *, actor_id: str | None = None, target: Target | None = None
) -> None:
    """Drop every grant of an actor or on a target (when either is deleted)."""
    query = delete(Assignment)
    if actor_id is not None:
        query = query.where(Assignment.actor_id == actor_id)
    if target is not None:
        query = query.where(
            Assignment.target_type == target.type, Assignment.target_id == target.id
        )
    await session.execute(query)


@dataclass(frozen=True)
class AssignmentFilter:
    user_id: str | None = None
    group_id: str | None = None
    project_id: str | None = None
    domain_id: str | None = None
    system: bool = False
    role_id: str | None = None
    effective: bool = False
    inherited: bool | None = None


async def list_assignments(session: AsyncSession, f: AssignmentFilter) -> Sequence[Assignment]:
    """Grants matching ``f``. With ``effective``, group grants become one row per member."""
    query = select(Assignment)
    if f.role_id and not f.effective:  # effective: a role may also come implied, below
        query = query.where(Assignment.role_id == f.role_id)
    if f.project_id and f.effective:
        # Grants inherited from the project's domain or ancestors hold on it too.
        query = query.where(or_(*await _target_clauses(session, Target.project(f.project_id))))
    elif f.project_id:
        query = query.where(Assignment.target_type == PROJECT, Assignment.target_id == f.project_id)
    if f.domain_id:
        query = query.where(Assignment.target_type == DOMAIN, Assignment.target_id == f.domain_id)
    if f.system:
        query = query.where(Assignment.target_type == SYSTEM)
    if f.inherited is not None:
        query = query.where(Assignment.inherited.is_(f.inherited))
    if f.group_id:
        query = query.where(Assignment.actor_type == GROUP, Assignment.actor_id == f.group_id)
    if f.user_id and not f.effective:
        query = query.where(Assignment.actor_type == USER, Assignment.actor_id == f.user_id)
    if f.user_id and f.effective:
        actors = [f.user_id, *await group_ids(session, f.user_id)]
        query = query.where(Assignment.actor_id.in_(actors))
    rows = list(
        await session.scalars(
            query.order_by(
                Assignment.target_type,
                Assignment.target_id,
                Assignment.actor_id,
                Assignment.role_id,
            )
        )
    )
    if not f.effective:
        return rows
    if f.project_id:
        rows = [_on_project(row, f.project_id) for row in rows]
    rows = await _with_implied(session, rows)
    if f.role_id:
        rows = [row for row in rows if row.role_id == f.role_id]
    return await _expand_groups(session, rows, only_user=f.user_id)


async def _with_implied(session: AsyncSession, rows: list[Assignment]) -> list[Assignment]:
    """Effective grants, as Keystone lists them: each implied role is a row of its own."""
    out: dict[tuple[str, str, str, str, str, bool], Assignment] = {}
    for row in rows:
        for role_id in sorted(await expand_implied(session, {row.role_id})):
            key = (
                row.actor_type,
                row.actor_id,
                row.target_type,
                row.target_id,
                role_id,
                row.inherited,
            )
            out.setdefault(key, row if role_id == row.role_id else _as_role(row, role_id))
    return list(out.values())


def _as_role(row: Assignment, role_id: str) -> Assignment:
    return Assignment(
        actor_type=row.actor_type,
        actor_id=row.actor_id,
        target_type=row.target_type,
        target_id=row.target_id,
        role_id=role_id,
        inherited=row.inherited,
    )


def _on_project(row: Assignment, project_id: str) -> Assignment:
    """An inherited grant, shown as Keystone shows effective ones: on the project itself."""
    if not row.inherited:
        return row
    return Assignment(
        actor_type=row.actor_type,
        actor_id=row.actor_id,
        target_type=PROJECT,
        target_id=project_id,
        role_id=row.role_id,
        inherited=False,
    )


async def _expand_groups(
    session: AsyncSession, rows: list[Assignment], only_user: str | None
) -> list[Assignment]:
    expanded: list[Assignment] = []
    for row in rows:
        if row.actor_type == USER:
            expanded.append(row)
            continue
        query = select(Membership.user_id).where(Membership.group_id == row.actor_id)
        members = await session.scalars(query)
        for member in members:
            if only_user is None or member == only_user:
                expanded.append(
                    Assignment(
                        actor_type=USER,
                        actor_id=member,
                        target_type=row.target_type,
                        target_id=row.target_id,
                        role_id=row.role_id,
                        inherited=row.inherited,
                    )
                )
    return expanded


async def projects_of(session: AsyncSession, user_id: str) -> list[Project]:
    """Enabled projects where the user holds any role, directly, via groups or inherited."""
    rows = await list_assignments(session, AssignmentFilter(user_id=user_id, effective=True))
    ids = {r.target_id for r in rows if r.target_type == PROJECT}
    domain_ids = {r.target_id for r in rows if r.target_type == DOMAIN and r.inherited}
    query = select(Project).where(
        Project.enabled.is_(True), or_(Project.id.in_(ids), Project.domain_id.in_(domain_ids))
    )
    return list(await session.scalars(query.order_by(Project.name)))
