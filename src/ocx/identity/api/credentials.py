"""Credentials (``/v3/credentials``), endpoint groups (``/v3/OS-EP-FILTER/endpoint_groups``)
and policy blobs (``/v3/policies``) over HTTP.

Credentials go through :mod:`ocx.identity.credentials` (owner or admin, blobs encrypted).
Endpoint groups and policy blobs are plain admin-written rows of the typed
:class:`~ocx.identity.api.crud.Collection`; OCX stores them as Keystone does and nothing in
OCX acts on them (endpoint groups filter no catalog until associated with a project, which
OCX does not offer; policy blobs are documents for other services to fetch).
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

from fastapi import Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from ocx.common.auth import Principal
from ocx.identity import credentials, store
from ocx.identity.api.crud import Collection, Guarded, extras
from ocx.identity.api.deps import caller, service
from ocx.identity.credentials import CredentialIn, CredentialPatch, Shown
from ocx.identity.models import EndpointGroup, PolicyBlob
from ocx.identity.service import IdentityService

SVC = Depends(service)
WHO = Depends(caller)


class CredentialBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    credential: CredentialIn


class CredentialPatchBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    credential: CredentialPatch


def credential_view(base: str, shown: Shown) -> dict[str, Any]:
    row = shown.row
    return {
        **row.extra,
        "id": row.id,
        "user_id": row.user_id,
        "project_id": row.project_id,
        "type": row.type,
        "blob": shown.blob,
        "links": {"self": f"{base}/v3/credentials/{row.id}"},
    }


creds = Guarded("credential", "credentials", credential_view, query=("user_id", "type"))


async def create_credential(
    body: CredentialBody,
    request: Request,
    response: Response,
    svc: IdentityService = SVC,
    who: Principal = WHO,
) -> dict[str, Any]:
    shown = await credentials.create(svc, who, body.credential)
    response.status_code = 201
    return creds.one(request, shown)


list_credentials = creds.list(credentials.listing)
get_credential = creds.get(credentials.get)
update_credential = creds.update(CredentialPatchBody, credentials.update)
delete_credential = creds.delete(credentials.delete)


# --- endpoint groups -----------------------------------------------------------------------


class EndpointFilters(BaseModel):
    """What an endpoint group may select on (Keystone refuses any other key)."""

    model_config = ConfigDict(extra="forbid")
    service_id: str | None = None
    region_id: str | None = None
    interface: Literal["public", "internal", "admin"] | None = None


class EndpointGroupIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=255)
    description: str = ""
    filters: EndpointFilters


class EndpointGroupPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, min_length=1, max_length=255)
    description: str | None = None
    filters: EndpointFilters | None = None


class EndpointGroupBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    endpoint_group: EndpointGroupIn


class EndpointGroupPatchBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    endpoint_group: EndpointGroupPatch


def endpoint_group_view(base: str, row: EndpointGroup) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "description": row.description,
        "filters": row.filters,
        "links": {"self": f"{base}/v3/OS-EP-FILTER/endpoint_groups/{row.id}"},
    }


endpoint_groups = Collection(
    EndpointGroup,
    "endpoint_group",
    "endpoint_groups",
    endpoint_group_view,
    filters=("name",),
    readers_only=True,
)


async def create_endpoint_group(
    body: EndpointGroupBody,
    request: Request,
    response: Response,
    svc: IdentityService = SVC,
    who: Principal = WHO,
) -> dict[str, Any]:
    svc.policy.require_admin(who, "identity:create_endpoint_group")
    given = body.endpoint_group
    row = EndpointGroup(
        id=uuid.uuid4().hex,
        name=given.name,
        description=given.description,
        filters=given.filters.model_dump(exclude_none=True),
    )
    async with svc.db.session() as session:
        session.add(row)
        await store.flush_unique(session, f"endpoint group {row.id}")
    response.status_code = 201
    return endpoint_groups.one(request, row)


async def check_endpoint_group(
    item_id: str, svc: IdentityService = SVC, who: Principal = WHO
) -> Response:
    svc.policy.require_reader(who, "identity:get_endpoint_group")
    async with svc.db.session() as session:
        await store.get(session, EndpointGroup, item_id, "endpoint group")
    return Response(status_code=200)


# --- policy blobs --------------------------------------------------------------------------


class PolicyIn(BaseModel):
    model_config = ConfigDict(extra="allow")
    blob: str
    type: str = Field(min_length=1, max_length=255)


class PolicyPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    blob: str | None = None
    type: str | None = Field(None, min_length=1, max_length=255)


class PolicyBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    policy: PolicyIn


class PolicyPatchBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    policy: PolicyPatch


def policy_view(base: str, row: PolicyBlob) -> dict[str, Any]:
    return {
        **row.extra,
        "id": row.id,
        "type": row.type,
        "blob": row.blob,
        "links": {"self": f"{base}/v3/policies/{row.id}"},
    }


policies = Collection(
    PolicyBlob, "policy", "policies", policy_view, filters=("type",), readers_only=True
)


async def create_policy(
    body: PolicyBody,
    request: Request,
    response: Response,
    svc: IdentityService = SVC,
    who: Principal = WHO,
) -> dict[str, Any]:
    svc.policy.require_admin(who, "identity:create_policy")
    given = body.policy
    row = PolicyBlob(id=uuid.uuid4().hex, type=given.type, blob=given.blob, extra=extras(given))
    async with svc.db.session() as session:
        session.add(row)
        await store.flush_unique(session, f"policy {row.id}")
    response.status_code = 201
    return policies.one(request, row)
