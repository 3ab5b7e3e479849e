"""The block-storage service of one landlord: settings, database, files, exports, verifier."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

import anyio.to_thread
from sqlalchemy import select, update

from ocx.common.auth import TokenVerifier
from ocx.common.db import Database, schema_name
from ocx.common.market import Gate
from ocx.volume import attachments, snapshots, types, volumes
from ocx.volume.models import Snapshot, Volume
from ocx.volume.nbd import Exports
from ocx.volume.settings import VolumeSettings
from ocx.volume.storage import Storage

log = logging.getLogger("ocx.volume")

MIGRATIONS = "ocx.volume:migrations"


class VolumeService:
    # Set when this landlord sells on an exchange: admission by grant (ocx.common.market).
    market_gate: Gate | None = None

    def __init__(self, settings: VolumeSettings, db: Database | None = None):
        self.settings = settings
        self.db = db or Database(
            settings.database_url, schema=schema_name(settings.landlord, "volume")
        )
        root = settings.data_dir / "volume"
        self.storage = Storage(root)
        self.exports = Exports(
            root / "exports",
            settings.data_host,
            settings.nbdkit,
            settings.max_connections_per_export,
            ip_filter=settings.consumer_ip_filter,
        )
        verifier = settings.verifier
        self.verifier = TokenVerifier(
            identity_url=verifier.identity_url,
            issuer=verifier.identity_url,
            audience=verifier.audience,
            revocation_interval=verifier.revocation_interval,
        )
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        await self.db.migrate(MIGRATIONS, "alembic_version_volume")
        await anyio.to_thread.run_sync(self.storage.prepare)
        self.exports.prepare()
        killed = self.exports.reap_stale()
        if killed:
            log.warning("stopped %d NBD exports a previous run left", killed)
        async with self.db.session() as session:
            await types.seed(session, self.settings.types)
        await self.recover()
        restored = await attachments.restore(self)
        log.info(
            "block storage of %s ready at %s (%d exports restored)",
            self.settings.landlord,
            self.settings.public_url,
            restored,
        )

    async def recover(self) -> list[str]:
        """Finish or fail what a crash interrupted; remove files no row owns."""
        async with self.db.session() as session:
            await session.execute(
                update(Volume).where(Volume.status == "creating").values(status="error")
            )
            await session.execute(
                update(Snapshot).where(Snapshot.status == "creating").values(status="error")
            )
            await session.execute(
                update(Volume).where(Volume.status == "extending").values(status="error_extending")
            )
            dying = list(
                await session.scalars(select(Volume.id).where(Volume.status == "deleting"))
            )
            dying_snaps = list(
                await session.scalars(select(Snapshot.id).where(Snapshot.status == "deleting"))
            )
        for snap_id in dying_snaps:
            await snapshots.finish_delete(self, snap_id)
        for volume_id in dying:
            await volumes.finish_delete(self, volume_id)
        async with self.db.session() as session:
            volume_ids = list(await session.scalars(select(Volume.id)))
            snap_ids = list(await session.scalars(select(Snapshot.id)))
        removed = await anyio.to_thread.run_sync(self.storage.sweep, volume_ids, snap_ids)
        if removed:
            log.warning("removed %d files no volume or snapshot owns", len(removed))
        return removed

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` in the background; :meth:`stop` waits for it."""
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def stop(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.exports.stop_all()
        self.exports.release()
        await self.verifier.aclose()
        await self.db.dispose()
