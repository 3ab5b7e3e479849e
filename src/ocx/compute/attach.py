"""Volume attachments: the Cinder flow at the volume's landlord, then the guest's NBD disk.

attach: check the server, reserve-and-connect an attachment at Cinder (its connection info
is an NBD URI and a PSK made for this attachment alone), complete it, connect the guest to
the export, and remember it. Anything failing midway undoes what was done. detach: the guest
lets go of the disk, then Cinder ends the attachment, which stops the export and kills the
key. A guest never opens a volume's file; it only speaks NBD with the attachment's key.
"""

from __future__ import annotations

import asyncio
import logging
import string
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import delete, select

from ocx.common import errors, outbound
from ocx.common.auth import Principal
from ocx.common.db import Database
from ocx.compute.cinder import Cinder
from ocx.compute.guests import Guests
from ocx.compute.models import Server, VolumeAttachment
from ocx.compute.nbd_disk import NbdDisk
from ocx.compute.servers import Servers

log = logging.getLogger("ocx.compute.attach")

ATTACHABLE = ("active", "stopped", "paused", "suspended")
DEVICES = [f"/dev/vd{letter}" for letter in string.ascii_lowercase[1:]]
ROOT_DEVICE = "/dev/vda"


@dataclass(frozen=True)
class Target:
    """Where a volume lives and how to reach its Cinder: the landlord, URL and token."""

    landlord: str
    url: str
    token: str
    # Set for another landlord's volume: the token is a delegation bound to this key.
    proof_key: Ed25519PrivateKey | None = None


class Attacher:
    def __init__(
        self,
        db: Database,
        servers: Servers,
        guests: Guests,
        runtime: Path,
        host_ip: str,
        presenter: Ed25519PrivateKey,
    ):
        self.presenter = presenter
        self.db = db
        self.servers = servers
        self.guests = guests
        self.runtime = runtime
        self.host_ip = host_ip
        self.disks: dict[str, NbdDisk] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._client: httpx.AsyncClient | None = None

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = outbound.async_client(timeout=30.0)
        return self._client

    async def aclose(self) -> None:
        for disk in list(self.disks.values()):
            await disk.close()
        self.disks.clear()
        if self._client is not None:
            await self._client.aclose()

    def _lock(self, server_id: str) -> asyncio.Lock:
        return self._locks.setdefault(server_id, asyncio.Lock())

    async def attach(
        self,
        who: Principal,
        server_id: str,
        volume_id: str,
        target: Target,
        *,
        device: str | None = None,
        tag: str | None = None,
        delete_on_termination: bool = False,
        root: bool = False,
    ) -> VolumeAttachment:
        """Attach ``volume_id``; ``root``: as the disk a server being built boots from (vda)."""
        async with self._lock(server_id):
            server = await self.servers.get(who, server_id)
            settled = server.vm_state in ATTACHABLE and server.task_state is None
            if not settled and not (root and server.vm_state == "building"):
                raise errors.Conflict(
                    f"Cannot 'attach_volume' instance {server_id} while it is in vm_state "
                    f"{server.vm_state}"
                )
            current = await self.list(who, server_id)
            if any(a.volume_id == volume_id and a.landlord == target.landlord for a in current):
                raise errors.BadRequest(
                    f"Invalid volume: volume {volume_id} is already attached to {server_id}."
                )
            dev = ROOT_DEVICE if root else _device(device, [a.device for a in current])
            cinder = Cinder(target.url, target.token, self._http(), target.proof_key)
            await cinder.volume(volume_id)
            connector = {"ip": self.host_ip, "host": server.host or "", "initiator": "ocx-nbd",
                         "platform": "x86_64", "os_type": "linux", "multipath": False,
                         "mountpoint": dev}  # fmt: skip
            made = await cinder.attach(volume_id, server_id, connector)
            try:
                connection = made.get("connection_info") or {}
                disk = await NbdDisk.connect(connection, self.runtime)
                try:
                    await cinder.complete(made["id"])
                    row = await self._remember(
                        server, volume_id, target, dev, tag, delete_on_termination, made
                    )
                except BaseException:
                    await disk.close()
                    raise
            except BaseException:
                await cinder.abandon(made["id"])
                raise
            self.disks[row.id] = disk
        await self.guests.attach(server_id, dev.rsplit("/", 1)[-1], disk)
        return row

    async def available(self, volume_id: str, target: Target) -> None:
        """400 unless the caller sees the volume and it is ``available`` (Nova's API check
        before booting from it)."""
        cinder = Cinder(target.url, target.token, self._http(), target.proof_key)
        try:
            found = await cinder.volume(volume_id)
        except errors.NotFound as exc:
            raise errors.BadRequest(
                f"Block Device Mapping is Invalid: failed to get volume {volume_id}."
            ) from exc
        if found.get("status") != "available":
            raise errors.BadRequest(
                f"Invalid volume: volume {volume_id} status must be available, "
                f"but it is {found.get('status')}."
            )

    async def _remember(
        self,
        server: Server,
        volume_id: str,
        target: Target,
        device: str,
        tag: str | None,
        delete_on_termination: bool,
        made: dict[str, Any],
    ) -> VolumeAttachment:
        row = VolumeAttachment(
            id=str(uuid.uuid4()),
            server_id=server.id,
            volume_id=volume_id,
            landlord=target.landlord,
            device=device,
            tag=tag,
            delete_on_termination=delete_on_termination,
            attachment_id=made["id"],
            connection={
                "url": target.url,
                # kept so a restart can reconnect the guest (the key dies at detach anyway)
                "nbd": made.get("connection_info") or {},
                **({"delegation": target.token} if target.proof_key is not None else {}),
            },
            created_at=time.time(),
        )
        async with self.db.session() as session:
            session.add(row)
        return row

    async def restore(self) -> int:
        """After a restart, reconnect every guest to the volumes it had attached."""
        async with self.db.session() as session:
            rows = list(await session.scalars(select(VolumeAttachment)))
        restored = 0
        for row in rows:
            try:
                disk = await NbdDisk.connect(row.connection.get("nbd") or {}, self.runtime)
            except errors.OCXError as exc:
                log.warning("volume %s of server %s is unreachable: %s", row.volume_id,
                            row.server_id, exc.message)  # fmt: skip
                continue
            self.disks[row.id] = disk
            await self.guests.attach(row.server_id, row.device.rsplit("/", 1)[-1], disk)
            restored += 1
        return restored

    async def list(self, who: Principal, server_id: str) -> list[VolumeAttachment]:
        await self.servers.get(who, server_id)
        async with self.db.session() as session:
            stmt = (
                select(VolumeAttachment)
                .where(VolumeAttachment.server_id == server_id)
                .order_by(VolumeAttachment.device)
            )
            return list(await session.scalars(stmt))

    async def find(self, who: Principal, server_id: str, volume_id: str) -> VolumeAttachment:
        for row in await self.list(who, server_id):
            if row.volume_id == volume_id:
                return row
        raise errors.NotFound(f"Volume {volume_id} is not attached to server {server_id}.")

    def _cinder(self, row: VolumeAttachment, token: str, fresh: str | None = None) -> Cinder:
        """The Cinder of the attachment's landlord, with the credentials it accepts."""
        stored = row.connection.get("delegation")
        if stored is None:
            return Cinder(row.connection["url"], token, self._http())
        return Cinder(row.connection["url"], fresh or stored, self._http(), self.presenter)

    async def detach(
        self, who: Principal, server_id: str, volume_id: str, token: str, fresh: str | None = None
    ) -> None:
        async with self._lock(server_id):
            row = await self.find(who, server_id, volume_id)
            await self._let_go(row)
            cinder = self._cinder(row, token, fresh)
            await cinder.detach(volume_id, row.attachment_id or "")
            async with self.db.session() as session:
                await session.execute(delete(VolumeAttachment).where(VolumeAttachment.id == row.id))

    async def _let_go(self, row: VolumeAttachment) -> None:
        await self.guests.detach(row.server_id, row.device.rsplit("/", 1)[-1])
        disk = self.disks.pop(row.id, None)
        if disk is not None:
            await disk.close()

    async def detach_all(self, who: Principal, server_id: str, token: str) -> None:
        """On server deletion: end every attachment; delete volumes marked so."""
        for row in await self.list(who, server_id):
            await self._let_go(row)
            cinder = self._cinder(row, token)
            try:
                await cinder.detach(row.volume_id, row.attachment_id or "")
                if row.delete_on_termination:
                    await cinder.delete_volume(row.volume_id)
            except errors.OCXError as exc:
                log.warning("detaching %s from %s failed: %s", row.volume_id, server_id, exc)


def _device(wanted: str | None, used: list[str]) -> str:
    if wanted:
        if not wanted.startswith("/dev/vd") or wanted in used or wanted == "/dev/vda":
            raise errors.BadRequest(f"The supplied device path ({wanted}) is in use or invalid.")
        return wanted
    for device in DEVICES:
        if device not in used:
            return device
    raise errors.Forbidden("Maximum number of volumes per server reached.")
