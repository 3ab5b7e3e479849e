"""Block storage's side of the exchange: quotas from grants, and what projects hold.

A subscription's plan names Cinder quotas (``gigabytes``, ``volumes``, ``snapshots``, or per
type such as ``gigabytes_ssd``); while a customer holds live grants, its project's limits
are their sum, and back to the defaults when none is left. Metering reports each volume as
``volume.gib_hours:<type>`` (its size, per hour).
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from ocx.common import metering
from ocx.common.market import Gate, Grant
from ocx.volume import quotas
from ocx.volume.models import Volume, VolumeType
from ocx.volume.service import VolumeService


def gate(svc: VolumeService, gate: Gate) -> metering.Meter:
    """Hook ``svc`` to ``gate``: its quota changes, and a meter on its rounds."""

    async def apply(project_id: str, grants: list[Grant]) -> None:
        limits: dict[str, int] = {}
        for grant in grants:
            for name, value in grant.quotas.items():
                limits[name] = limits.get(name, 0) + value
        async with svc.db.session() as session:
            await quotas.reset(session, project_id)
        if limits:  # a session of its own: the rows just deleted have the same keys
            async with svc.db.session() as session:
                await quotas.set_limits(session, project_id, limits)

    async def holdings() -> list[metering.Holding]:
        query = select(Volume.project_id, Volume.id, VolumeType.name, Volume.size).join(
            VolumeType, Volume.type_id == VolumeType.id
        )
        async with svc.db.session() as session:
            rows = (await session.execute(query)).all()
        return [
            metering.Holding(
                project_id, volume_id, "volume", f"volume.gib_hours:{kind}", "GiB-hour",
                Decimal(size),
            )
            for project_id, volume_id, kind, size in rows
        ]  # fmt: skip

    gate.set_quota_hook(apply)
    return metering.attach(gate, "volume", holdings)
