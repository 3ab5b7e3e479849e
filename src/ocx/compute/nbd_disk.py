"""A guest's view of an attached volume: an NBD client over TLS-PSK, with libnbd.

libnbd's Python binding ships only as Debian's ``python3-libnbd`` (for the system Python);
it is loaded from there by file, without putting the system's site-packages on ``sys.path``.
The PSK goes into a file of its own (mode 0600) that lives as long as the connection.
Calls are blocking, so each runs in a worker thread.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import secrets
import sys
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

import anyio.to_thread

from ocx.common import errors

DIST = Path("/usr/lib/python3/dist-packages")


def libnbd() -> ModuleType:
    """The ``nbd`` module, or ServiceUnavailable when python3-libnbd is not installed."""
    if "nbd" in sys.modules and hasattr(sys.modules["nbd"], "NBD"):
        return sys.modules["nbd"]
    try:
        for name in ("libnbdmod", "nbd"):
            path = DIST / (name + ".py")
            if name == "libnbdmod":
                path = next(DIST.glob("libnbdmod.cpython-*.so"))
            spec = importlib.util.spec_from_file_location(name, path)
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            spec.loader.exec_module(module)
    except (StopIteration, ImportError, OSError) as exc:
        sys.modules.pop("nbd", None)
        raise errors.ServiceUnavailable(
            "This compute cannot reach volumes: python3-libnbd is not installed."
        ) from exc
    return sys.modules["nbd"]


class NbdDisk:
    """One NBD connection to one export, made with the attachment's own PSK."""

    def __init__(self, handle: Any, psk_file: Path, size: int):
        self._h = handle
        self._psk_file = psk_file
        self._size = size

    @classmethod
    async def connect(cls, connection: dict[str, Any], runtime: Path) -> NbdDisk:
        data = connection.get("data") or {}
        if connection.get("driver_volume_type") != "nbd" or "uri" not in data:
            raise errors.BadRequest("The volume's connection is not an NBD export.")
        runtime.mkdir(parents=True, exist_ok=True, mode=0o700)
        psk_file = runtime / f"{secrets.token_hex(8)}.psk"
        fd = os.open(psk_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(f"{data['psk_identity']}:{data['psk_key']}\n")
        try:
            handle, size = await anyio.to_thread.run_sync(_open, data, psk_file)
        except Exception as exc:
            psk_file.unlink(missing_ok=True)
            raise errors.ServiceUnavailable(f"The volume's NBD export refused us: {exc}") from exc
        return cls(handle, psk_file, size)

    async def size(self) -> int:
        return self._size

    async def pread(self, length: int, offset: int) -> bytes:
        data = await anyio.to_thread.run_sync(self._h.pread, length, offset)
        return bytes(data)

    async def pwrite(self, data: bytes, offset: int) -> None:
        await anyio.to_thread.run_sync(self._h.pwrite, data, offset)

    async def flush(self) -> None:
        await anyio.to_thread.run_sync(self._h.flush)

    async def close(self) -> None:
        def shut() -> None:
            with contextlib.suppress(Exception):  # the export may be gone (detached there)
                self._h.shutdown()

        await anyio.to_thread.run_sync(shut)
        self._h = None  # libnbd closes the connection when its handle goes
        self._psk_file.unlink(missing_ok=True)


def _open(data: dict[str, Any], psk_file: Path) -> tuple[Any, int]:
    nbd = libnbd()
    uri = urlsplit(data["uri"])
    handle = nbd.NBD()
    handle.set_tls(nbd.TLS_REQUIRE)
    handle.set_tls_psk_file(str(psk_file))
    handle.set_tls_username(data["psk_identity"])
    handle.set_export_name(uri.path.lstrip("/"))
    handle.connect_tcp(uri.hostname or "127.0.0.1", str(uri.port))
    return handle, int(handle.get_size())
