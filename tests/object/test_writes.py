"""The writes of a PUT and a DELETE on SQLite, committed in groups by one thread: the same rows
as the async engine writes, each write atomic and alone in its batch, committed before it is
answered."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from ocx.common import errors
from ocx.common.db import Database, sqlite_url
from ocx.common.settings import VerifierSettings
from ocx.object.models import Container
from ocx.object.service import MIGRATIONS, ObjectService
from ocx.object.settings import ObjectSettings
from ocx.object.store import Store
from ocx.object.writes import GroupWriter
from tests.object.test_loopreads import fields, put


async def made(store: Store, name: str = "c", **values: Any) -> Container:
    assert await store.create_container("AUTH_p", name, values)
    found = await store.container("AUTH_p", name)
    assert found is not None
    return found


async def through_engine(store: Store, action: Any) -> Any:
    writer, store.writer = store.writer, None
    try:
        return await action
    finally:
        store.writer = writer


def row_fields(row: Any) -> dict[str, Any]:
    out = fields(row)
    assert out is not None
    return {k: v for k, v in out.items() if k not in ("id", "container_id", "file_id")}


def counts(container: Container | None) -> tuple[int, int]:
    assert container is not None
    return container.object_count, container.bytes_used


async def test_the_same_rows_as_the_engine_writes(store: Store) -> None:
    assert store.writer is not None
    fast, slow = await made(store, "fast"), await made(store, "slow")
    # Every column given, and only the required ones (the rest from the columns' defaults).
    full = {
        "created_at": 2.5,
        "delete_at": time.time() + 60,
        "kind": "dlo",
        "manifest": "c/p",
        "meta": {"ünï": "cödé"},
        "headers": {"content-disposition": "inline"},
    }
    bare = {
        "name": "bare",
        "file_id": "f-bare",
        "size": 7,
        "etag": "e",
        "content_type": "text/plain",
        "created_at": 1.5,
    }
    for container, engine in ((fast, False), (slow, True)):
        writes = [
            put(store, container, "full", **full),
            store.put_object(container, bare),
            put(store, container, "gone", size=11),
            put(store, container, "full", size=5, created_at=3.5),  # replaces the first
            store.delete_object(container.id, "gone"),
        ]
        for write in writes:
            await (through_engine(store, write) if engine else write)
    for name in ("full", "bare", "gone"):
        mine = await store.object(fast.id, name)
        theirs = await store.object(slow.id, name)
        assert (mine is None) == (theirs is None)
        if mine is not None:
            assert row_fields(mine) == row_fields(theirs)
    bare_row = await store.object(fast.id, "bare")
    assert bare_row is not None and (bare_row.kind, bare_row.meta) == ("", {})
    assert counts(await store.container("AUTH_p", "fast")) == (2, 12)
    assert counts(await store.container("AUTH_p", "slow")) == (2, 12)
    assert await store.delete_object(fast.id, "gone") is None


async def held(writer: GroupWriter) -> tuple[threading.Event, asyncio.Task[Any]]:
    """Keep the writer's thread busy in a write of its own until the event is set."""
    release, started = threading.Event(), threading.Event()

    def wait(_conn: sqlite3.Connection) -> None:
        started.set()
        release.wait(30)

    task = asyncio.create_task(writer.run(wait))
    while not started.is_set():
        await asyncio.sleep(0.01)
    return release, task


async def test_writes_queued_meanwhile_are_one_transaction(store: Store) -> None:
    writer = store.writer
    assert writer is not None
    container = await made(store)
    release, first = await held(writer)
    writes = [asyncio.create_task(put(store, container, f"o{i}")) for i in range(40)]
    await asyncio.sleep(0.05)  # every write queued behind the held one
    before = writer.batches
    release.set()
    await asyncio.gather(first, *writes)
    assert writer.batches == before + 2  # the held write's batch, then all forty at once
    assert counts(await store.container("AUTH_p", "c")) == (40, 120)


async def test_a_failed_write_takes_nothing_else_in_its_batch_with_it(store: Store) -> None:
    writer = store.writer
    assert writer is not None
    container = await made(store, meta={"quota-bytes": "100"})
    await put(store, container, "kept", size=10)
    release, first = await held(writer)
    exclusive = asyncio.create_task(store.put_object(container, new_row("kept", 1), exclusive=True))
    too_big = asyncio.create_task(put(store, container, "big", size=95))
    fine = [asyncio.create_task(put(store, container, f"ok{i}", size=2)) for i in range(5)]
    await asyncio.sleep(0.05)
    release.set()
    await first
    with pytest.raises(errors.PreconditionFailed):
        await exclusive
    with pytest.raises(errors.RequestEntityTooLarge):
        await too_big
    await asyncio.gather(*fine)
    assert counts(await store.container("AUTH_p", "c")) == (6, 20)
    kept = await store.object(container.id, "kept")
    assert kept is not None and kept.size == 10
    assert await store.object(container.id, "big") is None


def new_row(name: str, size: int) -> dict[str, Any]:
    return {
        "name": name,
        "file_id": f"f-{name}-{time.monotonic_ns()}",
        "size": size,
        "etag": "e",
        "content_type": "text/plain",
        "created_at": time.time(),
    }


async def test_a_put_into_a_deleted_container_is_404(store: Store) -> None:
    container = await made(store)
    await store.delete_container("AUTH_p", "c")
    with pytest.raises(errors.NotFound):
        await store.put_object(container, new_row("o", 1))
    assert await store.delete_object(container.id, "o") is None


async def test_a_database_locked_past_the_busy_timeout_is_503(tmp_path: Path) -> None:
    db = Database(sqlite_url(tmp_path / "object.db"))
    await db.migrate(MIGRATIONS, "alembic_version_object")
    store = Store(db)
    store.writer = GroupWriter(str(tmp_path / "object.db"), busy_timeout=0.2)
    holder = sqlite3.connect(tmp_path / "object.db", isolation_level=None)
    try:
        container = await made(store)
        holder.execute("BEGIN IMMEDIATE")
        with pytest.raises(errors.ServiceUnavailable) as raised:
            await store.put_object(container, new_row("o", 1))
        assert raised.value.headers == {"Retry-After": "1"}
        holder.execute("ROLLBACK")
        await store.put_object(container, new_row("o", 1))  # and the writer goes on
        assert counts(await store.container("AUTH_p", "c")) == (1, 1)
    finally:
        holder.close()
        store.close()
        await db.dispose()


async def test_a_cancelled_put_keeps_its_row_and_its_file_together(tmp_path: Path) -> None:
    """A write queued for the database commits even if its caller is cancelled; the caller
    waits for that, so a committed row never loses its file."""
    settings = ObjectSettings(
        landlord="l",
        public_url="http://127.0.0.1:1",
        database_url=f"sqlite:///{tmp_path / 'object.db'}",
        data_dir=tmp_path,
        verifier=VerifierSettings(identity_url="http://127.0.0.1:1", audience="l"),
    )
    svc = ObjectService(settings)
    await svc.start()
    try:
        writer = svc.store.writer
        assert writer is not None
        container = await made(svc.store)
        written = await svc.storage.write_bytes(b"data")
        release, first = await held(writer)
        commit = asyncio.create_task(svc.commit(container, written, new_row("o", 4)))
        await asyncio.sleep(0.05)
        commit.cancel()
        await asyncio.sleep(0.05)
        assert not commit.done()  # waiting for its write's outcome
        release.set()
        await first
        with pytest.raises(asyncio.CancelledError):
            await commit
        obj = await svc.store.object(container.id, "o")
        assert obj is not None and obj.file_id == written.file_id
        assert svc.storage.path(written.file_id).read_bytes() == b"data"
        assert svc.storage.in_progress == set()
    finally:
        await svc.stop()
