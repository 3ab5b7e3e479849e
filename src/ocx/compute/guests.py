"""The guests of one compute service: each running server's workload and attached disks.

A guest runs its workload when it boots; commands naming a disk that is not attached wait
for that disk. Output goes to the console log through :class:`~ocx.compute.console.Consoles`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

import anyio.to_thread

from ocx.compute import guest
from ocx.compute.console import Consoles
from ocx.compute.guest import Command, Disk

log = logging.getLogger("ocx.compute.guest")


@dataclass
class Guest:
    server_id: str
    pending: list[Command] = field(default_factory=list)
    disks: dict[str, Disk] = field(default_factory=dict)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class Guests:
    def __init__(self, consoles: Consoles):
        self.consoles = consoles
        self.guests: dict[str, Guest] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def _guest(self, server_id: str) -> Guest:
        return self.guests.setdefault(server_id, Guest(server_id))

    async def print(self, server_id: str, *lines: str) -> None:
        await anyio.to_thread.run_sync(self.consoles.write, server_id, lines)

    def boot(self, server_id: str, user_data: str | None) -> None:
        """Start the workload in the background (the hypervisor does not wait for guests)."""
        g = self._guest(server_id)
        g.pending = guest.parse(user_data or "")
        if g.pending:
            self._spawn(self._run_ready(g))

    async def attach(self, server_id: str, device: str, disk: Disk) -> None:
        g = self._guest(server_id)
        g.disks[device] = disk
        await self.print(server_id, f"virtio_blk: [{device}] attached, {await disk.size()} bytes")
        await self._run_ready(g)

    async def detach(self, server_id: str, device: str) -> Disk | None:
        g = self.guests.get(server_id)
        if g is None:
            return None
        async with g.lock:
            disk = g.disks.pop(device, None)
        if disk is not None:
            await self.print(server_id, f"virtio_blk: [{device}] detached")
        return disk

    async def _run_ready(self, g: Guest) -> None:
        async with g.lock:
            waiting: list[Command] = []
            for command in g.pending:
                if command.disk is not None and command.disk not in g.disks:
                    waiting.append(command)
                    continue

                async def out(line: str, sid: str = g.server_id) -> None:
                    await self.print(sid, line)

                await guest.run(command, g.disks, out)
            g.pending = waiting
            if waiting:
                names = sorted({c.disk or "" for c in waiting})
                await self.print(g.server_id, f"ocx-guest: waiting for {', '.join(names)}")

    def forget(self, server_id: str) -> dict[str, Disk]:
        g = self.guests.pop(server_id, None)
        return dict(g.disks) if g else {}

    def _spawn(self, coro: object) -> None:
        task = asyncio.ensure_future(coro)  # type: ignore[call-overload]
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("guest workload failed", exc_info=task.exception())

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
