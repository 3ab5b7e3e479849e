"""OS-FEDERATION administration over HTTP: parse, call :mod:`.access`, render.

Identity providers, mappings, protocols and service providers; the rules (who may, what
ends whose access) are in :mod:`ocx.identity.federation.access`.
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Request, Response
from pydantic import BaseModel, ConfigDict

from ocx.common.auth import Principal
from ocx.identity.api.crud import Guarded
from ocx.identity.api.deps import caller, service
from ocx.identity.federation import access
from ocx.identity.federation.access import IdpIn, MappingIn, ProtocolIn, SpIn
from ocx.identity.federation.models import (
    FederationProtocol,
    IdentityProvider,
    Mapping,
    ServiceProvider,
)
from ocx.identity.service import IdentityService

FED = "/v3/OS-FEDERATION"
SVC = Depends(service)
WHO = Depends(caller)


class IdpBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    identity_provider: IdpIn


class MappingBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mapping: MappingIn


class ProtocolBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    protocol: ProtocolIn


class SpBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    service_provider: SpIn


# --- views ---------------------------------------------------------------------------------


def idp_view(base: str, row: IdentityProvider, remote_ids: list[str]) -> dict[str, Any]:
    url = f"{base}{FED}/identity_providers/{row.id}"
    return {
        "id": row.id,
        "domain_id": row.domain_id,
        "description": row.description,
        "enabled": row.enabled,
        "remote_ids": remote_ids,
        "authorization_ttl": row.authorization_ttl,
        "jwks_uri": row.jwks_uri,
        "saml_certificate": row.saml_certificate,
        "saml_accept_sha1": row.saml_accept_sha1,
        "links": {"self": url, "protocols": url + "/protocols"},
    }


def mapping_view(base: str, row: Mapping) -> dict[str, Any]:
    return {
        "id": row.id,
        "rules": row.rules["rules"],
        "schema_version": row.schema_version,
        "links": {"self": f"{base}{FED}/mappings/{row.id}"},
    }


def protocol_view(base: str, row: FederationProtocol) -> dict[str, Any]:
    idp = f"{base}{FED}/identity_providers/{row.idp_id}"
    return {
        "id": row.id,
        "mapping_id": row.mapping_id,
        "enabled": row.enabled,
        "remote_id_attribute": row.remote_id_attribute,
        "links": {"self": f"{idp}/protocols/{row.id}", "identity_provider": idp},
    }


def sp_view(base: str, row: ServiceProvider) -> dict[str, Any]:
    return {
        "id": row.id,
        "auth_url": row.auth_url,
        "sp_url": row.sp_url,
        "description": row.description,
        "enabled": row.enabled,
        "relay_state_prefix": row.relay_state_prefix,
        "audience": row.audience or row.id,
        "links": {"self": f"{base}{FED}/service_providers/{row.id}"},
    }


def _idp(base: str, found: access.Idp) -> dict[str, Any]:
    return idp_view(base, *found)


idps = Guarded("identity_provider", "identity_providers", _idp, query=("enabled",))
mappings = Guarded("mapping", "mappings", mapping_view)
protocols = Guarded("protocol", "protocols", protocol_view)
sps = Guarded("service_provider", "service_providers", sp_view)


# --- identity providers ----------------------------------------------------------------------


async def create_idp(
    idp_id: str,
    body: IdpBody,
    request: Request,
    response: Response,
    svc: IdentityService = SVC,
    who: Principal = WHO,
) -> dict[str, Any]:
    found = await access.create_idp(svc, who, idp_id, body.identity_provider)
    response.status_code = 201
    return idps.one(request, found)


list_idps = idps.list(access.list_idps)
get_idp = idps.get(access.get_idp)
update_idp = idps.update(IdpBody, access.update_idp)
delete_idp = idps.delete(access.delete_idp)


# --- mappings ------------------------------------------------------------------------------


async def create_mapping(
    mapping_id: str,
    body: MappingBody,
    request: Request,
    response: Response,
    svc: IdentityService = SVC,
    who: Principal = WHO,
) -> dict[str, Any]:
    row = await access.create_mapping(svc, who, mapping_id, body.mapping)
    response.status_code = 201
    return mappings.one(request, row)


list_mappings = mappings.list(access.list_mappings)
get_mapping = mappings.get(access.get_mapping)
update_mapping = mappings.update(MappingBody, access.update_mapping)
delete_mapping = mappings.delete(access.delete_mapping)


# --- protocols -----------------------------------------------------------------------------


async def create_protocol(
    idp_id: str,
    protocol_id: str,
    body: ProtocolBody,
    request: Request,
    response: Response,
    svc: IdentityService = SVC,
    who: Principal = WHO,
) -> dict[str, Any]:
    row = await access.create_protocol(svc, who, idp_id, protocol_id, body.protocol)
    response.status_code = 201
    return protocols.one(request, row)


list_protocols = protocols.list(access.list_protocols)
get_protocol = protocols.get(access.get_protocol)
update_protocol = protocols.update(ProtocolBody, access.update_protocol)
delete_protocol = protocols.delete(access.delete_protocol)


# --- service providers ---------------------------------------------------------------------


async def create_sp(
    sp_id: str,
    body: SpBody,
    request: Request,
    response: Response,
    svc: IdentityService = SVC,
    who: Principal = WHO,
) -> dict[str, Any]:
    row = await access.create_sp(svc, who, sp_id, body.service_provider)
    response.status_code = 201
    return sps.one(request, row)


list_sps = sps.list(access.list_sps)
get_sp = sps.get(access.get_sp)
update_sp = sps.update(SpBody, access.update_sp)
delete_sp = sps.delete(access.delete_sp)
