"""The object writes of a PUT or DELETE on SQLite: one connection, one thread, group commit.

SQLite has one writer at a time. Through the async engine every concurrent PUT held its own
pooled connection and asked for the write lock; the losers slept in SQLite's busy handler
(up to 100 ms a try) while the winner's statements went one thread hop at a time, so under
load a PUT waited seconds for a commit that takes well under a millisecond. Here every
write is a plain function of a ``sqlite3`` connection, queued to one thread that owns that
connection; the thread takes whatever is queued, runs it all in one transaction and commits
once:

- **Each write stays atomic and alone.** Every write runs inside its own ``SAVEPOINT``; one
  that raises (a precondition, a quota, a vanished container) is rolled back to it and gets
  its error, the others in the batch are not touched.
- **Committed before answered.** A write's caller hears of it only after the ``COMMIT`` that
  holds it returned, with the same durability settings as the engine's connections
  (``ocx.common.db``); if the commit fails, every write of the batch gets that error.
- **Other writers still work.** Other processes on the same file, and this process's other
  (rarer) writes through the async engine, take the lock as before; the thread waits for
  them with the engine's ``busy_timeout`` and a batch that still finds the file locked is a
  503 with ``Retry-After``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from ocx.common import errors
from ocx.common.db import sqlite_pragmas

log = logging.getLogger("ocx.object.writes")

T = TypeVar("T")
Write = Callable[[sqlite3.Connection], T]

# Writes committed together at most: a bound on what one slow batch holds up.
MAX_BATCH = 128


@dataclass
class Queued(Generic[T]):
    write: Write[T]
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[T]

    def settle(self, result: T | None, error: BaseException | None) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits any more
            self.loop.call_soon_threadsafe(self._settle, result, error)

    def _settle(self, result: T | None, error: BaseException | None) -> None:
        if self.future.done():  # its caller was cancelled
            return
        if error is not None:
            self.future.set_exception(error)
        else:
            self.future.set_result(result)  # type: ignore[arg-type]


class GroupWriter:
    """A thread with its own ``sqlite3`` connection to ``path`` that commits queued writes
    in batches. Started by the first write; :meth:`close` stops it."""

    def __init__(self, path: str, busy_timeout: float = 30.0):
        self.path = path
        self.busy_timeout = busy_timeout
        self._queue: queue.SimpleQueue[Queued[Any] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._guard = threading.Lock()
        self.batches = 0  # transactions committed (tests look at how writes were grouped)

    async def run(self, write: Write[T]) -> T:
        """Run ``write`` in a transaction of the writer's and return what it returned, once
        that transaction is committed; its exception (after its savepoint was rolled back)
        if it raised one."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._start()
        self._queue.put(Queued(write, loop, future))
        return await future

    def _start(self) -> None:
        if self._thread is None:
            with self._guard:
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._serve, name="object-writer", daemon=True
                    )
                    self._thread.start()

    def close(self) -> None:
        """Finish what is queued, then stop the thread (a later write starts a new one)."""
        with self._guard:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join()

    def _serve(self) -> None:
        conn = sqlite3.connect(self.path, isolation_level=None)
        try:
            sqlite_pragmas(conn, None)
            conn.execute(f"PRAGMA busy_timeout={int(self.busy_timeout * 1000)}")
            stop = False
            while not stop:
                batch, stop = self._take()
                if batch:
                    self._commit(conn, batch)
        finally:
            conn.close()

    def _take(self) -> tuple[list[Queued[Any]], bool]:
        """What is queued (waiting for the first write), at most :data:`MAX_BATCH`; and
        whether :meth:`close` asked the thread to stop after it."""
        batch: list[Queued[Any]] = []
        item = self._queue.get()
        while item is not None:
            batch.append(item)
            if len(batch) >= MAX_BATCH:
                return batch, False
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return batch, False
        return batch, True

    def _commit(self, conn: sqlite3.Connection, batch: list[Queued[Any]]) -> None:
        outcomes: list[tuple[Any, BaseException | None]] = []
        try:
            conn.execute("BEGIN IMMEDIATE")
            for item in batch:
                outcomes.append(_one(conn, item.write))
            conn.execute("COMMIT")
        except Exception as exc:  # the transaction as a whole failed: so did every write
            if conn.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
            failed = _as_fault(exc)
            for item in batch:
                item.settle(None, failed)
            return
        self.batches += 1
        for item, (result, error) in zip(batch, outcomes, strict=True):
            item.settle(result, error)


def _one(conn: sqlite3.Connection, write: Write[Any]) -> tuple[Any, BaseException | None]:
    conn.execute("SAVEPOINT write")
    try:
        result = write(conn)
    except Exception as exc:
        conn.execute("ROLLBACK TO write")
        conn.execute("RELEASE write")
        return None, exc
    conn.execute("RELEASE write")
    return result, None


def _as_fault(exc: Exception) -> BaseException:
    if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
        # Another process held the database past the busy timeout: overload; try again.
        log.warning("object database locked past the busy timeout: %s", exc)
        return errors.ServiceUnavailable(
            "The service is too busy to answer now; try again shortly.",
            headers={"Retry-After": "1"},
        )
    return exc
