"""The attachments API (3.27, the 3.44 flow) and the NBD export each attachment owns.

reserve: ``POST /attachments`` without a connector → attachment ``reserved``, volume
``reserved``. connect: with a connector (at create or ``PUT``) → a fresh PSK, an nbdkit for
this attachment alone, ``attaching``, connection info. ``os-complete`` → ``attached``,
volume ``in-use``. detach: ``os-begin_detaching`` (volume ``detaching``), then ``DELETE``
stops the export (the key and its connections die) and frees the volume.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ocx.common import errors
from ocx.volume import volumes
from ocx.volume.backend import Backend
from ocx.volume.caller import Caller, new_id, now
from ocx.volume.faults import attachment_not_found, invalid_volume
from ocx.volume.models import Attachment, Volume
from ocx.volume.nbd import ExportSpec, new_psk

LIVE = ("reserved", "attaching", "attached", "detaching")


async def load(
    session: AsyncSession, caller: Caller, attachment_id: str, *, lock: bool = False
) -> Attachment:
    if lock:
        touch = update(Attachment).where(Attachment.id == attachment_id)
        if not caller.is_admin:
            touch = touch.where(Attachment.project_id == caller.project_id)
        await session.execute(touch.values(status=Attachment.status))
    row = await session.get(Attachment, attachment_id, populate_existing=True)
    if row is None or not caller.sees(row.project_id):
        raise attachment_not_found(attachment_id)
    return row


def _connector(value: Any) -> dict[str, Any] | None:
    if value is None or value == {}:
        return None
    if not isinstance(value, dict):
        raise errors.BadRequest("Invalid input received: connector must be an object.")
    ip = value.get("ip")
    if ip is not None:
        try:
            ipaddress.ip_address(ip)
        except ValueError as exc:
            raise errors.BadRequest(
                f"Invalid input received: connector ip {ip!r} is not an IP address."
            ) from exc
    return value


async def create(svc: Backend, caller: Caller, body: dict[str, Any]) -> Attachment:
    volume_id = body.get("volume_uuid")
    if not isinstance(volume_id, str):
        raise errors.BadRequest("Invalid input received: 'volume_uuid' is a required property")
    mode = body.get("mode") or "rw"
    if mode not in ("rw", "ro"):
        raise errors.BadRequest(
            f"Invalid input received: Invalid attach mode {mode!r}, must be 'rw' or 'ro'."
        )
    connector = _connector(body.get("connector"))
    async with svc.db.session() as session:
        volume = await volumes.load(session, caller, volume_id, lock=True)
        if "error" in volume.status:
            raise invalid_volume(f"Volume {volume.id} is in {volume.status} state.")
        live = await _expire_stale(svc, session, volume)
        reservable = ("available", "in-use", "reserved") if volume.multiattach else ("available",)
        if volume.status not in reservable or (live and not volume.multiattach):
            raise invalid_volume(
                f"Volume {volume.id} status must be available to reserve, but the current "
                f"status is {volume.status}."
                + ("" if volume.multiattach else " Its type does not allow multiattach.")
            )
        if len(live) >= svc.settings.max_attachments_per_volume:
            raise invalid_volume(
                f"Volume {volume.id} already has {len(live)} attachments, the most this "
                "landlord allows."
            )
        if mode == "rw" and volume.read_only:
            raise invalid_volume(f"Volume {volume.id} is read-only; attach it with mode 'ro'.")
        row = Attachment(
            id=new_id(),
            project_id=volume.project_id,
            volume_id=volume.id,
            instance_uuid=body.get("instance_uuid"),
            status="reserved",
            mode=mode,
            created_at=now(),
        )
        session.add(row)
        if volume.status == "available":
            volume.status = "reserved"
    if connector is not None:
        return await connect(svc, caller, row.id, connector)
    return row


def stale(svc: Backend, row: Attachment, at: float) -> bool:
    """A reservation nobody will complete: reserved or connecting, and made before this
    process began serving exports (its maker was cut off with the last one), or connected to
    an export that is gone, or older than ``reservation_ttl``."""
    if row.status not in ("reserved", "attaching"):
        return False
    if row.created_at < svc.exports.since or row.created_at < at - svc.settings.reservation_ttl:
        return True
    return row.nbd_port is not None and row.id not in svc.exports.running()


async def _expire_stale(svc: Backend, session: AsyncSession, volume: Volume) -> list[Attachment]:
    """Drop the volume's stale reservations (see :func:`stale`), recompute its status, and
    return its live attachments."""
    live, at = [], now()
    for row in await volumes.attachments_of(session, volume.id):
        if row.status not in LIVE:
            continue
        if stale(svc, row, at):
            await svc.exports.stop(row.id)
            await session.delete(row)
        else:
            live.append(row)
    await session.flush()
    if volume.status in ("reserved", "attaching") and not live:
        volume.status = "available"
    return live


async def connect(svc: Backend, caller: Caller, attachment_id: str, connector: Any) -> Attachment:
    """Give the attachment its own export and key; ``attaching``; returns the row."""
    wanted = _connector(connector)
    if wanted is None:
        raise errors.BadRequest(
            "Invalid input received: a connector is required to update an attachment."
        )
    async with svc.db.session() as session:
        row = await load(session, caller, attachment_id, lock=True)
        if row.status not in ("reserved", "attaching", "attached"):
            raise errors.BadRequest(
                f"Invalid attachment: attachment {row.id} is {row.status} and cannot be connected."
            )
        volume = await session.get(Volume, row.volume_id)
        assert volume is not None
        if row.nbd_port is None and len(svc.exports.running()) >= svc.settings.max_exports:
            raise errors.ServiceUnavailable(
                "This landlord serves as many volume exports as it can; try again later."
            )
        identity, key = new_psk()
        spec = ExportSpec(
            attachment_id=row.id,
            path=svc.storage.volume(row.volume_id),
            export_name=row.volume_id,
            psk_identity=identity,
            psk_key=key,
            readonly=row.mode == "ro",
            allow_ip=wanted.get("ip"),
        )
        port = await svc.exports.start(spec)
        try:
            row.connector = wanted
            row.mountpoint = wanted.get("mountpoint")
            row.host_ip = wanted.get("ip")
            row.nbd_port, row.psk_identity, row.psk_key = port, identity, key
            if row.status == "reserved":
                row.status = "attaching"
            if volume.status in ("reserved", "available"):
                volume.status = "attaching"
            await session.flush()
        except BaseException:
            await svc.exports.stop(row.id)
            raise
        return row


async def complete(svc: Backend, caller: Caller, attachment_id: str) -> None:
    async with svc.db.session() as session:
        row = await load(session, caller, attachment_id, lock=True)
        if row.status not in ("attaching", "attached") or row.nbd_port is None:
            raise errors.BadRequest(
                f"Invalid attachment: attachment {row.id} must be connected (updated with a "
                f"connector) before it is completed; it is {row.status}."
            )
        volume = await session.get(Volume, row.volume_id)
        assert volume is not None
        row.status, row.attached_at = "attached", row.attached_at or now()
        if volume.status in ("attaching", "reserved"):
            volume.status = "in-use"


async def delete(svc: Backend, caller: Caller, attachment_id: str) -> None:
    """Detach: stop the export (its key dies), drop the row, free the volume if last."""
    async with svc.db.session() as session:
        row = await load(session, caller, attachment_id, lock=True)
        volume = await volumes.load(
            session, Caller("", "", is_admin=True), row.volume_id, lock=True
        )
        connected = row.status == "attached" and row.instance_uuid
        if (
            connected
            and volume.status != "detaching"
            and not (caller.is_admin or caller.is_service)
        ):
            raise errors.Conflict(
                f"Detach volume from instance {row.instance_uuid} using the Compute API "
                "(or begin detaching the volume first: os-begin_detaching)."
            )
        await svc.exports.stop(row.id)
        await session.delete(row)
        await session.flush()
        others = [a for a in await volumes.attachments_of(session, volume.id) if a.status in LIVE]
        if not others:
            volume.status = "available"
        elif any(a.status == "attached" for a in others):
            volume.status = "in-use"
        else:
            volume.status = "reserved"


async def listing(
    session: AsyncSession, caller: Caller, filters: dict[str, str], all_tenants: bool
) -> list[Attachment]:
    query = select(Attachment).order_by(Attachment.created_at.desc(), Attachment.id.desc())
    if not (caller.is_admin and all_tenants):
        query = query.where(Attachment.project_id == caller.project_id)
    columns = {
        "volume_id": Attachment.volume_id,
        "status": Attachment.status,
        "instance_id": Attachment.instance_uuid,
        "attach_status": Attachment.status,
        "project_id": Attachment.project_id,
        "id": Attachment.id,
    }
    for key, value in filters.items():
        if key not in columns:
            raise errors.BadRequest(f"Invalid filters {key} are found in query options.")
        query = query.where(columns[key] == value)
    return list(await session.scalars(query))


async def restore(svc: Backend) -> int:
    """Bring back the exports of live attachments after a restart (same port and key)."""
    async with svc.db.session() as session:
        rows = list(
            await session.scalars(select(Attachment).where(Attachment.nbd_port.is_not(None)))
        )
    restored = 0
    for row in rows:
        assert row.psk_identity and row.psk_key and row.nbd_port
        spec = ExportSpec(
            attachment_id=row.id,
            path=svc.storage.volume(row.volume_id),
            export_name=row.volume_id,
            psk_identity=row.psk_identity,
            psk_key=row.psk_key,
            readonly=row.mode == "ro",
            allow_ip=row.host_ip,
            port=row.nbd_port,
        )
        port = await svc.exports.start(spec)
        if port != row.nbd_port:
            async with svc.db.session() as session:
                await session.execute(
                    update(Attachment).where(Attachment.id == row.id).values(nbd_port=port)
                )
        restored += 1
    return restored
