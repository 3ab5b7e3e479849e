"""Object files on disk: a small upload's system calls in one worker-thread hop, a big one's
a chunk at a time; either way whole, fsynced and published, or nothing."""

from __future__ import annotations

import asyncio
import hashlib
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from ocx.object import storage
from ocx.object.storage import Storage


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Storage]:
    found = Storage(tmp_path, chunk_size=64 * 1024)
    found.prepare()
    yield found
    found.close()


def count_hops(store: Storage, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The worker-thread hops the storage makes from now on."""
    hops: list[str] = []
    real = store.run

    async def counted(func: Any, *args: Any) -> Any:
        hops.append(getattr(func, "__name__", repr(func)))
        return await real(func, *args)

    monkeypatch.setattr(store, "run", counted)
    return hops


async def pieces(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def test_a_small_upload_is_one_hop(store: Storage, monkeypatch: pytest.MonkeyPatch) -> None:
    hops = count_hops(store, monkeypatch)
    data = b"x" * 4096
    written = await store.write(pieces(data[:1000], data[1000:]), len(data))
    assert len(hops) == 1
    assert store.path(written.file_id).read_bytes() == data
    assert written.md5 == hashlib.md5(data, usedforsecurity=False).hexdigest()
    assert list((store.root / "tmp").iterdir()) == []


async def test_a_big_upload_goes_a_chunk_at_a_time(
    store: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    hops = count_hops(store, monkeypatch)
    data = bytes(range(256)) * 1024  # four chunks and a bit
    data += b"tail"
    written = await store.write(
        pieces(*(data[i : i + 16384] for i in range(0, len(data), 16384))), len(data)
    )
    assert len(hops) == 5  # four full chunks, then the rest with the seal and the rename
    assert store.path(written.file_id).read_bytes() == data
    assert written.size == len(data)


async def test_an_empty_upload_is_a_file_too(store: Storage) -> None:
    written = await store.write(pieces(), 0)
    assert store.path(written.file_id).read_bytes() == b""
    assert written.md5 == hashlib.md5(b"", usedforsecurity=False).hexdigest()


async def test_a_failed_publish_leaves_nothing(
    store: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(*_args: Any) -> None:
        raise OSError("disk gone")

    monkeypatch.setattr(storage, "_fsync_dir", crash)
    with pytest.raises(OSError, match="disk gone"):
        await store.write(pieces(b"data"), 4)
    assert list((store.root / "tmp").iterdir()) == []
    assert store.data_files() == []  # renamed, but its rename not known to be durable
    assert store.in_progress == set() and store.ended == 1


async def test_a_cancelled_upload_waits_for_its_thread(
    store: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file is not discarded under a thread still writing it."""
    started, release = threading.Event(), threading.Event()
    real = storage.Draft.write

    def slow(self: storage.Draft, data: bytes | bytearray) -> None:
        started.set()
        release.wait(30)
        real(self, data)

    monkeypatch.setattr(storage.Draft, "write", slow)
    upload = asyncio.create_task(store.write(pieces(b"data"), 4))
    while not started.is_set():
        await asyncio.sleep(0.01)
    upload.cancel()
    await asyncio.sleep(0.05)
    assert not upload.done()
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await upload
    assert list((store.root / "tmp").iterdir()) == []
    assert store.data_files() == []
    assert store.in_progress == set()
