"""Regions, services and endpoints (the catalog's rows). Reads need a token; writes an admin."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from ocx.common import errors
from ocx.common.auth import Principal
from ocx.identity import catalog_admin as admin
from ocx.identity.api import views
from ocx.identity.api.crud import Collection
from ocx.identity.api.deps import base_url, caller, service
from ocx.identity.models import Endpoint, Region, Service
from ocx.identity.service import IdentityService


class RegionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str | None = Field(None, min_length=1, max_length=255)
    description: str = ""
    parent_region_id: str | None = None


class RegionPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    description: str | None = None
    parent_region_id: str | None = None


class ServiceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: str = Field(min_length=1, max_length=255)
    name: str = ""
    description: str = ""
    enabled: bool = True


class ServicePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: str | None = Field(None, min_length=1, max_length=255)
    name: str | None = None
    description: str | None = None
    enabled: bool | None = None


class EndpointIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    service_id: str
    interface: str
    url: str = Field(min_length=1)
    region_id: str | None = None
    region: str | None = None
    enabled: StrictBool = True  # Keystone refuses "True" and 1


class EndpointPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    service_id: str | None = None
    interface: str | None = None
    url: str | None = Field(None, min_length=1)
    region_id: str | None = None
    region: str | None = None
    enabled: StrictBool | None = None


class RegionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    region: RegionIn


class RegionPatchBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    region: RegionPatch


class ServiceBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    service: ServiceIn


class ServicePatchBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    service: ServicePatch


class EndpointBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    endpoint: EndpointIn


class EndpointPatchBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    endpoint: EndpointPatch


SVC = Depends(service)
WHO = Depends(caller)


# --- the three collections --------------------------------------------------------------

regions = Collection(Region, "region", "regions", views.region, ("parent_region_id",))
services = Collection(Service, "service", "services", views.service, ("type", "name"))
endpoints = Collection(
    Endpoint, "endpoint", "endpoints", views.endpoint, ("service_id", "interface", "region_id")
)


# --- regions -------------------------------------------------------------------------------


def _region_doc(request: Request, row: Region) -> dict[str, Any]:
    return {"region": views.region(base_url(request), row)}


async def create_region(
    body: RegionBody,
    request: Request,
    response: Response,
    svc: IdentityService = SVC,
    who: Principal = WHO,
) -> dict[str, Any]:
    r = body.region
    row = await admin.create_region(svc, who, r.id, r.description, r.parent_region_id)
    response.status_code = 201
    return _region_doc(request, row)


async def put_region(
    region_id: str,
    body: RegionBody,
    request: Request,
    response: Response,
    svc: IdentityService = SVC,
    who: Principal = WHO,
) -> dict[str, Any]:
    """Keystone's create-with-an-id: ``PUT /v3/regions/{id}``."""
    r = body.region
    if r.id is not None and r.id != region_id:
        raise errors.ValidationError("The region id in the body differs from the one in the URL.")
    row = await admin.create_region(svc, who, region_id, r.description, r.parent_region_id)
    response.status_code = 201
    return _region_doc(request, row)


async def update_region(
    region_id: str,
    body: RegionPatchBody,
    request: Request,
    svc: IdentityService = SVC,
    who: Principal = WHO,
) -> dict[str, Any]:
    changes = body.region.model_dump(exclude_none=True)
    return _region_doc(request, await admin.update_region(svc, who, region_id, changes))


# --- services ------------------------------------------------------------------------------


async def create_service(
    body: ServiceBody,
    request: Request,
    response: Response,
    svc: IdentityService = SVC,
    who: Principal = WHO,
) -> dict[str, Any]:
    s = body.service
    row = await admin.create_service(svc, who, s.type, s.name, s.description, s.enabled)
    response.status_code = 201
    return {"service": views.service(base_url(request), row)}


# --- endpoints -----------------------------------------------------------------------------


def _endpoint_doc(request: Request, row: Endpoint) -> dict[str, Any]:
    return {"endpoint": views.endpoint(base_url(request), row)}


async def create_endpoint(
    body: EndpointBody,
    request: Request,
    response: Response,
    svc: IdentityService = SVC,
    who: Principal = WHO,
) -> dict[str, Any]:
    e = body.endpoint
    fields = admin.EndpointFields(
        service_id=e.service_id,
        interface=e.interface,
        url=e.url,
        region_id=e.region_id,
        region=e.region,
        enabled=e.enabled,
    )
    row = await admin.create_endpoint(svc, who, fields)
    response.status_code = 201
    return _endpoint_doc(request, row)


async def update_endpoint(
    endpoint_id: str,
    body: EndpointPatchBody,
    request: Request,
    svc: IdentityService = SVC,
    who: Principal = WHO,
) -> dict[str, Any]:
    fields = admin.EndpointFields(**body.endpoint.model_dump())
    return _endpoint_doc(request, await admin.update_endpoint(svc, who, endpoint_id, fields))
