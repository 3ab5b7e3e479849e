"""OS-FEDERATION administration over HTTP: parse, call :mod:`.access`, render.

Identity providers, mappings, protocols and service providers; the rules (who may, what
ends whose access) are in :mod:`ocx.identity.federation.access`.
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Request, Response
from pydantic import BaseModel, ConfigDict

from ocx.common.auth import Principal
from ocx.identity.api.deps import base_url, caller, collection, filters, service
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


def _idp_doc(request: Request, found: access.Idp) -> dict[str, Any]:
    return {"identity_provider": idp_view(base_url(request), *found)}


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
    return _idp_doc(request, found)


async def list_idps(
    request: Request, svc: IdentityService = SVC, who: Principal = WHO
) -> dict[str, Any]:
    found = await access.list_idps(svc, who, filters(request, "enabled"))
    base = base_url(request)
    return collection(request, "identity_providers", [idp_view(base, *f) for f in found])


async def get_idp(
    idp_id: str, request: Request, svc: IdentityService = SVC, who: Principal = WHO
) -> dict[str, Any]:
    return _idp_doc(request, await access.get_idp(svc, who, idp_id))


async def update_idp(
    idp_id: str, body: IdpBody, request: Request, svc: IdentityService = SVC, who: Principal = WHO
) -> dict[str, Any]:
    return _idp_doc(request, await access.update_idp(svc, who, idp_id, body.identity_provider))


async def delete_idp(idp_id: str, svc: IdentityService = SVC, who: Principal = WHO) -> Response:
    await access.delete_idp(svc, who, idp_id)
    return Response(status_code=204)


# --- mappings ------------------------------------------------------------------------------


def _mapping_doc(request: Request, row: Mapping) -> dict[str, Any]:
    return {"mapping": mapping_view(base_url(request), row)}


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
    return _mapping_doc(request, row)


async def list_mappings(
    request: Request, svc: IdentityService = SVC, who: Principal = WHO
) -> dict[str, Any]:
    rows = await access.list_mappings(svc, who)
    base = base_url(request)
    return collection(request, "mappings", [mapping_view(base, r) for r in rows])


async def get_mapping(
    mapping_id: str, request: Request, svc: IdentityService = SVC, who: Principal = WHO
) -> dict[str, Any]:
    return _mapping_doc(request, await access.get_mapping(svc, who, mapping_id))


async def update_mapping(
    mapping_id: str,
    body: MappingBody,
    request: Request,
    svc: IdentityService = SVC,
    who: Principal = WHO,
) -> dict[str, Any]:
    return _mapping_doc(request, await access.update_mapping(svc, who, mapping_id, body.mapping))


async def delete_mapping(
    mapping_id: str, svc: IdentityService = SVC, who: Principal = WHO
) -> Response:
    await access.delete_mapping(svc, who, mapping_id)
    return Response(status_code=204)


# --- protocols -----------------------------------------------------------------------------


def _protocol_doc(request: Request, row: FederationProtocol) -> dict[str, Any]:
    return {"protocol": protocol_view(base_url(request), row)}


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
    return _protocol_doc(request, row)


async def list_protocols(
    idp_id: str, request: Request, svc: IdentityService = SVC, who: Principal = WHO
) -> dict[str, Any]:
    rows = await access.list_protocols(svc, who, idp_id)
    base = base_url(request)
    return collection(request, "protocols", [protocol_view(base, r) for r in rows])


async def get_protocol(
    idp_id: str,
    protocol_id: str,
    request: Request,
    svc: IdentityService = SVC,
    who: Principal = WHO,
) -> dict[str, Any]:
    return _protocol_doc(request, await access.get_protocol(svc, who, idp_id, protocol_id))


async def update_protocol(
    idp_id: str,
    protocol_id: str,
    body: ProtocolBody,
    request: Request,
    svc: IdentityService = SVC,
    who: Principal = WHO,
) -> dict[str, Any]:
    row = await access.update_protocol(svc, who, idp_id, protocol_id, body.protocol)
    return _protocol_doc(request, row)


async def delete_protocol(
    idp_id: str, protocol_id: str, svc: IdentityService = SVC, who: Principal = WHO
) -> Response:
    await access.delete_protocol(svc, who, idp_id, protocol_id)
    return Response(status_code=204)


# --- service providers ---------------------------------------------------------------------


def _sp_doc(request: Request, row: ServiceProvider) -> dict[str, Any]:
    return {"service_provider": sp_view(base_url(request), row)}


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
    return _sp_doc(request, row)


async def list_sps(
    request: Request, svc: IdentityService = SVC, who: Principal = WHO
) -> dict[str, Any]:
    rows = await access.list_sps(svc, who)
    base = base_url(request)
    return collection(request, "service_providers", [sp_view(base, r) for r in rows])


async def get_sp(
    sp_id: str, request: Request, svc: IdentityService = SVC, who: Principal = WHO
) -> dict[str, Any]:
    return _sp_doc(request, await access.get_sp(svc, who, sp_id))


async def update_sp(
    sp_id: str, body: SpBody, request: Request, svc: IdentityService = SVC, who: Principal = WHO
) -> dict[str, Any]:
    return _sp_doc(request, await access.update_sp(svc, who, sp_id, body.service_provider))


async def delete_sp(sp_id: str, svc: IdentityService = SVC, who: Principal = WHO) -> Response:
    await access.delete_sp(svc, who, sp_id)
    return Response(status_code=204)
