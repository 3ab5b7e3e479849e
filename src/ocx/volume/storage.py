"""Volume and snapshot files: sparse, shared where the filesystem can, never half-written.

Every file is made under a temporary name (``.<id>.tmp``), fsynced, then renamed into place
and the directory fsynced, so a crash leaves either no file or a whole one; :meth:`sweep`
removes the temporary names and the files no row points at. Clones (snapshots, volumes
from snapshots or volumes) first try a reflink (``FICLONE``: XFS, Btrfs), then copy only
the data extents with ``copy_file_range`` (the kernel shares blocks where it can), leaving
holes as holes. These functions block: callers run them in a worker thread.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
from collections.abc import Iterable
from pathlib import Path

GiB = 1024**3
FICLONE = 0x40049409
COPY_CHUNK = 64 * 1024 * 1024


class Storage:
    def __init__(self, root: Path):
        self.root = root
        self.volumes = root / "volumes"
        self.snapshots = root / "snapshots"

    def prepare(self) -> None:
        for folder in (self.volumes, self.snapshots):
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)

    def volume(self, volume_id: str) -> Path:
        return self.volumes / f"{volume_id}.img"

    def snapshot(self, snapshot_id: str) -> Path:
        return self.snapshots / f"{snapshot_id}.img"

    def create_blank(self, target: Path, size_gb: int) -> None:
        with _building(target) as fd:
            os.ftruncate(fd, size_gb * GiB)

    def clone(self, source: Path, target: Path, size_gb: int) -> str:
        """Copy ``source`` into a new ``target`` of ``size_gb``; how: reflink or extents."""
        with _building(target) as fd, open(source, "rb") as src:
            how = "reflink" if _reflink(src.fileno(), fd) else "extents"
            if how == "extents":
                _copy_extents(src.fileno(), fd)
            os.ftruncate(fd, max(size_gb * GiB, os.fstat(src.fileno()).st_size))
        return how

    def extend(self, target: Path, size_gb: int) -> None:
        fd = os.open(target, os.O_WRONLY)
        try:
            if os.fstat(fd).st_size < size_gb * GiB:
                os.ftruncate(fd, size_gb * GiB)
            os.fsync(fd)
        finally:
            os.close(fd)

    def remove(self, target: Path) -> None:
        with contextlib.suppress(FileNotFoundError):
            target.unlink()
        _fsync_dir(target.parent)

    def sweep(self, volume_ids: Iterable[str], snapshot_ids: Iterable[str]) -> list[str]:
        """Remove temporary files and files no row points at; their names."""
        removed: list[str] = []
        for folder, known in ((self.volumes, set(volume_ids)), (self.snapshots, set(snapshot_ids))):
            for path in folder.iterdir():
                if path.name.endswith(".tmp") or path.stem not in known:
                    path.unlink()
                    removed.append(path.name)
            _fsync_dir(folder)
        return removed

    def allocated_bytes(self, target: Path) -> int:
        return os.stat(target).st_blocks * 512


@contextlib.contextmanager
def _building(target: Path):  # type: ignore[no-untyped-def]
    tmp = target.with_name(f".{target.stem}.tmp")
    fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        yield fd
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    os.close(fd)
    os.rename(tmp, target)
    _fsync_dir(target.parent)


def _reflink(src: int, dst: int) -> bool:
    try:
        fcntl.ioctl(dst, FICLONE, src)
    except OSError as exc:
        if exc.errno in (errno.EOPNOTSUPP, errno.ENOTTY, errno.EXDEV, errno.EINVAL, errno.ENOSYS):
            return False
        raise
    return True


def _copy_extents(src: int, dst: int) -> None:
    """Copy each data extent of ``src`` to the same offset of ``dst``; holes stay holes."""
    end = os.fstat(src).st_size
    offset = 0
    while offset < end:
        try:
            start = os.lseek(src, offset, os.SEEK_DATA)
        except OSError as exc:
            if exc.errno == errno.ENXIO:  # only a hole is left
                return
            raise
        stop = os.lseek(src, start, os.SEEK_HOLE)
        _copy_range(src, dst, start, stop)
        offset = stop


def _copy_range(src: int, dst: int, start: int, stop: int) -> None:
    position = start
    while position < stop:
        count = min(COPY_CHUNK, stop - position)
        done = os.copy_file_range(src, dst, count, position, position)
        if done == 0:
            raise OSError(errno.EIO, "copy_file_range made no progress")
        position += done


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
