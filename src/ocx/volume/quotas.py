"""Quotas: limits per project (Cinder's defaults unless set), usage from the rows, and a
check that is atomic: every transaction that may consume quota first updates the project's
lock row, so concurrent checks of one project run one after another (a row lock on
PostgreSQL, the write lock on SQLite) and two creates can never both fit the last slot."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ocx.common import errors
from ocx.volume.faults import over_quota
from ocx.volume.models import QuotaLimit, QuotaLock, Snapshot, Volume, VolumeType
from ocx.volume.settings import Quotas

BASE = ("volumes", "snapshots", "gigabytes", "backups", "backup_gigabytes", "groups")
PER_TYPE = ("volumes", "snapshots", "gigabytes")


@dataclass(frozen=True)
class Ask:
    """What an operation would add: counts and GiB, of one volume type."""

    type_name: str
    volumes: int = 0
    snapshots: int = 0
    gigabytes: int = 0


async def lock(session: AsyncSession, project_id: str) -> None:
    bump = update(QuotaLock).where(QuotaLock.project_id == project_id)
    result = await session.execute(bump.values(counter=QuotaLock.counter + 1))
    if result.rowcount:  # type: ignore[attr-defined]
        return
    try:
        async with session.begin_nested():
            session.add(QuotaLock(project_id=project_id, counter=1))
    except IntegrityError:
        await session.execute(bump.values(counter=QuotaLock.counter + 1))


async def limits(
    session: AsyncSession, project_id: str, defaults: Quotas, type_names: list[str]
) -> dict[str, int]:
    values: dict[str, int] = {name: getattr(defaults, name) for name in BASE}
    values["per_volume_gigabytes"] = defaults.per_volume_gigabytes
    for type_name in type_names:
        for name in PER_TYPE:
            values[f"{name}_{type_name}"] = -1
    rows = await session.scalars(select(QuotaLimit).where(QuotaLimit.project_id == project_id))
    for row in rows:
        values[row.resource] = row.hard_limit
    return values


async def usage(session: AsyncSession, project_id: str) -> dict[str, int]:
    used: dict[str, int] = {name: 0 for name in BASE}
    volumes = await session.execute(
        select(VolumeType.name, func.count(Volume.id), func.coalesce(func.sum(Volume.size), 0))
        .join(VolumeType, Volume.type_id == VolumeType.id)
        .where(Volume.project_id == project_id)
        .group_by(VolumeType.name)
    )
    for type_name, count, size in volumes:
        _add(used, "volumes", type_name, int(count))
        _add(used, "gigabytes", type_name, int(size))
    snapshots = await session.execute(
        select(VolumeType.name, func.count(Snapshot.id), func.coalesce(func.sum(Snapshot.size), 0))
        .join(Volume, Snapshot.volume_id == Volume.id)
        .join(VolumeType, Volume.type_id == VolumeType.id)
        .where(Snapshot.project_id == project_id)
        .group_by(VolumeType.name)
    )
    for type_name, count, size in snapshots:
        _add(used, "snapshots", type_name, int(count))
        _add(used, "gigabytes", type_name, int(size))
    return used


def _add(used: dict[str, int], name: str, type_name: str, amount: int) -> None:
    used[name] = used.get(name, 0) + amount
    key = f"{name}_{type_name}"
    used[key] = used.get(key, 0) + amount


async def check(session: AsyncSession, project_id: str, defaults: Quotas, ask: Ask) -> None:
    """Raise Cinder's 413 if ``ask`` does not fit; call inside the consuming transaction."""
    await lock(session, project_id)
    limit = await limits(session, project_id, defaults, [ask.type_name])
    per_volume = limit["per_volume_gigabytes"]
    if ask.volumes and per_volume >= 0 and ask.gigabytes > per_volume:
        raise over_quota(
            f"VolumeSizeExceedsLimit: Requested volume size {ask.gigabytes}G is larger than "
            f"maximum allowed limit {per_volume}G."
        )
    used = await usage(session, project_id)
    for name in PER_TYPE:
        amount = getattr(ask, name)
        if not amount:
            continue
        for key in (name, f"{name}_{ask.type_name}"):
            cap, have = limit.get(key, -1), used.get(key, 0)
            if cap >= 0 and have + amount > cap:
                raise over_quota(_message(name, key, amount, cap, have))


def _message(name: str, key: str, amount: int, cap: int, have: int) -> str:
    if name == "gigabytes":
        return (
            "VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed "
            f"{key} quota. Requested {amount}G, quota is {cap}G and {have}G has been consumed."
        )
    kind = "VolumeLimitExceeded" if name == "volumes" else "SnapshotLimitExceeded"
    return f"{kind}: Maximum number of {name} allowed ({cap}) exceeded for quota '{key}'."


async def set_limits(session: AsyncSession, project_id: str, values: dict[str, int]) -> None:
    for resource, hard_limit in values.items():
        if hard_limit < -1:
            raise errors.BadRequest(
                f"Quota limit {hard_limit} for {resource} must be -1 or greater."
            )
        row = await session.get(QuotaLimit, (project_id, resource))
        if row is None:
            session.add(QuotaLimit(project_id=project_id, resource=resource, hard_limit=hard_limit))
        else:
            row.hard_limit = hard_limit


async def reset(session: AsyncSession, project_id: str) -> None:
    for row in await session.scalars(select(QuotaLimit).where(QuotaLimit.project_id == project_id)):
        await session.delete(row)
