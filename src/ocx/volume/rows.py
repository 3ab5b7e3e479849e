"""Loading a caller's volume or snapshot row (locked for change if asked), for every module."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from ocx.volume.caller import Caller, now
from ocx.volume.faults import snapshot_not_found, volume_not_found
from ocx.volume.models import Snapshot, Volume


async def load_volume(
    session: AsyncSession, caller: Caller, volume_id: str, *, lock: bool = False
) -> Volume:
    """The caller's volume (admins: any), locked for change if asked; else 404."""
    if lock:
        touch = update(Volume).where(Volume.id == volume_id)
        if not caller.is_admin:
            touch = touch.where(Volume.project_id == caller.project_id)
        await session.execute(touch.values(updated_at=now()))
    row = await session.get(Volume, volume_id, populate_existing=True)
    if row is None or not caller.sees(row.project_id):
        raise volume_not_found(volume_id)
    return row


async def load_snapshot(
    session: AsyncSession, caller: Caller, snapshot_id: str, *, lock: bool = False
) -> Snapshot:
    if lock:
        touch = update(Snapshot).where(Snapshot.id == snapshot_id)
        if not caller.is_admin:
            touch = touch.where(Snapshot.project_id == caller.project_id)
        await session.execute(touch.values(updated_at=now()))
    row = await session.get(Snapshot, snapshot_id, populate_existing=True)
    if row is None or not caller.sees(row.project_id):
        raise snapshot_not_found(snapshot_id)
    return row
