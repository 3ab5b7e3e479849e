"""The catalog's rows (regions, services, endpoints) as an administrator changes them.

The rules, without HTTP: only landlord admins change the catalog; an endpoint's URL must
work (:mod:`ocx.identity.checks`) and its interface be one of Keystone's; Keystone's legacy
``region`` field on an endpoint makes the region it names. ``api/catalog.py`` only parses,
calls and renders; listing, reading and deleting go through its typed collections.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ocx.common import errors
from ocx.common.auth import Principal
from ocx.identity import checks, store
from ocx.identity.catalog import INTERFACES
from ocx.identity.models import Endpoint, Region, Service
from ocx.identity.service import IdentityService


@dataclass
class EndpointFields:
    service_id: str | None = None
    interface: str | None = None
    url: str | None = None
    region_id: str | None = None
    region: str | None = None  # Keystone's legacy name for region_id
    enabled: bool | None = None


def _apply(row: Any, changes: dict[str, Any]) -> None:
    for name, value in changes.items():
        setattr(row, name, value)


def _interface(value: str | None) -> None:
    if value is not None and value not in INTERFACES:
        raise errors.ValidationError(f"interface must be one of {', '.join(INTERFACES)}.")


async def _legacy_region(session: AsyncSession, region_id: str) -> None:
    if await session.get(Region, region_id) is None:
        session.add(Region(id=region_id, description=""))
        await session.flush()


async def _region_of(session: AsyncSession, e: EndpointFields) -> str | None:
    if e.region_id:
        await store.get(session, Region, e.region_id, "region")
        return e.region_id
    if e.region:
        await _legacy_region(session, e.region)
        return e.region
    return None


async def create_region(
    svc: IdentityService,
    who: Principal,
    region_id: str | None,
    description: str,
    parent_region_id: str | None,
) -> Region:
    svc.policy.require_admin(who, "identity:create_region")
    async with svc.db.session() as session:
        if parent_region_id:
            await store.get(session, Region, parent_region_id, "region")
        row = Region(
            id=region_id or store.new_id(),
            description=description,
            parent_region_id=parent_region_id,
        )
        await store.add_unique(session, row, f"region {row.id}")
    return row


async def update_region(
    svc: IdentityService, who: Principal, region_id: str, changes: dict[str, Any]
) -> Region:
    svc.policy.require_admin(who, "identity:update_region")
    async with svc.db.session() as session:
        row = await store.get(session, Region, region_id, "region")
        if changes.get("parent_region_id") == row.id:
            raise errors.BadRequest("A region cannot be its own parent.")
        _apply(row, changes)
    return row


async def create_service(
    svc: IdentityService, who: Principal, type_: str, name: str, description: str, enabled: bool
) -> Service:
    svc.policy.require_admin(who, "identity:create_service")
    row = Service(
        id=store.new_id(), type=type_, name=name, description=description, enabled=enabled
    )
    async with svc.db.session() as session:
        await store.add_unique(session, row, f"service {type_}")
    return row


async def create_endpoint(svc: IdentityService, who: Principal, e: EndpointFields) -> Endpoint:
    svc.policy.require_admin(who, "identity:create_endpoint")
    assert e.service_id is not None and e.interface is not None and e.url is not None
    _interface(e.interface)
    checks.http_url(e.url, "endpoint url")
    async with svc.db.session() as session:
        await store.get(session, Service, e.service_id, "service")
        row = Endpoint(
            id=store.new_id(),
            service_id=e.service_id,
            interface=e.interface,
            region_id=await _region_of(session, e),
            url=e.url,
            enabled=True if e.enabled is None else e.enabled,
        )
        await store.add_unique(session, row, "endpoint")
    return row


async def update_endpoint(
    svc: IdentityService, who: Principal, endpoint_id: str, e: EndpointFields
) -> Endpoint:
    svc.policy.require_admin(who, "identity:update_endpoint")
    _interface(e.interface)
    if e.url is not None:
        checks.http_url(e.url, "endpoint url")
    changes = {
        name: getattr(e, name)
        for name in ("service_id", "interface", "url", "enabled")
        if getattr(e, name) is not None
    }
    async with svc.db.session() as session:
        row = await store.get(session, Endpoint, endpoint_id, "endpoint")
        if e.service_id is not None:
            await store.get(session, Service, e.service_id, "service")
        region_id = await _region_of(session, e)
        if region_id is not None:
            changes["region_id"] = region_id
        _apply(row, changes)
    return row
