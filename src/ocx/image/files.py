"""Image bytes on disk: each image is one file, written whole or not at all.

An upload streams into ``tmp/<id>.<random>`` while md5 (Glance's ``checksum``) and sha512
(``os_hash_value``) are computed on the way; the file is fsynced and renamed to
``data/<id>`` (and the directory fsynced) before the row says ``active``. A crash before the
rename leaves only a temporary file, swept at the next start.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import secrets
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import anyio.to_thread

from ocx.common import tmpfiles

HASH_ALGO = "sha512"


@dataclass(frozen=True)
class Written:
    size: int
    md5: str
    sha512: str


class TooLarge(Exception):
    pass


class Files:
    def __init__(self, root: Path, chunk_size: int = 1024 * 1024):
        self.tmp = root / "tmp"
        self.data = root / "data"
        self.chunk_size = chunk_size

    def prepare(self) -> None:
        self.tmp.mkdir(parents=True, exist_ok=True)
        self.data.mkdir(parents=True, exist_ok=True)
        tmpfiles.sweep(self.tmp)

    def path(self, image_id: str) -> Path:
        return self.data / image_id

    async def write(self, image_id: str, body: AsyncIterable[bytes], max_size: int) -> Written:
        """Stream ``body`` to the image's file; on any failure nothing new is left behind."""
        draft = _Draft(self.tmp / tmpfiles.name(f"{image_id}.{secrets.token_hex(4)}"))
        try:
            pending = bytearray()
            async for chunk in body:
                if draft.size + len(pending) + len(chunk) > max_size:
                    raise TooLarge()
                pending += chunk
                if len(pending) >= self.chunk_size:
                    full, pending = pending, bytearray()
                    await anyio.to_thread.run_sync(draft.write, full)
            if pending:
                await anyio.to_thread.run_sync(draft.write, pending)
            await anyio.to_thread.run_sync(draft.publish, self.path(image_id))
        except BaseException:
            draft.discard()
            raise
        return Written(draft.size, draft.md5.hexdigest(), draft.sha512.hexdigest())

    async def remove(self, image_id: str) -> None:
        await anyio.to_thread.run_sync(lambda: self.path(image_id).unlink(missing_ok=True))

    def open(self, image_id: str) -> int | None:
        try:
            return os.open(self.path(image_id), os.O_RDONLY)
        except FileNotFoundError:
            return None

    async def chunks(self, fd: int, offset: int, length: int) -> AsyncIterator[bytes]:
        """``length`` bytes from ``offset``; closes ``fd`` when done or abandoned."""
        loop = asyncio.get_running_loop()
        end = offset + length
        try:
            while offset < end:
                chunk = await loop.run_in_executor(
                    None, os.pread, fd, min(self.chunk_size, end - offset), offset
                )
                if not chunk:
                    return
                offset += len(chunk)
                yield chunk
        finally:
            os.close(fd)


class _Draft:
    def __init__(self, path: Path):
        self.path = path
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self.md5 = hashlib.md5(usedforsecurity=False)
        self.sha512 = hashlib.sha512()
        self.size = 0

    def write(self, data: bytearray) -> None:
        self.md5.update(data)
        self.sha512.update(data)
        view = memoryview(data)
        while view:
            view = view[os.write(self.fd, view) :]
        self.size += len(data)

    def publish(self, final: Path) -> None:
        os.fsync(self.fd)
        os.close(self.fd)
        self.fd = -1
        os.replace(self.path, final)
        dir_fd = os.open(final.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def discard(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
        self.path.unlink(missing_ok=True)
