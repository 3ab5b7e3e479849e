"""The service catalog: regions, services and endpoints, rendered the way clients read it."""

from __future__ import annotations

from dataclasses import dataclass
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


@dataclass(frozen=True)
class Rows:
    """The enabled services and endpoints, as read (before a project is put in the URLs)."""

    services: tuple[tuple[str, str, str], ...]  # id, type, name
    endpoints: tuple[
        tuple[str, str, str, str | None, str], ...
    ]  # id, service, interface, region, url


async def load(session: AsyncSession) -> Rows:
    services = await session.scalars(select(Service).where(Service.enabled.is_(True)))
    endpoints = await session.scalars(select(Endpoint).where(Endpoint.enabled.is_(True)))
    return Rows(
        tuple((s.id, s.type, s.name) for s in services),
        tuple((e.id, e.service_id, e.interface, e.region_id, e.url) for e in endpoints),
    )


def render(rows: Rows, project_id: str | None) -> list[dict[str, Any]]:
    by_service: dict[str, list[dict[str, Any]]] = {}
    for ep_id, service_id, interface, region, template in rows.endpoints:
        url = _substitute(template, project_id)
        if url is None:
            continue
        by_service.setdefault(service_id, []).append(
            {
                "id": ep_id,
                "interface": interface,
                "region": region,
                "region_id": region,
                "url": url,
            }
        )
    return [
        {"id": sid, "type": type_, "name": name, "endpoints": by_service.get(sid, [])}
        for sid, type_, name in rows.services
    ]


async def build(session: AsyncSession, project_id: str | None) -> list[dict[str, Any]]:
    return render(await load(session), project_id)


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
