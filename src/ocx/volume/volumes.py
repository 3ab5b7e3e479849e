"""Volumes: create (blank, from a snapshot, from a volume), update, extend, delete, and the
status machine's simple actions. Every change first takes the volume's row (an UPDATE
before the read: the row lock on PostgreSQL, the write lock on SQLite), so two requests
never both see ``available`` and both move on; the status is checked in Cinder's words."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import anyio.to_thread
from sqlalchemy import delete as sql_delete
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ocx.common import errors
from ocx.volume import images, quotas, rows, snapshots, types
from ocx.volume.backend import Backend
from ocx.volume.caller import Caller, new_id, now
from ocx.volume.faults import invalid_volume
from ocx.volume.models import Attachment, Snapshot, Volume

log = logging.getLogger("ocx.volume")

# Where a new volume's bytes come from: nothing (blank), a file to clone, or an image.
Source = Path | images.ImageSource | None

DELETABLE = ("available", "error", "error_restoring", "error_extending", "error_managing")


load = rows.load_volume


async def attachments_of(session: AsyncSession, volume_id: str) -> list[Attachment]:
    query = select(Attachment).where(Attachment.volume_id == volume_id)
    return list(await session.scalars(query.order_by(Attachment.created_at)))


def _size(value: Any, field: str = "size") -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise errors.BadRequest(f"Invalid input received: {field} must be an integer.")
    try:
        size = int(value)
    except ValueError as exc:
        raise errors.BadRequest(f"Invalid input received: {field} must be an integer.") from exc
    if size <= 0:
        raise errors.BadRequest(
            f"Invalid input received: Volume size '{value}' must be an integer and greater than 0"
        )
    return size


async def create(svc: Backend, caller: Caller, body: dict[str, Any]) -> Volume:
    """Make the row (``creating``) and the file: blank ones at once, clones in the background."""
    if body.get("imageRef") and (svc.settings.image_url is None or not caller.token):
        raise errors.BadRequest(
            "Invalid input received: creating a volume from an image needs this landlord's "
            "image service, which it does not run."
        )
    for unsupported in ("backup_id", "consistencygroup_id", "group_id"):
        if body.get(unsupported):
            raise errors.BadRequest(f"Invalid input received: {unsupported} is not supported.")
    zone = body.get("availability_zone")
    if zone not in (None, svc.settings.availability_zone):
        raise errors.BadRequest(f"Invalid input received: Availability zone '{zone}' is invalid.")
    async with svc.db.session() as session:
        row, source = await _new_row(svc, session, caller, body)
        session.add(row)
    if source is None:
        await _materialize(svc, row.id, None, row.size)
        async with svc.db.session() as session:
            return await load(session, caller, row.id)
    svc.spawn(_materialize(svc, row.id, source, row.size))
    return row


async def seed(svc: Backend, caller: Caller, name: str, size: int, count: int) -> list[str]:
    """``count`` blank volumes of ``caller``, ``available`` at once: a fleet brought in whole
    (a test's or a benchmark's thousand, as compute's ``Servers.seed`` does for servers),
    named ``{name}-1`` to ``{name}-{count}`` in order of creation, each with its sparse file,
    the rows written in one transaction. Quotas are not checked (the fleet exists). Their ids.
    """
    async with svc.db.session() as session:
        vtype = await types.find(session, caller, None)
    stamp = now()
    ids = [new_id() for _ in range(count)]
    rows_: list[dict[str, Any]] = [
        {
            "id": ids[n - 1], "project_id": caller.project_id, "user_id": caller.user_id,
            "name": f"{name}-{n}", "description": None, "size": size, "status": "available",
            "type_id": vtype.id, "snapshot_id": None, "source_volid": None, "bootable": False,
            "multiattach": types.multiattach(vtype), "read_only": False, "meta": {},
            "availability_zone": svc.settings.availability_zone,
            "created_at": stamp + n / 1000, "updated_at": stamp + n / 1000,
        }
        for n in range(1, count + 1)
    ]  # fmt: skip

    def make_files() -> None:
        for volume_id in ids:
            svc.storage.create_blank(svc.storage.volume(volume_id), size)

    await anyio.to_thread.run_sync(make_files)
    async with svc.db.session() as session:
        await session.execute(insert(Volume), rows_)
    return ids


async def _new_row(
    svc: Backend, session: AsyncSession, caller: Caller, body: dict[str, Any]
) -> tuple[Volume, Source]:
    size = None if body.get("size") is None else _size(body["size"])
    type_name = body.get("volume_type")
    source: Source = None
    if body.get("imageRef"):
        assert svc.settings.image_url and caller.token
        image_id = str(body["imageRef"])
        image = await images.inspect(svc.settings.image_url, caller.token, image_id)
        needed = images.gigabytes_for(image)
        if size is not None and size < needed:
            raise errors.BadRequest(
                f"Invalid input received: Size of specified image {needed}GB is larger than "
                f"volume size {size}GB."
            )
        size = size or needed
        source = images.ImageSource(svc.settings.image_url, caller.token, image_id)
    elif body.get("snapshot_id"):
        snap = await snapshots.load(session, caller, body["snapshot_id"])
        if snap.status != "available":
            raise errors.BadRequest(
                "Invalid snapshot: Originating snapshot status must be one of 'available' values"
            )
        if size is not None and size < snap.size:
            raise errors.BadRequest(
                f"Invalid input received: Volume size '{size}'GB cannot be smaller than the "
                f"snapshot size {snap.size}GB. They must be >= original snapshot size."
            )
        size = size or snap.size
        parent = await session.get(Volume, snap.volume_id)
        type_name = type_name or (parent.type_id if parent else None)
        source = svc.storage.snapshot(snap.id)
    elif body.get("source_volid"):
        src = await load(session, caller, body["source_volid"])
        if src.status not in ("available", "in-use"):
            raise invalid_volume(
                f"Source volume status must be 'available' or 'in-use', but current status "
                f"is: {src.status}."
            )
        if size is not None and size < src.size:
            raise errors.BadRequest(
                f"Invalid input received: Clones currently must be >= original volume size "
                f"({size} < {src.size})."
            )
        size = size or src.size
        type_name = type_name or src.type_id
        source = svc.storage.volume(src.id)
    if size is None:
        raise errors.BadRequest("Invalid input received: 'size' is a required property")
    if size > svc.settings.max_volume_gigabytes:
        raise errors.BadRequest(
            f"Invalid input received: Volume size {size}G is larger than this landlord's "
            f"largest volume, {svc.settings.max_volume_gigabytes}G."
        )
    vtype = await types.find(session, caller, type_name)
    await quotas.check(
        session,
        caller.project_id,
        svc.settings.quotas,
        quotas.Ask(vtype.name, volumes=1, gigabytes=size),
    )
    stamp = now()
    row = Volume(
        id=new_id(),
        project_id=caller.project_id,
        user_id=caller.user_id,
        name=body.get("name"),
        description=body.get("description"),
        size=size,
        status="creating",
        type_id=vtype.id,
        snapshot_id=body.get("snapshot_id"),
        source_volid=body.get("source_volid"),
        bootable=isinstance(source, images.ImageSource),
        multiattach=bool(body.get("multiattach")) or types.multiattach(vtype),
        read_only=False,
        meta=dict(body.get("metadata") or {}),
        availability_zone=svc.settings.availability_zone,
        created_at=stamp,
        updated_at=stamp,
    )
    return row, source


async def _materialize(svc: Backend, volume_id: str, source: Source, size: int) -> None:
    target = svc.storage.volume(volume_id)
    try:
        if source is None:
            await anyio.to_thread.run_sync(svc.storage.create_blank, target, size)
        elif isinstance(source, images.ImageSource):
            await images.download(source, target, size)
        else:
            await anyio.to_thread.run_sync(svc.storage.clone, source, target, size)
        status = "available"
    except Exception:
        log.exception("making the file of volume %s failed", volume_id)
        status = "error"
    async with svc.db.session() as session:
        done = await session.execute(
            update(Volume)
            .where(Volume.id == volume_id, Volume.status == "creating")
            .values(status=status, updated_at=now())
        )
    if not done.rowcount and status == "available":  # type: ignore[attr-defined]
        await anyio.to_thread.run_sync(svc.storage.remove, target)


async def update_fields(
    svc: Backend, caller: Caller, volume_id: str, body: dict[str, Any]
) -> Volume:
    async with svc.db.session() as session:
        row = await load(session, caller, volume_id, lock=True)
        for field in ("name", "description"):
            if field in body:
                setattr(row, field, body[field])
        if body.get("metadata") is not None:
            row.meta = dict(body["metadata"])
        return row


async def set_metadata(
    svc: Backend, caller: Caller, volume_id: str, meta: dict[str, str], *, replace: bool
) -> dict[str, Any]:
    """Merge (or replace) metadata in one locked read-modify-write."""
    async with svc.db.session() as session:
        row = await load(session, caller, volume_id, lock=True)
        row.meta = dict(meta) if replace else {**row.meta, **meta}
        return dict(row.meta)


async def delete_metadata(svc: Backend, caller: Caller, volume_id: str, key: str) -> None:
    async with svc.db.session() as session:
        row = await load(session, caller, volume_id, lock=True)
        if key not in row.meta:
            raise errors.NotFound(f"Metadata item was not found for key {key}.")
        row.meta = {k: v for k, v in row.meta.items() if k != key}


async def delete(
    svc: Backend, caller: Caller, volume_id: str, *, cascade: bool, force: bool
) -> None:
    """Mark ``deleting`` (with its snapshots), then remove files, then rows (crash-safe)."""
    if force and not caller.is_admin:
        raise errors.Forbidden("Policy doesn't allow volume:force_delete to be performed.")
    async with svc.db.session() as session:
        row = await load(session, caller, volume_id, lock=True)
        attached = await attachments_of(session, volume_id)
        if not force and (row.status not in DELETABLE or attached):
            raise invalid_volume(
                "Volume status must be available or error or error_restoring or "
                "error_extending or error_managing and must not be migrating, attached, "
                "belong to a group, have snapshots or be disassociated from snapshots after "
                f"volume transfer. (current status: {row.status})"
            )
        snaps = list(await session.scalars(select(Snapshot).where(Snapshot.volume_id == row.id)))
        if snaps and not cascade:
            raise invalid_volume(f"Volume still has {len(snaps)} dependent snapshots.")
        for snap in snaps:
            if snap.status not in ("available", "error") and not force:
                raise invalid_volume(
                    f"Snapshot {snap.id} is in an invalid state for cascade delete."
                )
            snap.status = "deleting"
        row.status = "deleting"
    await finish_delete(svc, volume_id)


async def finish_delete(svc: Backend, volume_id: str) -> None:
    """The second half of a delete; a restart calls it for rows left ``deleting``."""
    async with svc.db.session() as session:
        attached = await attachments_of(session, volume_id)
        snaps = list(
            await session.scalars(select(Snapshot.id).where(Snapshot.volume_id == volume_id))
        )
    for attachment in attached:
        await svc.exports.stop(attachment.id)
    for snap_id in snaps:
        await anyio.to_thread.run_sync(svc.storage.remove, svc.storage.snapshot(snap_id))
    await anyio.to_thread.run_sync(svc.storage.remove, svc.storage.volume(volume_id))
    async with svc.db.session() as session:
        await session.execute(sql_delete(Attachment).where(Attachment.volume_id == volume_id))
        await session.execute(sql_delete(Snapshot).where(Snapshot.volume_id == volume_id))
        await session.execute(sql_delete(Volume).where(Volume.id == volume_id))


async def extend(
    svc: Backend, caller: Caller, volume_id: str, new_size: Any, *, in_use_ok: bool
) -> None:
    size = _size(new_size, "new_size")
    async with svc.db.session() as session:
        row = await load(session, caller, volume_id, lock=True)
        allowed = ("available", "in-use") if in_use_ok else ("available",)
        if row.status not in allowed:
            raise invalid_volume(
                f"Volume {row.id} status must be {' or '.join(repr(s) for s in allowed)} "
                f"to extend, currently {row.status}."
            )
        if size <= row.size:
            raise errors.BadRequest(
                "Invalid input received: New size for extend must be greater than current "
                f"size. (current: {row.size}, extended: {size})."
            )
        if size > svc.settings.max_volume_gigabytes:
            raise errors.BadRequest(
                f"Invalid input received: Volume size {size}G is larger than this landlord's "
                f"largest volume, {svc.settings.max_volume_gigabytes}G."
            )
        vtype = await types.find(session, Caller("", "", is_admin=True), row.type_id)
        await quotas.check(
            session,
            row.project_id,
            svc.settings.quotas,
            quotas.Ask(vtype.name, gigabytes=size - row.size),
        )
        before, row.status = row.status, "extending"
    status = before
    try:
        await anyio.to_thread.run_sync(svc.storage.extend, svc.storage.volume(volume_id), size)
    except OSError:
        log.exception("extending volume %s failed", volume_id)
        status, size = "error_extending", row.size
    async with svc.db.session() as session:
        await session.execute(
            update(Volume).where(Volume.id == volume_id).values(status=status, size=size)
        )


# Simple status actions: (allowed from, to, Cinder's refusal).
TRANSITIONS: dict[str, tuple[tuple[str, ...], str, str]] = {
    "os-begin_detaching": (
        ("in-use",),
        "detaching",
        "Unable to detach volume. Volume status must be 'in-use' and attach_status must be "
        "'attached' to detach.",
    ),
    "os-roll_detaching": (("detaching",), "in-use", "Volume status must be 'detaching'."),
    "os-reserve": (
        ("available",),
        "attaching",
        "Volume status must be available to reserve, but the current status is {status}.",
    ),
    "os-unreserve": (("attaching",), "available", "Volume status must be 'attaching'."),
}


async def transition(svc: Backend, caller: Caller, volume_id: str, action: str) -> None:
    allowed, target, refusal = TRANSITIONS[action]
    async with svc.db.session() as session:
        row = await load(session, caller, volume_id, lock=True)
        ok = row.status in allowed or (
            action == "os-reserve" and row.multiattach and row.status in ("in-use", "reserved")
        )
        if not ok:
            raise invalid_volume(refusal.format(status=row.status))
        if action == "os-roll_detaching" or (action == "os-reserve" and row.status == "in-use"):
            target = "in-use"
        row.status = target


async def set_flag(svc: Backend, caller: Caller, volume_id: str, field: str, value: Any) -> None:
    if not isinstance(value, bool):
        text = str(value).strip().lower()
        if text not in ("true", "false", "1", "0", "yes", "no", "on", "off"):
            raise errors.BadRequest(
                f"Invalid input received: {field} must be a boolean, not {value!r}."
            )
        value = text in ("true", "1", "yes", "on")
    async with svc.db.session() as session:
        row = await load(session, caller, volume_id, lock=True)
        setattr(row, field, value)


STATUSES = (
    "creating",
    "available",
    "reserved",
    "attaching",
    "in-use",
    "detaching",
    "extending",
    "deleting",
    "error",
    "error_deleting",
    "error_extending",
)


async def reset_status(svc: Backend, caller: Caller, volume_id: str, status: Any) -> None:
    if not caller.is_admin:
        raise errors.Forbidden(
            "Policy doesn't allow volume_extension:volume_admin_actions:reset_status to be "
            "performed."
        )
    if status not in STATUSES:
        raise errors.BadRequest(
            f"Invalid input received: Must specify a valid status, not {status!r}."
        )
    async with svc.db.session() as session:
        row = await load(session, caller, volume_id, lock=True)
        row.status = status
