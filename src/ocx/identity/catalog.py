"""The service catalog: regions, services and endpoints, rendered the way clients read it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ocx.identity.models import Endpoint, Region, Service
from ocx.identity.store import new_id

INTERFACES = ("public", "internal", "admin")


PROJECT_MARKERS = ("$(project_id)s", "%(project_id)s", "$(tenant_id)s", "%(tenant_id)s")


def _substitute(url: str, project_id: str | None) -> str | None:
    """Keystone's catalog templating; an endpoint naming a project needs a project scope."""
    for marker in PROJECT_MARKERS:
        if marker in url:
            if project_id is None:
                return None
            url = url.replace(marker, project_id)
    return url


async def build(session: AsyncSession, project_id: str | None) -> list[dict[str, Any]]:
    services = list(await session.scalars(select(Service).where(Service.enabled.is_(True))))
    endpoints = list(await session.scalars(select(Endpoint).where(Endpoint.enabled.is_(True))))
    by_service: dict[str, list[dict[str, Any]]] = {}
    for ep in endpoints:
        url = _substitute(ep.url, project_id)
        if url is None:
            continue
        by_service.setdefault(ep.service_id, []).append(
            {
                "id": ep.id,
                "interface": ep.interface,
                "region": ep.region_id,
                "region_id": ep.region_id,
                "url": url,
            }
        )
    return [
        {"id": s.id, "type": s.type, "name": s.name, "endpoints": by_service.get(s.id, [])}
        for s in services
    ]


async def register(session: AsyncSession, *, type: str, name: str, url: str, region: str) -> None:
    """Make sure ``type`` is in the catalog at ``url`` on every interface (idempotent)."""
    if await session.get(Region, region) is None:
        session.add(Region(id=region, description=""))
        await session.flush()
    service = await session.scalar(select(Service).filter_by(type=type, name=name))
    if service is None:
        service = Service(id=new_id(), type=type, name=name, description=f"OCX {type}")
        session.add(service)
        await session.flush()
    for interface in INTERFACES:
        ep = await session.scalar(
            select(Endpoint).filter_by(service_id=service.id, interface=interface, region_id=region)
        )
        if ep is None:
            session.add(
                Endpoint(
                    id=new_id(),
                    service_id=service.id,
                    interface=interface,
                    region_id=region,
                    url=url,
                )
            )
        else:
            ep.url = url
    await session.flush()
