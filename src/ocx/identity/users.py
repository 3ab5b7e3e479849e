"""Users, passwords, groups and membership: the rules, without HTTP.

Each function is one transaction on the landlord's identity (``IdentityService``): it checks
who may do it (the :class:`~ocx.identity.policy.Policy`), changes the rows, records what
revocation the change calls for (:mod:`ocx.identity.revocation`) and returns the rows for the
caller to render. The HTTP handlers in ``api/users.py`` only parse, call and render; the CLI,
the exchange and tests can call these directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ocx.common import errors
from ocx.common.auth import Principal
from ocx.identity import assignments, revocation, store
from ocx.identity.models import Domain, Group, Membership, Project, User
from ocx.identity.service import IdentityService


@dataclass
class UserFields:
    """What a caller may set on a user (None: leave as is)."""

    name: str | None = None
    domain_id: str | None = None
    password: str | None = None
    enabled: bool | None = None
    default_project_id: str | None = None
    description: str | None = None
    email: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def changes(self) -> dict[str, Any]:
        names = ("name", "enabled", "default_project_id", "description", "email")
        return {n: getattr(self, n) for n in names if getattr(self, n) is not None}


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def home_domain(who: Principal, given: str | None) -> str:
    """The domain a new user or group goes to: the one asked for, else the caller's."""
    return given or who.domain_id or who.project_domain_id or who.user_domain_id


# --- users ---------------------------------------------------------------------------------


async def create_user(svc: IdentityService, who: Principal, f: UserFields) -> User:
    domain_id = home_domain(who, f.domain_id)
    svc.policy.require_domain_admin(who, domain_id, "identity:create_user")
    assert f.name is not None
    hashed = await svc.hasher.hash(f.password) if f.password else None
    async with svc.db.session() as session:
        await store.get(session, Domain, domain_id, "domain")
        if f.default_project_id:
            await store.get(session, Project, f.default_project_id, "project")
        row = User(
            id=store.new_id(),
            name=f.name,
            domain_id=domain_id,
            enabled=True if f.enabled is None else f.enabled,
            password_hash=hashed,
            default_project_id=f.default_project_id,
            description=f.description or "",
            email=f.email,
            extra=f.extra,
            created_at=_now(),
        )
        await store.add_unique(session, row, f"user {f.name} in domain {domain_id}")
    return row


async def get_user(svc: IdentityService, who: Principal, user_id: str) -> User:
    async with svc.db.session() as session:
        row = await store.get(session, User, user_id, "user")
    svc.policy.require_self_or_reader(who, row.id, row.domain_id, "identity:get_user")
    return row


async def update_user(svc: IdentityService, who: Principal, user_id: str, f: UserFields) -> User:
    hashed = await svc.hasher.hash(f.password) if f.password else None
    async with svc.db.session() as session:
        row = await store.get(session, User, user_id, "user")
        svc.policy.require_domain_admin(who, row.domain_id, "identity:update_user")
        changed = _apply(row, f.changes())
        if f.extra:
            row.extra = {**(row.extra or {}), **f.extra}
        if hashed is not None:
            row.password_hash = hashed
            changed.append("password")
        await store.flush_unique(session, f"user {row.name}")
        if "password" in changed or ("enabled" in changed and not row.enabled):
            await revocation.user(session, row.id)
    svc.revoked_something()
    return row


async def delete_user(svc: IdentityService, who: Principal, user_id: str) -> None:
    async with svc.db.session() as session:
        row = await store.get(session, User, user_id, "user")
        svc.policy.require_domain_admin(who, row.domain_id, "identity:delete_user")
        if row.id == who.user_id:
            raise errors.Forbidden("You cannot delete your own user.")
        await assignments.remove_for(session, actor_id=row.id)
        await session.delete(row)
        await revocation.user(session, row.id)
    svc.revoked_something()


async def change_password(
    svc: IdentityService, user_id: str, original: str, new_password: str
) -> None:
    """Keystone's self-service change: the original password is the credential."""
    async with svc.db.session() as session:
        row = await store.get(session, User, user_id, "user")
        if not row.enabled or not await svc.hasher.verify(row.password_hash, original):
            raise errors.Unauthorized("The original password is not correct.")
        row.password_hash = await svc.hasher.hash(new_password)
        await revocation.user(session, row.id)
    svc.revoked_something()


async def projects_of_user(svc: IdentityService, who: Principal, user_id: str) -> list[Project]:
    async with svc.db.session() as session:
        row = await store.get(session, User, user_id, "user")
        svc.policy.require_self_or_reader(who, row.id, row.domain_id, "identity:list_user_projects")
        return await assignments.projects_of(session, row.id)


async def groups_of_user(svc: IdentityService, who: Principal, user_id: str) -> list[Group]:
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
        return list(await session.scalars(query))


# --- groups --------------------------------------------------------------------------------


async def create_group(
    svc: IdentityService,
    who: Principal,
    name: str,
    domain_id: str | None,
    description: str,
    extra: dict[str, Any],
) -> Group:
    domain_id = home_domain(who, domain_id)
    svc.policy.require_domain_admin(who, domain_id, "identity:create_group")
    async with svc.db.session() as session:
        await store.get(session, Domain, domain_id, "domain")
        row = Group(
            id=store.new_id(),
            name=name,
            domain_id=domain_id,
            description=description,
            extra=extra,
        )
        await store.add_unique(session, row, f"group {name} in domain {domain_id}")
    return row


async def get_group(svc: IdentityService, who: Principal, group_id: str) -> Group:
    async with svc.db.session() as session:
        row = await store.get(session, Group, group_id, "group")
        member = await session.get(Membership, (row.id, who.user_id))
    if member is None:
        svc.policy.require_domain_reader(who, row.domain_id, "identity:get_group")
    return row


async def update_group(
    svc: IdentityService,
    who: Principal,
    group_id: str,
    changes: dict[str, Any],
    extra: dict[str, Any],
) -> Group:
    async with svc.db.session() as session:
        row = await store.get(session, Group, group_id, "group")
        svc.policy.require_domain_admin(who, row.domain_id, "identity:update_group")
        _apply(row, changes)
        if extra:
            row.extra = {**(row.extra or {}), **extra}
        await store.flush_unique(session, f"group {row.name}")
    return row


async def delete_group(svc: IdentityService, who: Principal, group_id: str) -> None:
    async with svc.db.session() as session:
        row = await store.get(session, Group, group_id, "group")
        svc.policy.require_domain_admin(who, row.domain_id, "identity:delete_group")
        members = list(await session.scalars(select(Membership.user_id).filter_by(group_id=row.id)))
        await assignments.remove_for(session, actor_id=row.id)
        await session.delete(row)
        await revocation.users(session, members)
    svc.revoked_something()


async def members(svc: IdentityService, who: Principal, group_id: str) -> list[User]:
    async with svc.db.session() as session:
        row = await store.get(session, Group, group_id, "group")
        svc.policy.require_domain_reader(who, row.domain_id, "identity:list_users_in_group")
        query = (
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.group_id == row.id)
            .order_by(User.name)
        )
        return list(await session.scalars(query))


async def _group_and_user(session: AsyncSession, group_id: str, user_id: str) -> tuple[Group, User]:
    return (
        await store.get(session, Group, group_id, "group"),
        await store.get(session, User, user_id, "user"),
    )


def _not_member(user: User, group: Group) -> errors.NotFound:
    return errors.NotFound(f"User {user.id} is not a member of group {group.id}.")


async def add_member(svc: IdentityService, who: Principal, group_id: str, user_id: str) -> None:
    async with svc.db.session() as session:
        group, user = await _group_and_user(session, group_id, user_id)
        svc.policy.require_domain_admin(who, group.domain_id, "identity:add_user_to_group")
        if await session.get(Membership, (group.id, user.id)) is None:
            session.add(Membership(group_id=group.id, user_id=user.id))


async def check_member(svc: IdentityService, who: Principal, group_id: str, user_id: str) -> None:
    async with svc.db.session() as session:
        group, user = await _group_and_user(session, group_id, user_id)
        if who.user_id != user.id:
            svc.policy.require_domain_reader(who, group.domain_id, "identity:check_user_in_group")
        if await session.get(Membership, (group.id, user.id)) is None:
            raise _not_member(user, group)


async def remove_member(svc: IdentityService, who: Principal, group_id: str, user_id: str) -> None:
    async with svc.db.session() as session:
        group, user = await _group_and_user(session, group_id, user_id)
        svc.policy.require_domain_admin(who, group.domain_id, "identity:remove_user_from_group")
        member = await session.get(Membership, (group.id, user.id))
        if member is None:
            raise _not_member(user, group)
        await session.delete(member)
        await revocation.user(session, user.id)
    svc.revoked_something()


def _apply(row: Any, changes: dict[str, Any]) -> list[str]:
    """Set the given fields on ``row``; returns the names that really changed."""
    changed = []
    for name, value in changes.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed.append(name)
    return changed
