"""Compute's side of the exchange: quotas from subscriptions and leases, stops at expiry,
and what projects run.

A subscription's plan names Nova quotas (``cores``, ``ram`` in MiB, ``instances``); a lease
grants ``vcpus``, ``ram_gib`` and ``instances``. While a customer holds live grants its
project's limits are the defaults plus what they grant (only what they grant, at a landlord
that admits subscribers only); when a lease's grace is over the limits drop back and the
newest running servers that no longer fit are stopped, never deleted. Metering reports each
running server as ``server.hours:<flavor>``, ``vcpu_hours`` and ``ram_gib_hours``, and each
stopped one as ``server.stopped_hours:<flavor>``.
"""

from __future__ import annotations

import time
from decimal import Decimal

from sqlalchemy import select

from ocx.common import metering
from ocx.common.market import Gate, Grant
from ocx.compute import states
from ocx.compute.models import Server
from ocx.compute.service import ComputeService

GRANTED = {"cores": ("cores", "vcpus"), "ram": ("ram",), "instances": ("instances",)}
RAM_GIB = "ram_gib"


def granted(grants: list[Grant]) -> dict[str, int]:
    """Nova quota names to what ``grants`` add up to (a lease's ``ram_gib`` in MiB)."""
    total: dict[str, int] = {}
    for grant in grants:
        for quota, names in GRANTED.items():
            for name in names:
                if name in grant.quotas:
                    total[quota] = total.get(quota, 0) + grant.quotas[name]
        if RAM_GIB in grant.quotas:
            total["ram"] = total.get("ram", 0) + grant.quotas[RAM_GIB] * 1024
    return total


def gate(svc: ComputeService, gate: Gate) -> metering.Meter:
    """Hook ``svc`` to ``gate``: quota changes, stops at expiry, and a meter."""
    defaults = svc.quotas.defaults

    async def apply(project_id: str, grants: list[Grant]) -> None:
        extra = granted(grants)
        limits = {name: defaults[name] for name in GRANTED}
        for name, value in extra.items():
            limits[name] = value if gate.link.subscribers_only else limits[name] + value
        if gate.link.subscribers_only and not grants:
            limits = {name: 0 for name in GRANTED}
        await svc.quotas.update(project_id, limits)
        await stop_beyond(svc, project_id, limits)

    async def holdings() -> list[metering.Holding]:
        async with svc.db.session() as session:
            rows = list(await session.scalars(select(Server)))
        found = []
        for server in rows:
            flavor = str(server.flavor.get("original_name") or server.flavor.get("name", ""))
            if server.vm_state == "active":
                for metric, unit, amount in (
                    (f"server.hours:{flavor}", "hour", Decimal(1)),
                    ("vcpu_hours", "vCPU-hour", Decimal(server.vcpus)),
                    ("ram_gib_hours", "GiB-hour", Decimal(server.ram) / 1024),
                ):
                    found.append(
                        metering.Holding(server.project_id, server.id, "server", metric, unit,
                                         amount)
                    )  # fmt: skip
            elif server.vm_state == "stopped":
                metric = f"server.stopped_hours:{flavor}"
                found.append(
                    metering.Holding(server.project_id, server.id, "server", metric, "hour",
                                     Decimal(1))
                )  # fmt: skip
        return found

    gate.set_quota_hook(apply)
    return metering.attach(gate, "compute", holdings)


async def stop_beyond(svc: ComputeService, project_id: str, limits: dict[str, int]) -> list[str]:
    """Stop the newest running servers of ``project_id`` until the running ones fit
    ``limits`` (cores, ram, instances); the ids stopped. Nothing is deleted."""
    stop = states.ACTIONS["stop"]
    stopped: list[str] = []
    async with svc.db.session() as session:
        running = list(
            await session.scalars(
                select(Server)
                .where(Server.project_id == project_id, Server.vm_state == "active")
                .order_by(Server.created_at.desc())
            )
        )
        use = {
            "cores": sum(s.vcpus for s in running),
            "ram": sum(s.ram for s in running),
            "instances": len(running),
        }
        for server in running:
            if all(limits[k] < 0 or use[k] <= limits[k] for k in use):
                break
            if server.task_state is not None:
                continue
            server.task_state, server.updated_at = stop.task, time.time()
            use["cores"] -= server.vcpus
            use["ram"] -= server.ram
            use["instances"] -= 1
            stopped.append(server.id)
    svc.hypervisor.schedule(stopped, stop)
    return stopped
