"""Snapshots: a clone of the volume's file at that moment (a reflink where the filesystem
shares blocks, else its data extents only), counted against the snapshot and GiB quotas."""

from __future__ import annotations

import logging
from typing import Any

import anyio.to_thread
from sqlalchemy import delete as sql_delete
from sqlalchemy import update

from ocx.common import errors
from ocx.volume import quotas, rows, types
from ocx.volume.backend import Backend
from ocx.volume.caller import Caller, new_id, now
from ocx.volume.faults import invalid_snapshot, invalid_volume
from ocx.volume.models import Snapshot

log = logging.getLogger("ocx.volume")


load = rows.load_snapshot


async def create(svc: Backend, caller: Caller, body: dict[str, Any]) -> Snapshot:
    volume_id = body.get("volume_id")
    if not isinstance(volume_id, str):
        raise errors.BadRequest(
            "Invalid input for field/attribute volume_id: 'volume_id' is a required property"
        )
    async with svc.db.session() as session:
        volume = await rows.load_volume(session, caller, volume_id, lock=True)
        # In-use volumes too, at every microversion: OSC asks at 3.65 with force=false.
        if volume.status not in ("available", "in-use"):
            raise invalid_volume(
                f"Volume {volume.id} status must be available or in-use, but current status "
                f"is: {volume.status}."
            )
        vtype = await types.find(session, Caller("", "", is_admin=True), volume.type_id)
        await quotas.check(
            session,
            volume.project_id,
            svc.settings.quotas,
            quotas.Ask(vtype.name, snapshots=1, gigabytes=volume.size),
        )
        stamp = now()
        row = Snapshot(
            id=new_id(),
            project_id=volume.project_id,
            user_id=caller.user_id,
            volume_id=volume.id,
            name=body.get("name"),
            description=body.get("description"),
            size=volume.size,
            status="creating",
            meta=dict(body.get("metadata") or {}),
            created_at=stamp,
            updated_at=stamp,
        )
        session.add(row)
    await _materialize(svc, row)
    async with svc.db.session() as session:
        return await load(session, caller, row.id)


async def _materialize(svc: Backend, row: Snapshot) -> None:
    target = svc.storage.snapshot(row.id)
    try:
        source = svc.storage.volume(row.volume_id)
        await anyio.to_thread.run_sync(svc.storage.clone, source, target, row.size)
        status = "available"
    except Exception:
        log.exception("making snapshot %s failed", row.id)
        status = "error"
    async with svc.db.session() as session:
        await session.execute(
            update(Snapshot)
            .where(Snapshot.id == row.id, Snapshot.status == "creating")
            .values(status=status, updated_at=now())
        )


async def update_fields(
    svc: Backend, caller: Caller, snapshot_id: str, body: dict[str, Any]
) -> Snapshot:
    async with svc.db.session() as session:
        row = await load(session, caller, snapshot_id, lock=True)
        for field in ("name", "description"):
            if field in body:
                setattr(row, field, body[field])
        if body.get("metadata") is not None:
            row.meta = dict(body["metadata"])
        return row


async def set_metadata(
    svc: Backend, caller: Caller, snapshot_id: str, meta: dict[str, str], *, replace: bool
) -> dict[str, Any]:
    async with svc.db.session() as session:
        row = await load(session, caller, snapshot_id, lock=True)
        row.meta = dict(meta) if replace else {**row.meta, **meta}
        return dict(row.meta)


async def delete_metadata(svc: Backend, caller: Caller, snapshot_id: str, key: str) -> None:
    async with svc.db.session() as session:
        row = await load(session, caller, snapshot_id, lock=True)
        if key not in row.meta:
            raise errors.NotFound(f"Metadata item was not found for key {key}.")
        row.meta = {k: v for k, v in row.meta.items() if k != key}


async def delete(svc: Backend, caller: Caller, snapshot_id: str) -> None:
    async with svc.db.session() as session:
        row = await load(session, caller, snapshot_id, lock=True)
        if row.status not in ("available", "error"):
            raise invalid_snapshot(
                f"Snapshot status must be available or error, currently {row.status}."
            )
        row.status = "deleting"
    await finish_delete(svc, snapshot_id)


async def finish_delete(svc: Backend, snapshot_id: str) -> None:
    await anyio.to_thread.run_sync(svc.storage.remove, svc.storage.snapshot(snapshot_id))
    async with svc.db.session() as session:
        await session.execute(sql_delete(Snapshot).where(Snapshot.id == snapshot_id))
