"""For a landlord's admins: the simulated hypervisors and the compute services."""

from __future__ import annotations

import uuid
from typing import Any

from ocx.common import errors
from ocx.compute import access
from ocx.compute.api.deps import Caller, Service, Ver
from ocx.compute.microversion import Version
from ocx.compute.scheduler import Host


def _id(host: Host, v: Version, index: int) -> str | int:
    return str(uuid.uuid5(uuid.NAMESPACE_DNS, host.name)) if v.at_least("2.53") else index + 1


def _hypervisor(host: Host, v: Version, index: int, detail: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": _id(host, v, index),
        "hypervisor_hostname": host.name,
        "state": "up",
        "status": "enabled",
    }
    if detail:
        body.update(
            {
                "hypervisor_type": "ocx-simulated",
                "hypervisor_version": 1,
                "host_ip": "127.0.0.1",
                "service": {"host": host.name, "id": _id(host, v, index), "disabled_reason": None},
                "running_vms": host.servers,
                "vcpus": host.config.vcpus,
                "vcpus_used": host.used_vcpus,
                "memory_mb": host.config.ram_mb,
                "memory_mb_used": host.used_ram,
                "local_gb": host.config.disk_gb,
                "local_gb_used": host.used_disk,
                "traits": list(host.config.traits),
                "capabilities": dict(host.config.capabilities),
            }
        )
    return body


async def hypervisors(svc: Service, who: Caller, v: Ver) -> dict[str, Any]:
    access.require_admin(who, "os_compute_api:os-hypervisors:list")
    hosts = list(svc.placement.hosts.values())
    return {"hypervisors": [_hypervisor(h, v, i, False) for i, h in enumerate(hosts)]}


async def hypervisors_detail(svc: Service, who: Caller, v: Ver) -> dict[str, Any]:
    access.require_admin(who, "os_compute_api:os-hypervisors:list-detail")
    hosts = list(svc.placement.hosts.values())
    return {"hypervisors": [_hypervisor(h, v, i, True) for i, h in enumerate(hosts)]}


async def hypervisor(hypervisor_id: str, svc: Service, who: Caller, v: Ver) -> dict[str, Any]:
    access.require_admin(who, "os_compute_api:os-hypervisors:show")
    for i, h in enumerate(svc.placement.hosts.values()):
        if str(_id(h, v, i)) == hypervisor_id:
            return {"hypervisor": _hypervisor(h, v, i, True)}
    raise errors.NotFound(f"Hypervisor with ID '{hypervisor_id}' could not be found.")


async def services(svc: Service, who: Caller, v: Ver) -> dict[str, Any]:
    access.require_admin(who, "os_compute_api:os-services:list")
    found = []
    for i, h in enumerate(svc.placement.hosts.values()):
        found.append(
            {
                "id": _id(h, v, i),
                "binary": "nova-compute",
                "host": h.name,
                "zone": h.config.zone,
                "status": "enabled",
                "state": "up",
                "updated_at": None,
                "disabled_reason": None,
                "forced_down": False,
            }
        )
    return {"services": found}
