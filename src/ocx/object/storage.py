"""Object bytes on disk: written whole or not at all, then never changed.

Every PUT streams into a new file under ``tmp/`` and hashes it on the way; the file is
fsynced and renamed to ``data/ab/cd/<file id>`` (and that directory fsynced) before any
database row points at it. Files are immutable once published, so a reader holding one open
always sees one whole version, and a copy can be a hard link. A crash before the rename
leaves only a temporary file, which :meth:`Storage.prepare` sweeps at the next start; a crash
after it leaves a data file no row refers to, which the service's sweeper removes
(:meth:`Storage.data_files`, :meth:`Storage.orphans`).

Every new file (a draft, or a link for a copy) is *in progress* from its creation until the
row that points at it is committed or the file is removed (:meth:`Storage.settle`): the
sweeper never touches a file in progress. ``ended`` counts uploads that ended either way,
so tests wait for that instead of for time.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import time
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import anyio.to_thread

from ocx.common import errors, tmpfiles
from ocx.common.tasks import uncancelled
from ocx.swift.faults import fault

log = logging.getLogger("ocx.object.storage")

# Bodies up to this size are read whole on the event loop (Storage.read_small), bigger ones
# in a worker thread a chunk at a time.
SMALL_READ = 64 * 1024
SHORT_FILE = "An object's data file is shorter than its record."
# Threads for the system calls of writes (create, write, fsync, rename, unlink). Eight keep
# the disk's journal busy (concurrent fsyncs share its commits) while few threads compete
# with the event loop for the GIL.
IO_THREADS = 8

T = TypeVar("T")


@dataclass(frozen=True)
class Written:
    file_id: str
    size: int
    md5: str


@dataclass(frozen=True)
class Extent:
    """``length`` bytes of a published file from ``offset``: a piece of an object's body."""

    file_id: str
    offset: int
    length: int


class TooLarge(Exception):
    pass


class Draft:
    """A file being written under ``tmp/``: hashed as it grows, published or discarded.

    Its name is chosen at once; the file itself is made by the first :meth:`write` (in the
    worker thread that writes, as every other system call of an upload is)."""

    def __init__(self, directory: Path):
        self.file_id = uuid.uuid4().hex
        self.path = directory / tmpfiles.name(self.file_id + ".tmp")
        self.fd = -1
        self.md5 = hashlib.md5(usedforsecurity=False)
        self.size = 0
        self.published: Path | None = None  # its final name, once renamed there

    def create(self) -> None:
        if self.fd < 0:
            self.fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)

    def write(self, data: bytes | bytearray) -> None:
        self.create()
        self.md5.update(data)
        view = memoryview(data)
        while view:
            done = os.write(self.fd, view)
            view = view[done:]
        self.size += len(data)

    def seal(self) -> None:
        self.create()  # an empty body: the file is made here
        os.fsync(self.fd)
        os.close(self.fd)
        self.fd = -1

    def discard(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
        self.path.unlink(missing_ok=True)
        if self.published is not None:  # its write failed after the rename: no row has it
            self.published.unlink(missing_ok=True)


class Storage:
    def __init__(self, root: Path, chunk_size: int = 1024 * 1024, io_threads: int = IO_THREADS):
        self.root = root
        self.tmp = root / "tmp"
        self.data = root / "data"
        self._data = str(self.data)
        self.chunk_size = chunk_size
        self.in_progress: set[str] = set()
        self.ended = 0
        self._io = ThreadPoolExecutor(io_threads, thread_name_prefix="object-io")

    async def run(self, func: Callable[..., T], *args: Any) -> T:
        """``func(*args)`` on one of the storage's threads (see :func:`uncancelled`)."""
        return await uncancelled(asyncio.get_running_loop().run_in_executor(self._io, func, *args))

    def close(self) -> None:
        self._io.shutdown(wait=True)

    def _begin(self, file_id: str) -> None:
        self.in_progress.add(file_id)

    def settle(self, file_id: str) -> None:
        """The file's write is over: its row is committed, or the file is gone."""
        if file_id in self.in_progress:
            self.in_progress.discard(file_id)
            self.ended += 1

    def prepare(self) -> None:
        """Make the directories and sweep what a crash mid-write left behind."""
        self.tmp.mkdir(parents=True, exist_ok=True)
        self.data.mkdir(parents=True, exist_ok=True)
        tmpfiles.sweep(self.tmp)

    def path(self, file_id: str) -> Path:
        return Path(self.file(file_id))

    def file(self, file_id: str) -> str:
        """The path of a published file, as a string (as opening one for a read needs it:
        pathlib's joins cost more than the small read itself)."""
        return f"{self._data}/{file_id[:2]}/{file_id[2:4]}/{file_id}"

    async def write(self, body: AsyncIterable[bytes], max_size: int) -> Written:
        """Stream ``body`` into a new published file; nothing is left if anything fails."""
        draft = Draft(self.tmp)
        self._begin(draft.file_id)
        try:
            await self._fill(draft, body, max_size)
        except BaseException:
            draft.discard()
            self.settle(draft.file_id)
            raise
        return Written(draft.file_id, draft.size, draft.md5.hexdigest())

    async def _fill(self, draft: Draft, body: AsyncIterable[bytes], max_size: int) -> None:
        # Writes go to a thread a megabyte at a time: few hops, and the loop never blocks
        # on a slow disk. The last (for a small object the only) hop also seals and
        # publishes the file: one hop for all of a small PUT's system calls.
        pending = bytearray()
        received = 0
        async for chunk in body:
            received += len(chunk)
            if received > max_size:
                raise TooLarge()
            pending += chunk
            if len(pending) >= self.chunk_size:
                full, pending = pending, bytearray()
                await self.run(draft.write, full)
        await self.run(self._finish, draft, pending)

    def _finish(self, draft: Draft, rest: bytearray) -> None:
        if rest:
            draft.write(rest)
        self.seal_and_publish(draft)

    def seal_and_publish(self, draft: Draft) -> None:
        draft.seal()
        self.publish(draft)

    def publish(self, draft: Draft) -> None:
        """Rename the sealed draft to its final name and make the rename durable."""
        final = self.path(draft.file_id)
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(draft.path, final)
        draft.published = final
        _fsync_dir(final.parent)

    async def write_bytes(self, data: bytes) -> Written:
        async def once() -> AsyncIterator[bytes]:
            yield data

        return await self.write(once(), len(data))

    async def link(self, file_id: str) -> str:
        """A new name for an existing file's bytes (a copy costs nothing: files never change)."""
        new_id = uuid.uuid4().hex
        target = self.path(new_id)
        self._begin(new_id)

        def make() -> None:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.link(self.path(file_id), target)
            _fsync_dir(target.parent)

        try:
            await self.run(make)
        except BaseException:
            self.settle(new_id)
            raise
        return new_id

    def remove(self, file_id: str) -> None:
        self.path(file_id).unlink(missing_ok=True)
        self.settle(file_id)

    async def remove_all(self, file_ids: Sequence[str]) -> None:
        def remove() -> None:
            for file_id in file_ids:
                self.path(file_id).unlink(missing_ok=True)

        if file_ids:
            try:
                await self.run(remove)
            finally:
                for file_id in file_ids:
                    self.settle(file_id)

    def data_files(self) -> list[str]:
        """The ids of every published file (blocking: run it in a thread)."""
        return [
            path.name
            for outer in sorted(self.data.iterdir())
            for inner in sorted(outer.iterdir())
            for path in inner.iterdir()
        ]

    async def orphans(
        self,
        referred: Callable[[Sequence[str]], Awaitable[set[str]]],
        batch: int = 500,
        older_than: float = 0.0,
    ) -> list[str]:
        """Published files that no row refers to (``referred`` says which are) and no write
        holds. The files are listed first and the writes in progress read before each
        database query: a file listed but not in progress then has finished its write, so
        its row, if it has one, is already committed and seen."""
        found = await anyio.to_thread.run_sync(self.data_files)
        out: list[str] = []
        for start in range(0, len(found), batch):
            holding = set(self.in_progress)
            group = [f for f in found[start : start + batch] if f not in holding]
            live = await referred(group) if group else set()
            out += [f for f in group if f not in live]
        if older_than > 0:
            out = await anyio.to_thread.run_sync(self._older, out, time.time() - older_than)
        return out

    def _older(self, file_ids: list[str], cutoff: float) -> list[str]:
        found = []
        for file_id in file_ids:
            with contextlib.suppress(FileNotFoundError):
                if self.path(file_id).stat().st_mtime < cutoff:
                    found.append(file_id)
        return found

    def read_all(self, file_id: str) -> bytes:
        return self.path(file_id).read_bytes()

    def read_small(self, extent: Extent) -> bytes:
        """A small extent's bytes at once, on the calling thread: a few pages from the page
        cache cost less than a hop to a worker thread (:data:`SMALL_READ` is the limit)."""
        fd = _open(self.file(extent.file_id))
        try:
            data = os.pread(fd, extent.length, extent.offset)
        finally:
            os.close(fd)
        if len(data) < extent.length:
            raise fault(errors.ServiceUnavailable, SHORT_FILE)
        return data

    def open(self, extents: Sequence[Extent]) -> Reader:
        return Reader(self, extents)


class Reader:
    """Streams a sequence of extents; opens each file when it gets there."""

    def __init__(self, storage: Storage, extents: Sequence[Extent]):
        self.storage = storage
        self.extents = extents
        self.first: int | None = None

    def open_first(self) -> None:
        """Open the first file now, so a vanished file is known before the status is sent."""
        if self.extents:
            self.first = _open(self.storage.file(self.extents[0].file_id))

    async def chunks(self) -> AsyncIterator[bytes]:
        async for fd, extent in self.files():
            async for chunk in _read(fd, extent, self.storage.chunk_size):
                yield chunk

    async def files(self) -> AsyncIterator[tuple[int, Extent]]:
        """Each extent with its file open (closed once the next is asked for)."""
        for index, extent in enumerate(self.extents):
            if index == 0 and self.first is not None:
                fd, self.first = self.first, None
            else:
                fd = await anyio.to_thread.run_sync(_open, self.storage.file(extent.file_id))
            try:
                yield fd, extent
            finally:
                os.close(fd)

    def close(self) -> None:
        if self.first is not None:
            os.close(self.first)
            self.first = None


async def _read(fd: int, extent: Extent, size: int) -> AsyncIterator[bytes]:
    """The extent's bytes, reading the next chunk in a thread while this one is being sent."""
    loop = asyncio.get_running_loop()
    offset, end = extent.offset, extent.offset + extent.length

    def read_at(at: int) -> asyncio.Future[bytes]:
        return loop.run_in_executor(None, os.pread, fd, min(size, end - at), at)

    pending = read_at(offset) if offset < end else None
    try:
        while pending is not None:
            chunk = await pending
            if not chunk:
                raise fault(errors.ServiceUnavailable, SHORT_FILE)
            offset += len(chunk)
            pending = read_at(offset) if offset < end else None
            yield chunk
    finally:
        if pending is not None:  # the client left: let the read finish before fd is closed
            await asyncio.wait([pending])


def _open(path: str) -> int:
    try:
        return os.open(path, os.O_RDONLY)
    except FileNotFoundError as exc:
        raise Vanished(os.path.basename(path)) from exc


class Vanished(Exception):
    """A file was replaced between reading its row and opening it; read the row again."""


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
