"""Who a token speaks for: the user as this landlord sees them now, as OIDC claims."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ocx.identity import assignments
from ocx.identity.bootstrap import DEFAULT_DOMAIN
from ocx.identity.models import Domain, Group, Project, User


@dataclass(frozen=True)
class Subject:
    user: User
    domain: Domain
    groups: list[str]
    projects: list[str]

    def claims(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "preferred_username": self.user.name,
            "domain": {"id": self.domain.id, "name": self.domain.name},
            "groups": self.groups,
            "projects": self.projects,
        }
        if self.user.email:
            doc["email"] = self.user.email
        return doc


async def load_subject(session: AsyncSession, user_id: str) -> Subject | None:
    """The user with their groups and projects; None if missing or disabled (or their domain)."""
    user = await session.get(User, user_id)
    if user is None or not user.enabled:
        return None
    domain = await session.get(Domain, user.domain_id)
    if domain is None or not domain.enabled:
        return None
    return Subject(
        user, domain, await group_names(session, user.id), await project_names(session, user.id)
    )


async def group_names(session: AsyncSession, user_id: str) -> list[str]:
    ids = await assignments.group_ids(session, user_id)
    if not ids:
        return []
    rows = await session.scalars(select(Group.name).where(Group.id.in_(ids)).order_by(Group.name))
    return list(dict.fromkeys(rows))


async def project_names(session: AsyncSession, user_id: str) -> list[str]:
    """Enabled projects where the user holds a role: directly, through a group, or inherited."""
    f = assignments.AssignmentFilter(user_id=user_id, effective=True)
    rows = await assignments.list_assignments(session, f)
    ids = {r.target_id for r in rows if r.target_type == assignments.PROJECT}
    domains = {r.target_id for r in rows if r.target_type == assignments.DOMAIN and r.inherited}
    if not ids and not domains:
        return []
    query = select(Project.name).where(
        Project.enabled.is_(True), or_(Project.id.in_(ids), Project.domain_id.in_(domains))
    )
    return sorted(set(await session.scalars(query)))


async def find_user(session: AsyncSession, username: str) -> User | None:
    """A user by the password grant's ``username``: ``name`` in the default domain, or
    ``name@domain`` (split at the last ``@``) when a domain of that name exists.

    A qualified name wins over a default-domain user whose name merely contains ``@``: only
    the landlord's admins create domains, so no lesser admin can shadow another's users.
    """
    name, at, domain_name = username.rpartition("@")
    if at and name:
        domain = await session.scalar(select(Domain).filter_by(name=domain_name))
        if domain is not None:
            return await session.scalar(select(User).filter_by(name=name, domain_id=domain.id))
    return await session.scalar(select(User).filter_by(name=username, domain_id=DEFAULT_DOMAIN))
