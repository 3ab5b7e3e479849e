"""Regions, services and endpoints (the catalog's rows). Reads need a token; writes an admin."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from ocx.common import errors
from ocx.common.auth import Principal
from ocx.identity import checks, store
from ocx.identity.api import views
from ocx.identity.api.crud import Collection, apply
from ocx.identity.api.deps import base_url, caller, service
from ocx.identity.catalog import INTERFACES
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


# --- the three collections --------------------------------------------------------------

regions = Collection(Region, "region", "regions", views.region, ("parent_region_id",))
services = Collection(Service, "service", "services", views.service, ("type", "name"))
endpoints = Collection(
    Endpoint, "endpoint", "endpoints", views.endpoint, ("service_id", "interface", "region_id")
)


# --- regions -------------------------------------------------------------------------------


async def create_region(
    body: RegionBody,
    request: Request,
    response: Response,
    svc: IdentityService = Depends(service),
    who: Principal = Depends(caller),
) -> dict[str, Any]:
    return await _new_region(body.region, body.region.id, request, response, svc, who)


async def put_region(
    region_id: str,
    body: RegionBody,
    request: Request,
    response: Response,
    svc: IdentityService = Depends(service),
    who: Principal = Depends(caller),
) -> dict[str, Any]:
    """Keystone's create-with-an-id: ``PUT /v3/regions/{id}``."""
    if body.region.id is not None and body.region.id != region_id:
        raise errors.ValidationError("The region id in the body differs from the one in the URL.")
    return await _new_region(body.region, region_id, request, response, svc, who)


async def _new_region(
    r: RegionIn,
    region_id: str | None,
    request: Request,
    response: Response,
    svc: IdentityService,
    who: Principal,
) -> dict[str, Any]:
    svc.policy.require_admin(who, "identity:create_region")
    async with svc.db.session() as session:
        if r.parent_region_id:
            await store.get(session, Region, r.parent_region_id, "region")
        row = Region(
            id=region_id or store.new_id(),
            description=r.description,
            parent_region_id=r.parent_region_id,
        )
        await store.add_unique(session, row, f"region {row.id}")
    response.status_code = 201
    return {"region": views.region(base_url(request), row)}


async def update_region(
    region_id: str,
    body: RegionPatchBody,
    request: Request,
    svc: IdentityService = Depends(service),
    who: Principal = Depends(caller),
) -> dict[str, Any]:
    svc.policy.require_admin(who, "identity:update_region")
    async with svc.db.session() as session:
        row = await store.get(session, Region, region_id, "region")
        if body.region.parent_region_id == row.id:
            raise errors.BadRequest("A region cannot be its own parent.")
        apply(row, body.region.model_dump(exclude_none=True))
    return {"region": views.region(base_url(request), row)}


# --- services ------------------------------------------------------------------------------


async def create_service(
    body: ServiceBody,
    request: Request,
    response: Response,
    svc: IdentityService = Depends(service),
    who: Principal = Depends(caller),
) -> dict[str, Any]:
    svc.policy.require_admin(who, "identity:create_service")
    s = body.service
    row = Service(
        id=store.new_id(), type=s.type, name=s.name, description=s.description, enabled=s.enabled
    )
    async with svc.db.session() as session:
        await store.add_unique(session, row, f"service {s.type}")
    response.status_code = 201
    return {"service": views.service(base_url(request), row)}


# --- endpoints -----------------------------------------------------------------------------


def _interface(value: str | None) -> None:
    if value is not None and value not in INTERFACES:
        raise errors.ValidationError(f"interface must be one of {', '.join(INTERFACES)}.")


async def _legacy_region(session: Any, region_id: str) -> None:
    """Keystone's legacy ``region`` field on an endpoint makes the region it names."""
    if await session.get(Region, region_id) is None:
        session.add(Region(id=region_id, description=""))
        await session.flush()


async def create_endpoint(
    body: EndpointBody,
    request: Request,
    response: Response,
    svc: IdentityService = Depends(service),
    who: Principal = Depends(caller),
) -> dict[str, Any]:
    svc.policy.require_admin(who, "identity:create_endpoint")
    e = body.endpoint
    _interface(e.interface)
    checks.http_url(e.url, "endpoint url")
    region_id = e.region_id or e.region
    async with svc.db.session() as session:
        await store.get(session, Service, e.service_id, "service")
        if e.region_id:
            await store.get(session, Region, e.region_id, "region")
        elif e.region:
            await _legacy_region(session, e.region)
        row = Endpoint(
            id=store.new_id(),
            service_id=e.service_id,
            interface=e.interface,
            region_id=region_id,
            url=e.url,
            enabled=e.enabled,
        )
        await store.add_unique(session, row, "endpoint")
    response.status_code = 201
    return {"endpoint": views.endpoint(base_url(request), row)}


async def update_endpoint(
    endpoint_id: str,
    body: EndpointPatchBody,
    request: Request,
    svc: IdentityService = Depends(service),
    who: Principal = Depends(caller),
) -> dict[str, Any]:
    svc.policy.require_admin(who, "identity:update_endpoint")
    changes = body.endpoint.model_dump(exclude_none=True, exclude={"region"})
    if body.endpoint.region and "region_id" not in changes:
        changes["region_id"] = body.endpoint.region
    _interface(changes.get("interface"))
    if "url" in changes:
        checks.http_url(changes["url"], "endpoint url")
    async with svc.db.session() as session:
        row = await store.get(session, Endpoint, endpoint_id, "endpoint")
        if "service_id" in changes:
            await store.get(session, Service, changes["service_id"], "service")
        if body.endpoint.region_id:
            await store.get(session, Region, body.endpoint.region_id, "region")
        elif body.endpoint.region:
            await _legacy_region(session, body.endpoint.region)
        apply(row, changes)
    return {"endpoint": views.endpoint(base_url(request), row)}
