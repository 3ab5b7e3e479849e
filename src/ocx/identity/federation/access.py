"""Federation access: identity providers, mappings, protocols and service providers,
without HTTP.

Reads need a landlord reader, writes a landlord admin. Everything that ends trust
(disabling or deleting an IdP or protocol, changing or deleting a mapping) also revokes the
tokens of the users who came in through it and lapses their mapped group memberships, so
access ends at once rather than when tokens expire. ``federation/api.py`` only parses, calls
and renders.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from ocx.common import errors
from ocx.common.auth import Principal
from ocx.identity import checks, revocation, store
from ocx.identity.federation import mapping as engine
from ocx.identity.federation.models import (
    ExpiringMembership,
    FederatedUser,
    FederationProtocol,
    IdentityProvider,
    IdpRemoteId,
    Mapping,
    ServiceProvider,
)
from ocx.identity.models import Domain
from ocx.identity.service import IdentityService

Idp = tuple[IdentityProvider, list[str]]


class IdpIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    domain_id: str | None = None
    description: str | None = None
    enabled: bool | None = None
    remote_ids: list[str] | None = None
    authorization_ttl: int | None = Field(None, ge=0, le=60 * 24 * 30)
    jwks_uri: str | None = None
    saml_certificate: str | None = None
    saml_accept_sha1: bool | None = None


class MappingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rules: list[dict[str, Any]]
    schema_version: str | None = None


class ProtocolIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mapping_id: str | None = None
    remote_id_attribute: str | None = None
    enabled: bool | None = None


class SpIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    auth_url: str | None = None
    sp_url: str | None = None
    description: str | None = None
    enabled: bool | None = None
    relay_state_prefix: str | None = None
    audience: str | None = None


# --- revocation when trust ends ---------------------------------------------------------


async def end_access_through(session: AsyncSession, idp_id: str) -> None:
    """Revoke the tokens and lapse the memberships of every user who came in via ``idp_id``."""
    users = list(await session.scalars(select(FederatedUser.user_id).filter_by(idp_id=idp_id)))
    await revocation.users(session, users)
    await session.execute(delete(ExpiringMembership).where(ExpiringMembership.idp_id == idp_id))


# --- identity providers ----------------------------------------------------------------------


async def _set_remote_ids(session: AsyncSession, idp_id: str, remote_ids: list[str]) -> None:
    await session.execute(delete(IdpRemoteId).where(IdpRemoteId.idp_id == idp_id))
    await session.flush()
    for remote_id in dict.fromkeys(remote_ids):
        clash = await session.get(IdpRemoteId, remote_id)
        if clash is not None:
            raise errors.Conflict(f"Duplicate remote ID: {remote_id} belongs to {clash.idp_id}.")
        session.add(IdpRemoteId(remote_id=remote_id, idp_id=idp_id))
    await session.flush()


def _checked_idp(data: IdpIn) -> IdpIn:
    if data.jwks_uri is not None:
        checks.http_url(data.jwks_uri, "jwks_uri")
    if data.saml_certificate is not None:
        checks.saml_certificate(data.saml_certificate)
    checks.remote_ids(data.remote_ids or [])
    return data


async def _idp_domain(session: AsyncSession, idp_id: str) -> str:
    """Keystone gives every IdP without a domain a new one of its own for its shadow users."""
    domain = Domain(
        id=store.new_id(),
        name=f"{idp_id}-federated"[:255],
        description=f"Users of identity provider {idp_id}",
    )
    await store.add_unique(session, domain, f"domain {domain.name}")
    return domain.id


async def _remote_ids(session: AsyncSession, idp_id: str) -> list[str]:
    return sorted(await session.scalars(select(IdpRemoteId.remote_id).filter_by(idp_id=idp_id)))


async def create_idp(svc: IdentityService, who: Principal, idp_id: str, data: IdpIn) -> Idp:
    svc.policy.require_admin(who, "identity:create_identity_provider")
    _checked_idp(data)
    async with svc.db.session() as session:
        if await session.get(IdentityProvider, idp_id) is not None:
            raise errors.Conflict(
                f"Conflict occurred attempting to store identity_provider {idp_id}."
            )
        domain_id = data.domain_id or await _idp_domain(session, idp_id)
        await store.get(session, Domain, domain_id, "domain")
        row = IdentityProvider(
            id=idp_id,
            domain_id=domain_id,
            description=data.description or "",
            enabled=data.enabled if data.enabled is not None else True,
            authorization_ttl=data.authorization_ttl,
            jwks_uri=data.jwks_uri,
            saml_certificate=data.saml_certificate,
            saml_accept_sha1=bool(data.saml_accept_sha1),
        )
        await store.add_unique(session, row, f"identity_provider {idp_id}")
        await _set_remote_ids(session, idp_id, data.remote_ids or [])
    return row, list(data.remote_ids or [])


async def list_idps(svc: IdentityService, who: Principal, enabled: bool | None = None) -> list[Idp]:
    svc.policy.require_reader(who, "identity:list_identity_providers")
    wanted = {} if enabled is None else {"enabled": enabled}
    async with svc.db.session() as session:
        query = select(IdentityProvider).order_by(IdentityProvider.id).filter_by(**wanted)
        rows = list(await session.scalars(query))
        return [(r, await _remote_ids(session, r.id)) for r in rows]


async def get_idp(svc: IdentityService, who: Principal, idp_id: str) -> Idp:
    svc.policy.require_reader(who, "identity:get_identity_provider")
    async with svc.db.session() as session:
        row = await store.get(session, IdentityProvider, idp_id, "identity_provider")
        return row, await _remote_ids(session, idp_id)


async def update_idp(svc: IdentityService, who: Principal, idp_id: str, patch: IdpIn) -> Idp:
    svc.policy.require_admin(who, "identity:update_identity_provider")
    _checked_idp(patch)
    if patch.domain_id is not None:
        raise errors.ValidationError("An identity provider's domain cannot be changed.")
    async with svc.db.session() as session:
        row = await store.get(session, IdentityProvider, idp_id, "identity_provider")
        changed = _apply(row, patch.model_dump(exclude_none=True, exclude={"remote_ids"}))
        if patch.remote_ids is not None:
            await _set_remote_ids(session, idp_id, patch.remote_ids)
        if "enabled" in changed and not row.enabled:
            await end_access_through(session, idp_id)
        found = row, await _remote_ids(session, idp_id)
    svc.revoked_something()
    return found


async def delete_idp(svc: IdentityService, who: Principal, idp_id: str) -> None:
    svc.policy.require_admin(who, "identity:delete_identity_provider")
    async with svc.db.session() as session:
        row = await store.get(session, IdentityProvider, idp_id, "identity_provider")
        await end_access_through(session, idp_id)
        await session.delete(row)
    svc.revoked_something()


# --- mappings ------------------------------------------------------------------------------


def _checked_rules(data: MappingIn) -> tuple[dict[str, Any], str]:
    rules, version = {"rules": data.rules}, data.schema_version or "1.0"
    try:
        engine.validate_rules(rules, version)
    except engine.MappingError as exc:
        raise errors.ValidationError(f"Invalid mapping rules: {exc}") from exc
    return rules, version


async def _idps_using(session: AsyncSession, mapping_id: str) -> list[str]:
    query = select(FederationProtocol.idp_id).filter_by(mapping_id=mapping_id).distinct()
    return list(await session.scalars(query))


async def create_mapping(
    svc: IdentityService, who: Principal, mapping_id: str, data: MappingIn
) -> Mapping:
    svc.policy.require_admin(who, "identity:create_mapping")
    rules, version = _checked_rules(data)
    row = Mapping(id=mapping_id, rules=rules, schema_version=version)
    async with svc.db.session() as session:
        await store.add_unique(session, row, f"mapping {mapping_id}")
    return row


async def list_mappings(svc: IdentityService, who: Principal) -> list[Mapping]:
    svc.policy.require_reader(who, "identity:list_mappings")
    return await store.every(svc.db, Mapping, Mapping.id)


async def get_mapping(svc: IdentityService, who: Principal, mapping_id: str) -> Mapping:
    svc.policy.require_reader(who, "identity:get_mapping")
    return await store.fetch(svc.db, Mapping, mapping_id, "mapping")


async def update_mapping(
    svc: IdentityService, who: Principal, mapping_id: str, patch: MappingIn
) -> Mapping:
    svc.policy.require_admin(who, "identity:update_mapping")
    rules, version = _checked_rules(patch)
    async with svc.db.session() as session:
        row = await store.get(session, Mapping, mapping_id, "mapping")
        row.rules, row.schema_version = rules, version
        for idp_id in await _idps_using(session, mapping_id):
            await end_access_through(session, idp_id)
    svc.revoked_something()
    return row


async def delete_mapping(svc: IdentityService, who: Principal, mapping_id: str) -> None:
    svc.policy.require_admin(who, "identity:delete_mapping")
    async with svc.db.session() as session:
        row = await store.get(session, Mapping, mapping_id, "mapping")
        for idp_id in await _idps_using(session, mapping_id):
            await end_access_through(session, idp_id)
        # Protocols that used the mapping go with it: no protocol may run without one.
        await session.execute(
            delete(FederationProtocol).where(FederationProtocol.mapping_id == mapping_id)
        )
        await session.delete(row)
    svc.revoked_something()


# --- protocols -----------------------------------------------------------------------------


async def _protocol(session: AsyncSession, idp_id: str, protocol_id: str) -> FederationProtocol:
    row = await session.get(FederationProtocol, (idp_id, protocol_id))
    if row is None:
        raise errors.NotFound(f"Could not find federated protocol: {protocol_id}.")
    return row


async def create_protocol(
    svc: IdentityService, who: Principal, idp_id: str, protocol_id: str, data: ProtocolIn
) -> FederationProtocol:
    svc.policy.require_admin(who, "identity:create_protocol")
    if not data.mapping_id:
        raise errors.ValidationError("A protocol needs a mapping_id.")
    async with svc.db.session() as session:
        await store.get(session, IdentityProvider, idp_id, "identity_provider")
        await store.get(session, Mapping, data.mapping_id, "mapping")
        row = FederationProtocol(
            idp_id=idp_id,
            id=protocol_id,
            mapping_id=data.mapping_id,
            remote_id_attribute=data.remote_id_attribute,
            enabled=data.enabled if data.enabled is not None else True,
        )
        await store.add_unique(session, row, f"protocol {protocol_id}")
    return row


async def list_protocols(
    svc: IdentityService, who: Principal, idp_id: str
) -> list[FederationProtocol]:
    svc.policy.require_reader(who, "identity:list_protocols")
    async with svc.db.session() as session:
        await store.get(session, IdentityProvider, idp_id, "identity_provider")
        return list(await session.scalars(select(FederationProtocol).filter_by(idp_id=idp_id)))


async def get_protocol(
    svc: IdentityService, who: Principal, idp_id: str, protocol_id: str
) -> FederationProtocol:
    svc.policy.require_reader(who, "identity:get_protocol")
    async with svc.db.session() as session:
        return await _protocol(session, idp_id, protocol_id)


async def update_protocol(
    svc: IdentityService, who: Principal, idp_id: str, protocol_id: str, patch: ProtocolIn
) -> FederationProtocol:
    svc.policy.require_admin(who, "identity:update_protocol")
    async with svc.db.session() as session:
        row = await _protocol(session, idp_id, protocol_id)
        if patch.mapping_id:
            await store.get(session, Mapping, patch.mapping_id, "mapping")
        if _apply(row, patch.model_dump(exclude_none=True)):
            await end_access_through(session, idp_id)
    svc.revoked_something()
    return row


async def delete_protocol(
    svc: IdentityService, who: Principal, idp_id: str, protocol_id: str
) -> None:
    svc.policy.require_admin(who, "identity:delete_protocol")
    async with svc.db.session() as session:
        row = await _protocol(session, idp_id, protocol_id)
        await end_access_through(session, idp_id)
        await session.delete(row)
    svc.revoked_something()


# --- service providers ---------------------------------------------------------------------


def _checked_sp(data: SpIn) -> SpIn:
    """Every client taking a token to this provider follows these URLs: they must work."""
    if data.auth_url is not None:
        checks.http_url(data.auth_url, "auth_url")
    if data.sp_url is not None:
        checks.http_url(data.sp_url, "sp_url")
    return data


async def create_sp(
    svc: IdentityService, who: Principal, sp_id: str, data: SpIn
) -> ServiceProvider:
    svc.policy.require_admin(who, "identity:create_service_provider")
    _checked_sp(data)
    if not data.auth_url or not data.sp_url:
        raise errors.ValidationError("A service provider needs auth_url and sp_url.")
    row = ServiceProvider(
        id=sp_id,
        auth_url=data.auth_url,
        sp_url=data.sp_url,
        description=data.description or "",
        enabled=data.enabled if data.enabled is not None else True,
        relay_state_prefix=data.relay_state_prefix or "ss:mem:",
        audience=data.audience,
    )
    async with svc.db.session() as session:
        await store.add_unique(session, row, f"service_provider {sp_id}")
    return row


async def list_sps(svc: IdentityService, who: Principal) -> list[ServiceProvider]:
    svc.policy.require_reader(who, "identity:list_service_providers")
    return await store.every(svc.db, ServiceProvider, ServiceProvider.id)


async def get_sp(svc: IdentityService, who: Principal, sp_id: str) -> ServiceProvider:
    svc.policy.require_reader(who, "identity:get_service_provider")
    return await store.fetch(svc.db, ServiceProvider, sp_id, "service_provider")


async def update_sp(
    svc: IdentityService, who: Principal, sp_id: str, patch: SpIn
) -> ServiceProvider:
    svc.policy.require_admin(who, "identity:update_service_provider")
    _checked_sp(patch)
    async with svc.db.session() as session:
        row = await store.get(session, ServiceProvider, sp_id, "service_provider")
        _apply(row, patch.model_dump(exclude_none=True))
    return row


async def delete_sp(svc: IdentityService, who: Principal, sp_id: str) -> None:
    svc.policy.require_admin(who, "identity:delete_service_provider")
    async with svc.db.session() as session:
        await session.delete(await store.get(session, ServiceProvider, sp_id, "service_provider"))


def _apply(row: Any, changes: dict[str, Any]) -> list[str]:
    """Set the given fields on ``row``; returns the names that really changed."""
    changed = []
    for name, value in changes.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed.append(name)
    return changed
