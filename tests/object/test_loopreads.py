"""The reads of a GET on SQLite, done on the loop: the same rows as the async path, always
fresh, and never a wait."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from ocx.common.db import sqlite_url
from ocx.object.loopreads import Busy, sqlite_file
from ocx.object.models import Container, Object
from ocx.object.store import Store
from ocx.swift.listing import Entry, Query


def fields(row: Container | Object | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {c.name: getattr(row, c.name) for c in type(row).__table__.columns}


async def both(store: Store, account: str, container: str, name: str) -> tuple[Any, Any]:
    """What locate answers on the loop and through the async engine."""
    reads, store.loop_reads = store.loop_reads, None
    try:
        slow = await store.locate(account, container, name)
    finally:
        store.loop_reads = reads
    fast = await store.locate(account, container, name)
    return [fields(r) for r in fast], [fields(r) for r in slow]


async def put(store: Store, container: Container, name: str, **values: Any) -> None:
    row = {
        "name": name,
        "file_id": f"f-{name}-{time.monotonic_ns()}",
        "size": 3,
        "etag": "e",
        "content_type": "text/plain",
        "created_at": time.time(),
        "meta": {"color": "blue", "ünï": "cödé"},
        "headers": {"content-disposition": "inline"},
        **values,
    }
    await store.put_object(container, row)


async def test_the_same_rows_as_the_async_path(store: Store) -> None:
    assert store.loop_reads is not None
    meta = {"quota-bytes": "10", "temp-url-key": "k"}
    assert await store.create_container("AUTH_p", "c", {"meta": meta, "read_acl": ".r:*"})
    container = await store.container("AUTH_p", "c")
    assert container is not None and container.meta == meta
    await put(store, container, "o", delete_at=time.time() + 600)
    await put(store, container, "gone", delete_at=time.time() - 1)
    for name in ("o", "gone", "missing"):
        fast, slow = await both(store, "AUTH_p", "c", name)
        assert fast == slow
    fast, _ = await both(store, "AUTH_p", "c", "o")
    assert fast[1]["meta"] == {"color": "blue", "ünï": "cödé"}
    assert await both(store, "AUTH_p", "nope", "o") == ([None, None], [None, None])
    assert fields(await store.object(container.id, "o")) == fast[1]
    assert await store.object(container.id, "gone") is None


async def test_accounts_read_on_the_loop_are_the_async_paths(store: Store) -> None:
    """A PUT reads its account (quotas) on the loop as well."""
    assert store.loop_reads is not None
    meta = {"quota-bytes": "10", "ünï": "cödé"}
    await store.set_account_meta("AUTH_p", meta)
    reads, store.loop_reads = store.loop_reads, None
    try:
        slow = await store.account("AUTH_p")
    finally:
        store.loop_reads = reads
    fast = store.loop_reads.account("AUTH_p")
    assert fields(fast) == fields(slow)
    assert fast is not None and fast.meta == meta
    assert store.loop_reads.account("AUTH_q") is None
    await store.set_account_meta("AUTH_p", {})
    found = await store.account("AUTH_p")
    assert found is not None and found.meta == {}


async def test_listings_read_on_the_loop_are_the_async_paths(store: Store) -> None:
    """Every window of a container listing (prefix, markers, end marker, reversed, paged,
    folded into subdirs) lists the same objects on the loop as through the async engine,
    and leaves out the expired ones and other containers' objects."""
    assert store.loop_reads is not None
    await store.create_container("AUTH_p", "c", {})
    await store.create_container("AUTH_p", "d", {})
    container, other = await store.container("AUTH_p", "c"), await store.container("AUTH_p", "d")
    assert container is not None and other is not None
    names = ["a", "a/1", "a/2", "b", "b/x", "bz", "c", "ü", "\U0001f600"]
    for name in names:
        await put(store, container, name)
    await put(store, container, "b/gone", delete_at=time.time() - 1)
    await put(store, other, "b/other")
    queries = [
        Query(),
        Query(prefix="b"),
        Query(prefix="b/", limit=1),
        Query(marker="a/1", end_marker="c"),
        Query(marker="c", reverse=True),
        Query(prefix="a", reverse=True, end_marker="a/1"),
        Query(delimiter="/"),
        Query(delimiter="/", reverse=True),
        Query(limit=2),
        Query(prefix="\U0001f600"),
        Query(prefix="zz"),
    ]
    reads = store.loop_reads
    for query in queries:
        fast = await store.list_objects(container.id, query)
        store.loop_reads = None
        try:
            slow = await store.list_objects(container.id, query)
        finally:
            store.loop_reads = reads
        assert fast == slow, query
    everything = await store.list_objects(container.id, Query())
    assert [item.name for item in everything] == sorted(names, key=str.encode)
    assert isinstance(everything[0], Entry) and everything[0].fields["bytes"] == 3


async def test_reads_see_every_commit_at_once(store: Store) -> None:
    """No cache: a change committed through the async engine (another worker's, as well) is
    seen by the very next read."""
    await store.create_container("AUTH_p", "c", {})
    container = await store.container("AUTH_p", "c")
    assert container is not None
    await put(store, container, "o")
    _, first = await store.locate("AUTH_p", "c", "o")
    await put(store, container, "o", etag="new")
    _, second = await store.locate("AUTH_p", "c", "o")
    assert first is not None and second is not None
    assert (first.etag, second.etag) == ("e", "new")
    await store.update_container(container.id, {"read_acl": ".r:*"})
    found = await store.container("AUTH_p", "c")
    assert found is not None and found.read_acl == ".r:*"
    await store.delete_object(container.id, "o")
    assert (await store.locate("AUTH_p", "c", "o"))[1] is None


async def test_a_locked_database_is_busy_at_once_and_the_store_falls_back(
    store: Store, tmp_path: Path
) -> None:
    """A reader that would have to wait says so at once; the store then reads through the
    async engine, which waits for the lock off the loop."""
    await store.create_container("AUTH_p", "c", {})
    container = await store.container("AUTH_p", "c")
    assert store.loop_reads is not None and container is not None
    # Only a connection alone on the file can take it whole.
    store.loop_reads.close()
    await store.db.engine.dispose()
    holder = sqlite3.connect(tmp_path / "object.db", isolation_level=None)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        started = time.monotonic()
        with pytest.raises(Busy):
            store.loop_reads.container("AUTH_p", "c")
        assert time.monotonic() - started < 1.0
        with pytest.raises(Busy):
            store.loop_reads.objects(container.id, time.time(), [], False, 10)
        read = asyncio.create_task(store.container("AUTH_p", "c"))
        listed = asyncio.create_task(store.list_objects(container.id, Query()))
        await asyncio.sleep(0.3)
        assert not read.done() and not listed.done()  # waiting for the lock, in the driver's thread
    finally:
        holder.execute("COMMIT")
        holder.close()
    found = await asyncio.wait_for(read, 30)
    assert found is not None and found.name == "c"
    assert await asyncio.wait_for(listed, 30) == []


async def test_the_loop_path_is_only_for_a_sqlite_file(tmp_path: Path) -> None:
    assert sqlite_file(sqlite_url(tmp_path / "x.db")) == str(tmp_path / "x.db")
    assert sqlite_file("sqlite+aiosqlite://") is None
    assert sqlite_file("sqlite+aiosqlite:///:memory:") is None
    assert sqlite_file("postgresql+asyncpg://u@h/db") is None


async def test_the_loop_connection_cannot_write(store: Store) -> None:
    assert store.loop_reads is not None
    conn = store.loop_reads._conn()
    with pytest.raises(sqlite3.OperationalError):
        conn.execute("DELETE FROM containers")
