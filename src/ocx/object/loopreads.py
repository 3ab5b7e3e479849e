"""The reads of a GET, HEAD or PUT on SQLite, done on the event loop itself.

With SQLite, each query through the async driver is several hops to the driver's thread
and back (cursor, execute, fetch, close, commit); under load every hop waits for the GIL and
for a core, and a 4 KiB GET spent most of its time there. A lookup of one row by its unique
key in a WAL database reads a few cached pages and takes tens of microseconds, less than one
hop, so these reads run right here, on a plain ``sqlite3`` connection of this thread:

- **Always fresh.** Each read is its own statement in autocommit mode, so it sees every
  transaction committed before it, by this process or any other worker on the same file;
  there is no cache to invalidate.
- **Never a writer.** The connection is ``query_only``; writes keep to the async engine.
- **Never a wait.** In WAL mode readers do not wait for writers. Should SQLite still answer
  "busy" (a checkpoint resetting the log, a recovery) the read says so with
  :class:`Busy`, without waiting, and the caller takes the async path instead.

Rows come back as the same ORM classes the async path returns (unattached to any session),
so the callers cannot tell the two apart.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
from collections.abc import Sequence
from typing import Any

from sqlalchemy import JSON, Table
from sqlalchemy.engine import make_url
from sqlalchemy.orm import configure_mappers
from sqlalchemy.orm.attributes import manager_of_class

from ocx.object.models import Account, Base, Container, Object


class Busy(Exception):
    """SQLite could not read without waiting; use the async path for this read."""


class Columns:
    """A table's columns as a ``SELECT`` list, and rows of it back into ORM objects."""

    def __init__(self, cls: type[Base], alias: str):
        table = cls.__table__
        assert isinstance(table, Table)
        self.manager = manager_of_class(cls)
        self.names = [c.name for c in table.columns]
        self.json = [c.name for c in table.columns if isinstance(c.type, JSON)]
        self.sql = ", ".join(f"{alias}.{name}" for name in self.names)

    def build(self, values: Sequence[Any]) -> Any:
        # As the ORM's own loading does: a new instance with its attributes filled in place
        # (the mapped __init__ costs ten times more, event by event).
        fields = dict(zip(self.names, values, strict=True))
        for name in self.json:
            if fields[name] is not None:
                fields[name] = json.loads(fields[name])
        row = self.manager.new_instance()
        row.__dict__.update(fields)
        return row


ACCOUNT = Columns(Account, "a")
CONTAINER = Columns(Container, "c")
OBJECT = Columns(Object, "o")
LIVE = "(o.delete_at IS NULL OR o.delete_at > ?)"
LOCATE = (
    f"SELECT {CONTAINER.sql}, {OBJECT.sql} FROM containers AS c"
    f" LEFT JOIN objects AS o ON o.container_id = c.id AND o.name = ? AND {LIVE}"
    " WHERE c.account = ? AND c.name = ? LIMIT 1"
)
ACCOUNT_BY_NAME = f"SELECT {ACCOUNT.sql} FROM accounts AS a WHERE a.name = ?"
CONTAINER_BY_NAME = (
    f"SELECT {CONTAINER.sql} FROM containers AS c WHERE c.account = ? AND c.name = ?"
)
OBJECT_BY_NAME = (
    f"SELECT {OBJECT.sql} FROM objects AS o WHERE o.container_id = ? AND o.name = ? AND {LIVE}"
)
OBJECTS = f"SELECT {OBJECT.sql} FROM objects AS o WHERE o.container_id = ? AND {LIVE}"
COMPARISONS = frozenset(("<", "<=", ">", ">="))
Bounds = Sequence[tuple[str, str]]  # (comparison, name): what a listing batch's names satisfy


def sqlite_file(url: str) -> str | None:
    """The file of a SQLite database URL; None for another database or an in-memory one
    (where another connection would see another database)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    name = parsed.database or ""
    if name in ("", ":memory:") or name.startswith("file:") or "mode=memory" in str(parsed):
        return None
    return name


class LoopReads:
    """Read-only SQLite connections, one per thread that reads (in practice the loop's)."""

    def __init__(self, path: str):
        configure_mappers()  # rows are built without the mapped __init__, which configures
        self.path = path
        self._local = threading.local()
        self._opened: list[sqlite3.Connection] = []
        self._guard = threading.Lock()

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            # timeout=0: "busy" is answered at once (the caller falls back), never waited on.
            conn = sqlite3.connect(self.path, timeout=0, isolation_level=None)
            conn.execute("PRAGMA query_only=ON")
            self._local.conn = conn
            with self._guard:
                self._opened.append(conn)
        return conn

    def _one(self, sql: str, params: Sequence[Any]) -> Sequence[Any] | None:
        try:
            row: Sequence[Any] | None = self._conn().execute(sql, params).fetchone()
        except sqlite3.OperationalError as exc:
            raise Busy(str(exc)) from exc
        return row

    def locate(
        self, account: str, container: str, name: str, now: float
    ) -> tuple[Container | None, Object | None]:
        row = self._one(LOCATE, (name, now, account, container))
        if row is None:
            return None, None
        split = len(CONTAINER.names)
        found = CONTAINER.build(row[:split])
        rest = row[split:]
        return found, (None if rest[0] is None else OBJECT.build(rest))

    def objects(
        self, container_id: int, now: float, bounds: Bounds, reverse: bool, limit: int
    ) -> list[Object]:
        """A batch of a container listing: its live objects whose names satisfy every one of
        ``bounds``, in name order (or reversed), at most ``limit`` of them. One indexed range
        scan of the (container, name) index: for the batches of a few hundred rows a listing
        usually asks for, less than the async path's hops (and its ORM) cost."""
        where = ""
        for comparison, _name in bounds:
            assert comparison in COMPARISONS, comparison
            where += f" AND o.name {comparison} ?"
        order = "DESC" if reverse else "ASC"
        sql = f"{OBJECTS}{where} ORDER BY o.name {order} LIMIT ?"
        params = (container_id, now, *(name for _, name in bounds), limit)
        try:
            rows = self._conn().execute(sql, params).fetchall()
        except sqlite3.OperationalError as exc:
            raise Busy(str(exc)) from exc
        return [OBJECT.build(row) for row in rows]

    def account(self, name: str) -> Account | None:
        row = self._one(ACCOUNT_BY_NAME, (name,))
        return None if row is None else ACCOUNT.build(row)

    def container(self, account: str, name: str) -> Container | None:
        row = self._one(CONTAINER_BY_NAME, (account, name))
        return None if row is None else CONTAINER.build(row)

    def object(self, container_id: int, name: str, now: float) -> Object | None:
        row = self._one(OBJECT_BY_NAME, (container_id, name, now))
        return None if row is None else OBJECT.build(row)

    def close(self) -> None:
        with self._guard:
            opened, self._opened = self._opened, []
            self._local = threading.local()  # a read after this opens a new connection
        for conn in opened:
            # One made in another thread cannot be closed here; it closes when collected.
            with contextlib.suppress(sqlite3.ProgrammingError):
                conn.close()
