"""Domains and projects: the rules, without HTTP.

Domains are the landlord's to make and change; a domain's admin manages its projects.
Disabling or deleting a domain or project ends every token that depends on it
(:mod:`ocx.identity.revocation`); the default domain and the landlord's admin project can be
neither disabled nor deleted. ``api/resources.py`` only parses, calls and renders.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ocx.common import errors
from ocx.common.auth import Principal
from ocx.identity import assignments, revocation, store
from ocx.identity.assignments import Target
from ocx.identity.models import Domain, Group, Project, User
from ocx.identity.service import IdentityService


@dataclass
class NewProject:
    name: str
    domain_id: str | None = None
    parent_id: str | None = None
    description: str = ""
    enabled: bool = True
    tags: list[str] = field(default_factory=list)


def _apply(row: Any, changes: dict[str, Any]) -> list[str]:
    changed = []
    for name, value in changes.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed.append(name)
    return changed


# --- domains -------------------------------------------------------------------------------


async def create_domain(
    svc: IdentityService,
    who: Principal,
    name: str,
    description: str,
    enabled: bool,
    domain_id: str | None = None,
) -> Domain:
    svc.policy.require_admin(who, "identity:create_domain")
    row = Domain(
        id=domain_id or store.new_id(), name=name, description=description, enabled=enabled
    )
    async with svc.db.session() as session:
        await store.add_unique(session, row, f"domain {name}")
    return row


async def get_domain(svc: IdentityService, who: Principal, domain_id: str) -> Domain:
    async with svc.db.session() as session:
        row = await store.get(session, Domain, domain_id, "domain")
    if (
        not svc.policy.is_domain_reader(who, row.id)
        and who.project_domain_id != row.id
        and who.user_domain_id != row.id
    ):
        raise errors.Forbidden("You are not authorized to read this domain.")
    return row


async def update_domain(
    svc: IdentityService, who: Principal, domain_id: str, changes: dict[str, Any]
) -> Domain:
    svc.policy.require_admin(who, "identity:update_domain")
    async with svc.db.session() as session:
        row = await store.get(session, Domain, domain_id, "domain")
        if row.id == "default" and changes.get("enabled") is False:
            raise errors.Forbidden("The default domain cannot be disabled.")
        changed = _apply(row, changes)
        await store.flush_unique(session, f"domain {row.name}")
        if "enabled" in changed and not row.enabled:
            await revocation.domain(session, row.id)
    svc.revoked_something()
    return row


async def delete_domain(svc: IdentityService, who: Principal, domain_id: str) -> None:
    svc.policy.require_admin(who, "identity:delete_domain")
    async with svc.db.session() as session:
        row = await store.get(session, Domain, domain_id, "domain")
        if row.enabled:
            raise errors.Forbidden(
                "Cannot delete a domain that is enabled, please disable it first."
            )
        await _delete_contents(session, row.id)
        await session.delete(row)
        await revocation.domain(session, row.id)
    svc.revoked_something()


async def is_domain(svc: IdentityService, ident: str) -> bool:
    """Whether ``ident`` names a domain (which ``/v3/projects`` also serves, as Keystone)."""
    async with svc.db.session() as session:
        return await session.get(Domain, ident) is not None


async def _delete_contents(session: AsyncSession, domain_id: str) -> None:
    models: tuple[type[Project] | type[User] | type[Group], ...] = (Project, User, Group)
    for model in models:
        for child_id in await session.scalars(select(model.id).filter_by(domain_id=domain_id)):
            await assignments.remove_for(session, actor_id=child_id)
            await assignments.remove_for(session, target=Target.project(child_id))
        await session.execute(delete(model).where(model.domain_id == domain_id))
    await assignments.remove_for(session, target=Target.domain(domain_id))


# --- projects ------------------------------------------------------------------------------


async def create_project(svc: IdentityService, who: Principal, p: NewProject) -> Project:
    domain_id = p.domain_id or who.domain_id or who.project_domain_id or who.user_domain_id
    svc.policy.require_domain_admin(who, domain_id, "identity:create_project")
    async with svc.db.session() as session:
        await store.get(session, Domain, domain_id, "domain")
        parent_id = None
        if p.parent_id and p.parent_id != domain_id:
            parent = await store.get(session, Project, p.parent_id, "project")
            if parent.domain_id != domain_id:
                raise errors.ValidationError("The parent project is in another domain.")
            parent_id = parent.id
        row = Project(
            id=store.new_id(),
            name=p.name,
            domain_id=domain_id,
            parent_id=parent_id,
            description=p.description,
            enabled=p.enabled,
            tags=p.tags,
        )
        await store.add_unique(session, row, f"project {p.name} in domain {domain_id}")
    return row


async def get_project(svc: IdentityService, who: Principal, project_id: str) -> Project:
    async with svc.db.session() as session:
        row = await store.get(session, Project, project_id, "project")
        if svc.policy.is_domain_reader(who, row.domain_id) or who.project_id == row.id:
            return row
        held = await assignments.effective_role_ids(session, who.user_id, Target.project(row.id))
    if not held:
        raise errors.Forbidden("You are not authorized to read this project.")
    return row


async def update_project(
    svc: IdentityService, who: Principal, project_id: str, changes: dict[str, Any]
) -> Project:
    async with svc.db.session() as session:
        row = await store.get(session, Project, project_id, "project")
        svc.policy.require_domain_admin(who, row.domain_id, "identity:update_project")
        if row.id == svc.policy.admin_project_id and changes.get("enabled") is False:
            raise errors.Forbidden("The landlord's admin project cannot be disabled.")
        changed = _apply(row, changes)
        await store.flush_unique(session, f"project {row.name}")
        if "enabled" in changed and not row.enabled:
            await revocation.project(session, row.id)
    svc.revoked_something()
    return row


async def delete_project(svc: IdentityService, who: Principal, project_id: str) -> None:
    async with svc.db.session() as session:
        row = await store.get(session, Project, project_id, "project")
        svc.policy.require_domain_admin(who, row.domain_id, "identity:delete_project")
        if row.id == svc.policy.admin_project_id:
            raise errors.Forbidden("The landlord's admin project cannot be deleted.")
        children = await session.scalar(select(func.count()).where(Project.parent_id == row.id))
        if children:
            raise errors.Forbidden("Cannot delete a project that has child projects.")
        await assignments.remove_for(session, target=Target.project(row.id))
        await session.delete(row)
        await revocation.project(session, row.id)
    svc.revoked_something()
