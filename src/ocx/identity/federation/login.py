"""A verified federated identity becomes a local, unscoped token grant.

The identity provider authenticated the user; everything the user may do here comes from
*this* landlord's mapping: the mapping decides the local user, the groups (memberships that
lapse ``authorization_ttl`` after the last login unless renewed) and the projects to provision
(with persistent grants of the roles the mapping names). An IdP can choose only among what the
mapping allows; it cannot name a role or a group the mapping does not.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping as MappingType
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ocx.common import errors
from ocx.common.auth import shadow_user_id
from ocx.identity import assignments
from ocx.identity.assignments import USER, Target
from ocx.identity.federation import mapping as engine
from ocx.identity.federation.models import (
    ExpiringMembership,
    FederatedUser,
    FederationProtocol,
    IdentityProvider,
    Mapping,
)
from ocx.identity.models import Domain, Group, Project, Role, User
from ocx.identity.store import new_id
from ocx.identity.tokens import Grant, Scope

log = logging.getLogger("ocx.identity.federation")


@dataclass(frozen=True)
class Assertion:
    """What a verified IdP credential says: attributes, and until when it vouches."""

    unique_hint: str
    attributes: dict[str, str]
    expires_at: float | None


def flatten(claims: MappingType[str, object]) -> dict[str, str]:
    """Claims or SAML attributes as the mapping engine reads them: lists joined with ';'."""
    flat: dict[str, str] = {}
    for name, value in claims.items():
        if isinstance(value, list | tuple):
            flat[name] = ";".join(str(v) for v in value)
        elif isinstance(value, str | int | float | bool):
            flat[name] = str(value)
    return flat


async def login(
    session: AsyncSession,
    idp: IdentityProvider,
    protocol: FederationProtocol,
    assertion: Assertion,
    default_ttl: int,
) -> Grant:
    mapping = await session.get(Mapping, protocol.mapping_id)
    if mapping is None:
        raise errors.Unauthorized("The protocol's mapping no longer exists.")
    try:
        mapped = engine.evaluate(mapping.rules, assertion.attributes, mapping.schema_version)
    except engine.MappingError as exc:
        log.info("federated login via %s/%s refused: %s", idp.id, protocol.id, exc)
        raise errors.Unauthorized(
            "No mapping rule of this landlord matches the assertion."
        ) from exc
    user = await _user(session, idp, protocol, mapped)
    ttl = idp.authorization_ttl * 60 if idp.authorization_ttl else default_ttl
    groups = await _groups(session, mapped)
    await _renew_memberships(session, user, idp, groups, time.time() + ttl)
    await _provision_projects(session, user, idp, mapped)
    domain = await session.get(Domain, user.domain_id)
    assert domain is not None
    return Grant(
        user=user,
        user_domain=domain,
        methods=["mapped"],
        scope=Scope(),
        expires_at=assertion.expires_at,
        extra_claims={
            "OS-FEDERATION": {
                "identity_provider": {"id": idp.id},
                "protocol": {"id": protocol.id},
                "groups": [{"id": g.id} for g in groups],
            }
        },
    )


async def _user(
    session: AsyncSession,
    idp: IdentityProvider,
    protocol: FederationProtocol,
    mapped: engine.MappedIdentity,
) -> User:
    if mapped.user_type == "local":
        return await _local_user(session, mapped)
    unique = mapped.user_id or mapped.user_name
    if not unique:
        raise errors.Unauthorized("The mapping gave the federated user no name or id.")
    name = (mapped.user_name or unique)[:255]
    user_id = shadow_user_id(idp.id, unique)
    user = await session.get(User, user_id)
    if user is None:
        user = User(
            id=user_id,
            name=name,
            domain_id=idp.domain_id,
            enabled=True,
            email=mapped.user_email,
            created_at=datetime.now(UTC).replace(tzinfo=None),
        )
        session.add(user)
    elif not user.enabled:
        raise errors.Unauthorized("This federated user is disabled here.")
    user.name = name
    await _flush_or_refuse(session, f"A different user named {name!r} exists here already.")
    await _record_shadow(session, user, idp, protocol, unique)
    return user


async def _record_shadow(
    session: AsyncSession,
    user: User,
    idp: IdentityProvider,
    protocol: FederationProtocol,
    unique: str,
) -> None:
    shadow = await session.get(FederatedUser, user.id)
    if shadow is None:
        shadow = FederatedUser(
            user_id=user.id,
            idp_id=idp.id,
            protocol_id=protocol.id,
            unique_id=unique[:512],
            display_name=user.name,
            last_login=0.0,
        )
        session.add(shadow)
    shadow.last_login = time.time()
    shadow.display_name = user.name


async def _flush_or_refuse(session: AsyncSession, message: str) -> None:
    try:
        await session.flush()
    except IntegrityError as exc:
        raise errors.Unauthorized(message) from exc


async def _domain(session: AsyncSession, ref: engine.DomainRef | None) -> Domain | None:
    if ref is None:
        return None
    if ref.id:
        return await session.get(Domain, ref.id)
    return await session.scalar(select(Domain).filter_by(name=ref.name))


async def _local_user(session: AsyncSession, mapped: engine.MappedIdentity) -> User:
    user: User | None = None
    if mapped.user_id:
        user = await session.get(User, mapped.user_id)
    elif mapped.user_name:
        domain = await _domain(session, mapped.user_domain)
        if domain is not None:
            user = await session.scalar(
                select(User).filter_by(name=mapped.user_name, domain_id=domain.id)
            )
    if user is None or not user.enabled:
        raise errors.Unauthorized("The mapping names a local user that does not exist here.")
    return user


async def _groups(session: AsyncSession, mapped: engine.MappedIdentity) -> list[Group]:
    found: dict[str, Group] = {}
    for group_id in mapped.group_ids:
        group = await session.get(Group, group_id)
        if group is not None:
            found[group.id] = group
    for ref in mapped.group_names:
        domain = await _domain(session, ref.domain)
        if domain is None:
            continue
        group = await session.scalar(select(Group).filter_by(name=ref.name, domain_id=domain.id))
        if group is not None:
            found[group.id] = group
    missing = len(mapped.group_ids) + len(mapped.group_names) - len(found)
    if missing > 0:
        log.info("federated login: %d mapped group(s) do not exist here; ignored", missing)
    return list(found.values())


async def _renew_memberships(
    session: AsyncSession, user: User, idp: IdentityProvider, groups: list[Group], until: float
) -> None:
    """This login's groups are renewed until ``until``; groups it no longer gives lapse now."""
    await session.execute(
        delete(ExpiringMembership).where(
            ExpiringMembership.user_id == user.id, ExpiringMembership.idp_id == idp.id
        )
    )
    for group in groups:
        session.add(
            ExpiringMembership(user_id=user.id, group_id=group.id, idp_id=idp.id, expires_at=until)
        )
    await session.flush()


async def _provision_projects(
    session: AsyncSession, user: User, idp: IdentityProvider, mapped: engine.MappedIdentity
) -> None:
    for wanted in mapped.projects:
        domain = await _domain(session, wanted.domain) if wanted.domain else None
        domain_id = domain.id if domain is not None else idp.domain_id
        project = await session.scalar(
            select(Project).filter_by(name=wanted.name, domain_id=domain_id)
        )
        if project is None:
            project = Project(
                id=new_id(),
                name=wanted.name[:255],
                domain_id=domain_id,
                description=f"Provisioned for users of {idp.id}",
            )
            session.add(project)
            await session.flush()
        for role_name in wanted.roles:
            role = await session.scalar(select(Role).filter_by(name=role_name, domain_id=None))
            if role is None:
                log.info("federated login: role %r does not exist here; ignored", role_name)
                continue
            await assignments.grant(session, USER, user.id, Target.project(project.id), role.id)
