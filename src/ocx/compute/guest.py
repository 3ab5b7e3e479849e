"""What runs inside a simulated server: boot messages, then the workload in its user_data.

The workload is plain text (``user_data``, base64 on the wire like Nova's), one command a line;
``#`` starts a comment. Disks are named as the guest sees them (``vdb``, ``vdc``…) and are
reached only through :class:`Disk` (an NBD connection made with the attachment's
credentials); a guest never touches a volume's file.

    echo TEXT                          print TEXT
    size DEV                           print the disk's size in bytes
    checksum DEV [OFFSET LENGTH]       sha256 of the bytes (the whole disk without a range)
    read DEV OFFSET LENGTH             print the bytes (as text, escaped)
    write DEV OFFSET TEXT              write TEXT's UTF-8 bytes at OFFSET, then flush
    fill DEV OFFSET LENGTH BYTE        write LENGTH copies of BYTE (0-255), then flush

A command naming a disk that is not attached waits: it runs when that disk is attached.
Results go to the console log, one line each, prefixed ``ocx-guest:``.
"""

from __future__ import annotations

import hashlib
import shlex
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

CHUNK = 4 * 1024 * 1024
MAX_LINES = 256
MAX_READ = 4096
DISK_COMMANDS = ("size", "checksum", "read", "write", "fill")


class Disk(Protocol):
    async def size(self) -> int: ...

    async def pread(self, length: int, offset: int) -> bytes: ...

    async def pwrite(self, data: bytes, offset: int) -> None: ...

    async def flush(self) -> None: ...


@dataclass(frozen=True)
class Command:
    verb: str
    args: tuple[str, ...]

    @property
    def disk(self) -> str | None:
        return self.args[0] if self.verb in DISK_COMMANDS and self.args else None


def parse(user_data: str) -> list[Command]:
    """The workload's commands; a line that cannot be parsed becomes an ``error`` command."""
    found: list[Command] = []
    for line in user_data.splitlines()[:MAX_LINES]:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            words = shlex.split(line)
        except ValueError as exc:
            found.append(Command("error", (f"{line!r}: {exc}",)))
            continue
        found.append(Command(words[0], tuple(words[1:])))
    return found


def boot_lines(name: str, server_id: str, flavor: str, host: str) -> list[str]:
    return [
        "OCX simulated hypervisor: this is not a real machine; it runs the user_data workload.",
        f"Booting {name} ({server_id}) flavor {flavor} on {host}",
        "[    0.000000] Linux version 6.1.0-ocx (simulated)",
        "[    0.100000] virtio_blk virtio1: [vda] root disk",
        f"{name} login:",
    ]


Print = Callable[[str], Awaitable[None]]


async def run(command: Command, disks: dict[str, Disk], out: Print) -> None:
    """Run one command, printing its result (errors are printed, never raised)."""
    try:
        await _run(command, disks, out)
    except (ValueError, IndexError, OSError, RuntimeError) as exc:
        await out(f"ocx-guest: {command.verb} failed: {exc}")


async def _run(command: Command, disks: dict[str, Disk], out: Print) -> None:
    verb, args = command.verb, command.args
    if verb == "echo":
        await out("ocx-guest: " + " ".join(args))
        return
    if verb == "error":
        await out(f"ocx-guest: cannot parse {args[0]}")
        return
    if verb not in DISK_COMMANDS:
        await out(f"ocx-guest: unknown command {verb!r}")
        return
    name = args[0]
    disk = disks[name]
    if verb == "size":
        await out(f"ocx-guest: size {name} {await disk.size()}")
    elif verb == "checksum":
        offset, length = await _span(disk, args[1:])
        digest = await checksum(disk, offset, length)
        await out(f"ocx-guest: checksum {name} {offset}+{length} sha256={digest}")
    elif verb == "read":
        offset, length = int(args[1]), min(int(args[2]), MAX_READ)
        data = await disk.pread(length, offset)
        await out(f"ocx-guest: read {name} {offset}+{length} {data.decode(errors='replace')!r}")
    elif verb == "write":
        data = " ".join(args[2:]).encode()
        await disk.pwrite(data, int(args[1]))
        await disk.flush()
        await out(f"ocx-guest: wrote {name} {args[1]}+{len(data)}")
    else:
        offset, length, byte = int(args[1]), int(args[2]), int(args[3])
        await fill(disk, offset, length, bytes([byte]))
        await out(f"ocx-guest: filled {name} {offset}+{length} with {byte}")


async def _span(disk: Disk, args: tuple[str, ...]) -> tuple[int, int]:
    if len(args) >= 2:
        return int(args[0]), int(args[1])
    return 0, await disk.size()


async def checksum(disk: Disk, offset: int, length: int) -> str:
    digest = hashlib.sha256()
    end = offset + length
    while offset < end:
        chunk = await disk.pread(min(CHUNK, end - offset), offset)
        digest.update(chunk)
        offset += len(chunk)
    return digest.hexdigest()


async def fill(disk: Disk, offset: int, length: int, byte: bytes) -> None:
    end = offset + length
    while offset < end:
        size = min(CHUNK, end - offset)
        await disk.pwrite(byte * size, offset)
        offset += size
    await disk.flush()
