"""Limits, quota sets and availability zones."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from ocx.common import errors
from ocx.common.auth import Principal
from ocx.compute import access
from ocx.compute.api.deps import Caller, Service, Ver, body
from ocx.compute.microversion import Version
from ocx.compute.quotas import INJECTED, SHOWN


def _project(who: Principal, asked: str | None) -> str:
    if asked and asked != who.project_id and not who.is_admin:
        raise errors.Forbidden("Policy doesn't allow showing another project's quota.")
    return asked or access.project_of(who)


async def limits(request: Request, svc: Service, who: Caller, v: Ver) -> dict[str, Any]:
    project = _project(who, request.query_params.get("tenant_id"))
    hard = await svc.quotas.limits(project)
    used = await svc.quotas.usage(project, who.user_id)
    absolute = {
        "maxServerMeta": hard["metadata_items"],
        "maxTotalCores": hard["cores"],
        "maxTotalInstances": hard["instances"],
        "maxTotalKeypairs": hard["key_pairs"],
        "maxTotalRAMSize": hard["ram"],
        "maxServerGroups": hard["server_groups"],
        "maxServerGroupMembers": hard["server_group_members"],
        "totalCoresUsed": used["cores"],
        "totalInstancesUsed": used["instances"],
        "totalRAMUsed": used["ram"],
        "totalServerGroupsUsed": 0,
    }
    if not v.at_least("2.57"):
        absolute["maxPersonality"] = hard["injected_files"]
        absolute["maxPersonalitySize"] = hard["injected_file_content_bytes"]
    return {"limits": {"rate": [], "absolute": absolute}}


def _shown(v: Version) -> tuple[str, ...]:
    return SHOWN if not v.at_least("2.57") else tuple(k for k in SHOWN if k not in INJECTED)


async def quota_set(project_id: str, svc: Service, who: Caller, v: Ver) -> dict[str, Any]:
    project = _project(who, project_id)
    hard = await svc.quotas.limits(project)
    return {"quota_set": {"id": project, **{k: hard[k] for k in _shown(v)}}}


async def quota_detail(project_id: str, svc: Service, who: Caller, v: Ver) -> dict[str, Any]:
    project = _project(who, project_id)
    hard = await svc.quotas.limits(project)
    used = await svc.quotas.usage(project, who.user_id)
    shown = {k: {"limit": hard[k], "in_use": used.get(k, 0), "reserved": 0} for k in _shown(v)}
    return {"quota_set": {"id": project, **shown}}


async def quota_defaults(project_id: str, svc: Service, who: Caller, v: Ver) -> dict[str, Any]:
    return {"quota_set": {"id": project_id, **{k: svc.quotas.defaults[k] for k in _shown(v)}}}


async def update_quota(
    request: Request, project_id: str, svc: Service, who: Caller, v: Ver
) -> dict[str, Any]:
    access.require_admin(who, "os_compute_api:os-quota-sets:update")
    doc = await body(request)
    if not isinstance(doc, dict) or "quota_set" not in doc:
        raise errors.BadRequest('Malformed request body: expected {"quota_set": {...}}.')
    await svc.quotas.update(project_id, doc["quota_set"])
    hard = await svc.quotas.limits(project_id)
    return {"quota_set": {k: hard[k] for k in _shown(v)}}


async def zones(svc: Service, who: Caller) -> dict[str, Any]:
    names = sorted({h.zone for h in svc.settings.hosts})
    return {
        "availabilityZoneInfo": [
            {"zoneName": z, "zoneState": {"available": True}, "hosts": None} for z in names
        ]
    }


async def zones_detail(svc: Service, who: Caller) -> dict[str, Any]:
    access.require_admin(who, "os_compute_api:os-availability-zone:detail")
    info = []
    for zone in sorted({h.zone for h in svc.settings.hosts}):
        hosts = {
            h.name: {"nova-compute": {"available": True, "active": True, "updated_at": None}}
            for h in svc.settings.hosts
            if h.zone == zone
        }
        info.append({"zoneName": zone, "zoneState": {"available": True}, "hosts": hosts})
    return {"availabilityZoneInfo": info}
