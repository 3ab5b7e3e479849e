"""The object service of one landlord: settings, database, files and token verifier."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import anyio.to_thread

from ocx.common.auth import TokenVerifier
from ocx.common.db import Database, schema_name
from ocx.common.market import Gate
from ocx.common.tasks import uncancelled
from ocx.object.bodies import Bodies
from ocx.object.models import Container
from ocx.object.settings import ObjectSettings
from ocx.object.storage import Storage, Written
from ocx.object.store import Removed, Store

log = logging.getLogger("ocx.object")

MIGRATIONS = "ocx.object:migrations"


class ObjectService:
    # Set when this landlord sells on an exchange: admission by grant (ocx.common.market).
    market_gate: Gate | None = None

    def __init__(self, settings: ObjectSettings, db: Database | None = None):
        self.settings = settings
        self.limits = settings.limits
        self.db = db or Database(
            settings.database_url, schema=schema_name(settings.landlord, "object")
        )
        self.store = Store(self.db)
        self.storage = Storage(settings.data_dir / "object", settings.chunk_size)
        self.bodies = Bodies(self.store, self.storage, self.limits)
        verifier = settings.verifier
        self.verifier = TokenVerifier(
            identity_url=verifier.identity_url,
            issuer=verifier.identity_url,
            audience=verifier.audience,
            revocation_interval=verifier.revocation_interval,
        )
        self.body_timeout = settings.body_timeout
        self._tasks: list[asyncio.Task[None]] = []
        self._unlinking: set[asyncio.Task[None]] = set()
        self.sweeps = 0  # sweeps done (tests wait on it)

    async def start(self) -> None:
        await self.db.migrate(MIGRATIONS, "alembic_version_object")
        await anyio.to_thread.run_sync(self.storage.prepare)
        self._tasks = [
            asyncio.create_task(self._forever(self.expire, self.settings.expirer_interval)),
            asyncio.create_task(
                self._forever(self.sweep, self.settings.sweep_interval, at_once=True)
            ),
        ]
        log.info(
            "object storage of %s ready at %s", self.settings.landlord, self.settings.public_url
        )

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.unlinked()
        await self.verifier.aclose()
        self.store.close()
        self.storage.close()
        await self.db.dispose()

    async def commit(
        self,
        container: Container,
        written: Written,
        row: Mapping[str, Any],
        *,
        exclusive: bool = False,
    ) -> None:
        """Point the name at the new file; drop the new file if that fails, the old if not.

        Not cancellable: a write queued for the database commits even when its caller is
        cancelled meanwhile, and which file stays depends on whether it did; so a cancelled
        caller waits for the outcome (and then is cancelled)."""
        await uncancelled(asyncio.ensure_future(self._commit(container, written, row, exclusive)))

    async def _commit(
        self, container: Container, written: Written, row: Mapping[str, Any], exclusive: bool
    ) -> None:
        values = {**row, "file_id": written.file_id}
        try:
            replaced = await self.store.put_object(container, values, exclusive=exclusive)
        except BaseException:
            await self.storage.remove_all([written.file_id])
            raise
        self.storage.settle(written.file_id)
        self._unlink_later(replaced.file_ids)

    def _unlink_later(self, file_ids: Sequence[str]) -> None:
        """Remove the files a committed write replaced, after its answer: no row names them
        any more, so no reader can reach them (one reading already keeps its open file), and
        under load the unlinks queue behind other writes' fsyncs on the storage threads (at
        300 concurrent clients they were a third of a PUT's time). A crash before they run
        leaves orphans the sweeper reclaims."""
        if not file_ids:
            return
        task = asyncio.ensure_future(self.storage.remove_all(file_ids))
        self._unlinking.add(task)
        task.add_done_callback(self._unlinked)

    def _unlinked(self, task: asyncio.Task[None]) -> None:
        self._unlinking.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("could not remove replaced data files: %s", task.exception())

    async def unlinked(self) -> None:
        """Wait for the removals of replaced files started so far."""
        while self._unlinking:
            await asyncio.gather(*self._unlinking, return_exceptions=True)

    async def remove(self, container_id: int, name: str) -> Removed | None:
        gone = await self.store.delete_object(container_id, name)
        if gone is not None:
            await self.storage.remove_all([gone.file_id])
        return gone

    async def expire(self, now: float | None = None, container_id: int | None = None) -> int:
        """Delete every object (of one container, if given) whose ``X-Delete-At`` has passed;
        how many went."""
        at = time.time() if now is None else now
        due = await self.store.expired(at, container_id=container_id)
        for container_id, name in due:
            await self.remove(container_id, name)
        return len(due)

    async def sweep(self, grace: float | None = None) -> int:
        """Remove data files that no row refers to and no write holds (what crashes left
        between a file's rename and its row's commit), older than ``grace`` seconds (the
        settings' ``sweep_grace``: other workers' writes are not seen here); how many went."""
        older = self.settings.sweep_grace if grace is None else grace
        orphans = await self.storage.orphans(self.store.file_ids, older_than=older)
        if orphans:
            log.warning("removing %d orphaned data files", len(orphans))
            await self.storage.remove_all(orphans)
        self.sweeps += 1
        return len(orphans)

    async def _forever(
        self, job: Callable[[], Awaitable[int]], interval: float, at_once: bool = False
    ) -> None:
        if not at_once:
            await asyncio.sleep(interval)
        while True:
            try:
                await job()
            except Exception:
                log.exception("%s failed; trying again later", job.__name__)
            await asyncio.sleep(interval)
