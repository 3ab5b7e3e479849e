"""The simulated hypervisor: finishes each server's task after the configured time.

Transitions are kept in a heap, due on a grid of ``Timings.tick``; one background task wakes
at the earliest, and applies every transition that is due in one UPDATE per kind, so a
thousand servers booting at once cost a handful of statements. An UPDATE only applies while
the server is still in the task it was
given, so a server deleted or changed meanwhile is left alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import math
import time
from collections.abc import Iterable

import anyio.to_thread
from sqlalchemy import select, update

from ocx.common.db import Database
from ocx.compute import guest
from ocx.compute.guests import Guests
from ocx.compute.models import Server
from ocx.compute.settings import Timings
from ocx.compute.states import ACTIONS, Action

log = logging.getLogger("ocx.compute.hypervisor")


class Hypervisor:
    def __init__(self, db: Database, timings: Timings, guests: Guests):
        self.db = db
        self.timings = timings
        self.guests = guests
        self._due: list[tuple[float, int, str, str]] = []
        self._counter = itertools.count()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def schedule(self, server_ids: Iterable[str], action: Action) -> None:
        when = time.monotonic() + getattr(self.timings, action.timing)
        tick = self.timings.tick
        if tick > 0:
            when = math.ceil(when / tick) * tick
        for server_id in server_ids:
            heapq.heappush(self._due, (when, next(self._counter), server_id, action.name))
        self._wake.set()

    async def resume(self) -> None:
        """After a restart, finish whatever was in flight."""
        async with self.db.session() as session:
            rows = (await session.execute(select(Server.id, Server.task_state))).all()
        by_task = {a.task: a for a in ACTIONS.values()}
        for server_id, task in rows:
            if task in by_task:
                self.schedule([server_id], by_task[task])

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            delay = self._due[0][0] - time.monotonic() if self._due else None
            if delay is None or delay > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), delay)
                continue
            batch: dict[str, list[str]] = {}
            now = time.monotonic()
            while self._due and self._due[0][0] <= now:
                _, _, server_id, name = heapq.heappop(self._due)
                batch.setdefault(name, []).append(server_id)
            for name, ids in batch.items():
                try:
                    await self._finish(ACTIONS[name], ids)
                except Exception:
                    log.exception("finishing %s for %d servers failed", name, len(ids))

    async def _finish(self, action: Action, ids: list[str]) -> None:
        now = time.time()
        values: dict[str, object] = {
            "vm_state": action.result,
            "task_state": None,
            "power_state": action.power,
            "updated_at": now,
        }
        if action.name in ("boot", "rebuild"):
            values["launched_at"] = now
        done: list[tuple[str, str, str | None, str | None, dict[str, object]]] = []
        async with self.db.session() as session:
            for chunk in _chunks(ids, 500):
                result = await session.execute(
                    update(Server)
                    .where(Server.id.in_(chunk), Server.task_state == action.task)
                    .values(values)
                    .returning(Server.id, Server.name, Server.host, Server.user_data, Server.flavor)
                )
                done += [tuple(r) for r in result.all()]
        await self._tell_guests(action, done)

    async def _tell_guests(
        self, action: Action, done: list[tuple[str, str, str | None, str | None, dict[str, object]]]
    ) -> None:
        if action.name in ("boot", "rebuild"):

            def write_boot_logs() -> None:
                for server_id, name, host, _, flavor in done:
                    flavor_name = str(flavor.get("original_name", ""))
                    lines = guest.boot_lines(name, server_id, flavor_name, host or "-")
                    self.guests.consoles.write(server_id, lines)

            await anyio.to_thread.run_sync(write_boot_logs)
            for server_id, _, _, user_data, _ in done:
                self.guests.boot(server_id, user_data)
            return
        message = {"stop": "reached target Power-Off", "start": "Booting again",
                   "reboot": "Rebooting", "reboot_hard": "Reset"}.get(action.name)  # fmt: skip
        if message:

            def write() -> None:
                for server_id, *_ in done:
                    self.guests.consoles.write(server_id, [message])

            await anyio.to_thread.run_sync(write)


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
