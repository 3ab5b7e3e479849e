"""Inserting the rows of concurrent requests in one transaction (group commit).

A transaction costs far more than a row, and SQLite takes one writer at a time: a thousand
single boot requests that each commit alone spend their time in commits and in waiting for
the write lock. Here rows that arrive while a transaction is being written wait for the next
one and go in together; every request still gets its answer only after its own rows are
committed, so a server is visible as soon as its ``202`` is sent.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import insert

from ocx.common.db import Database

Rows = list[dict[str, Any]]


class GroupInsert:
    def __init__(self, db: Database, table: Any):
        self.db = db
        self.table = table
        self._pending: list[tuple[Rows, asyncio.Future[None]]] = []
        self._lock = asyncio.Lock()

    async def insert(self, rows: Rows) -> None:
        """Insert ``rows``, together with whatever else is waiting; raise if they failed."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((rows, done))
        async with self._lock:
            if not done.done():
                batch, self._pending = self._pending, []
                # Shielded: a request cancelled here must not strand the others of its batch.
                await asyncio.shield(self._write(batch))
        await done

    async def _write(self, batch: list[tuple[Rows, asyncio.Future[None]]]) -> None:
        try:
            await self._commit([row for rows, _ in batch for row in rows])
        except Exception as exc:
            if len(batch) == 1:
                _settle(batch[0][1], exc)
                return
            for rows, done in batch:  # one request's bad rows must not fail the others
                try:
                    await self._commit(rows)
                except Exception as each:
                    _settle(done, each)
                else:
                    _settle(done)
            return
        for _, done in batch:
            _settle(done)

    async def _commit(self, rows: Rows) -> None:
        async with self.db.session() as session:
            await session.execute(insert(self.table), rows)


def _settle(done: asyncio.Future[None], exc: Exception | None = None) -> None:
    if done.done():  # its request was cancelled meanwhile
        return
    if exc is None:
        done.set_result(None)
    else:
        done.set_exception(exc)
