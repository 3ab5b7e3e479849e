"""First start of a landlord's identity: default domain, admin, roles, catalog (idempotent)."""

from __future__ import annotations

import itertools
import logging
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ocx.identity import assignments, catalog
from ocx.identity.assignments import USER, Target
from ocx.identity.federation import idp
from ocx.identity.models import Domain, ImpliedRole, Project, Role, User
from ocx.identity.passwords import Hasher
from ocx.identity.settings import IdentitySettings
from ocx.identity.store import new_id

log = logging.getLogger("ocx.identity.bootstrap")

DEFAULT_DOMAIN = "default"
ROLE_CHAIN = ("admin", "member", "reader")


async def bootstrap(session: AsyncSession, settings: IdentitySettings, hasher: Hasher) -> str:
    """Make what a landlord needs to start; returns the admin project's id."""
    if await session.get(Domain, DEFAULT_DOMAIN) is None:
        session.add(Domain(id=DEFAULT_DOMAIN, name="Default", description="The default domain"))
        await session.flush()
    roles = [await _role(session, name) for name in ROLE_CHAIN]
    for prior, implied in itertools.pairwise(roles):
        if await session.get(ImpliedRole, (prior.id, implied.id)) is None:
            session.add(ImpliedRole(prior_role_id=prior.id, implied_role_id=implied.id))
    project = await _admin_project(session, settings)
    user = await _admin_user(session, settings, hasher, project.id)
    admin_role = roles[0]
    await assignments.grant(session, USER, user.id, Target.project(project.id), admin_role.id)
    await assignments.grant(session, USER, user.id, Target.system(), admin_role.id)
    await assignments.grant(session, USER, user.id, Target.domain(DEFAULT_DOMAIN), admin_role.id)
    # The SAML signing key is made here, under the start lock, not on first use: two first
    # requests at once (side-by-side wiring, several workers) each made a key, and a service
    # provider could trust the certificate of the one that was not kept.
    await idp.signing_key(session, settings.landlord)
    for entry in settings.catalog:
        await catalog.register(
            session,
            type=entry.type,
            name=entry.name,
            url=entry.url,
            region=entry.region or settings.region,
        )
    return project.id


async def operator_domain(session: AsyncSession, settings: IdentitySettings) -> str | None:
    """The id of the landlord's operator domain (made if missing), or None if it has none."""
    if not settings.operator_domain:
        return None
    domain = await session.scalar(select(Domain).filter_by(name=settings.operator_domain))
    if domain is None:
        domain = Domain(
            id=new_id(), name=settings.operator_domain, description="The landlord's own staff"
        )
        session.add(domain)
        await session.flush()
    return domain.id


async def _role(session: AsyncSession, name: str) -> Role:
    role = await session.scalar(select(Role).filter_by(name=name, domain_id=None))
    if role is None:
        role = Role(id=new_id(), name=name)
        session.add(role)
        await session.flush()
    return role


async def _admin_project(session: AsyncSession, settings: IdentitySettings) -> Project:
    project = await session.scalar(
        select(Project).filter_by(name=settings.admin_project, domain_id=DEFAULT_DOMAIN)
    )
    if project is None:
        project = Project(
            id=new_id(),
            name=settings.admin_project,
            domain_id=DEFAULT_DOMAIN,
            description="The landlord's administrators",
        )
        session.add(project)
        await session.flush()
        log.info("bootstrapped admin project %s for %s", project.id, settings.landlord)
    return project


async def _admin_user(
    session: AsyncSession, settings: IdentitySettings, hasher: Hasher, project_id: str
) -> User:
    user = await session.scalar(
        select(User).filter_by(name=settings.admin_user, domain_id=DEFAULT_DOMAIN)
    )
    if user is None:
        user = User(
            id=new_id(),
            name=settings.admin_user,
            domain_id=DEFAULT_DOMAIN,
            default_project_id=project_id,
            created_at=datetime.now(UTC).replace(tzinfo=None),
            password_hash=await hasher.hash(settings.admin_password),
        )
        session.add(user)
        await session.flush()
    elif not hasher.verify_now(user.password_hash, settings.admin_password):
        log.info("admin password changed in settings; updating it")
        user.password_hash = await hasher.hash(settings.admin_password)
    return user
