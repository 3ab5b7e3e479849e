"""Accounts, containers and objects in the database: every read and every atomic change.

Writes that depend on what is there are single statements or start with their write, so they
hold under SQLite's one writer and PostgreSQL's read-committed alike: a PUT deletes the old
row (``RETURNING`` what it had) and inserts the new one in one transaction, and a concurrent
insert of the same name makes it retry, so the last PUT to commit wins.

On a SQLite file the writes of a PUT and a DELETE (most of what an object store writes) are
the same statements in plain SQL, committed in groups by one thread
(:class:`ocx.object.writes.GroupWriter`); every other write, and every write on PostgreSQL,
goes through the async engine.
"""

from __future__ import annotations

import contextlib
import json
import operator
import sqlite3
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, ColumnElement, and_, case, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ocx.common import errors
from ocx.common.db import Database
from ocx.object.loopreads import Busy, LoopReads, sqlite_file
from ocx.object.models import Account, Container, Object
from ocx.object.writes import GroupWriter
from ocx.swift import listing
from ocx.swift.faults import fault, not_found, precondition

RETRIES = 8


@dataclass(frozen=True)
class AccountStats:
    containers: int = 0
    objects: int = 0
    bytes: int = 0


@dataclass(frozen=True)
class Replaced:
    """What a committed write displaced: data files nobody points at any more."""

    file_ids: tuple[str, ...] = ()


def live(now: float | None = None) -> ColumnElement[bool]:
    at = time.time() if now is None else now
    return (Object.delete_at.is_(None)) | (Object.delete_at > at)


class Store:
    def __init__(self, db: Database):
        self.db = db
        # On SQLite the reads of a GET or HEAD run on the loop (see ocx.object.loopreads).
        path = sqlite_file(db.url)
        self.loop_reads = LoopReads(path) if path is not None else None
        self.writer = GroupWriter(path) if path is not None else None

    def close(self) -> None:
        if self.loop_reads is not None:
            self.loop_reads.close()
        if self.writer is not None:
            self.writer.close()

    # accounts

    async def account(self, name: str) -> Account | None:
        if self.loop_reads is not None:
            try:
                return self.loop_reads.account(name)
            except Busy:
                pass
        async with self.db.session() as s:
            return await s.get(Account, name)

    async def account_stats(self, name: str) -> AccountStats:
        query = select(
            func.count(Container.id),
            func.coalesce(func.sum(Container.object_count), 0),
            func.coalesce(func.sum(Container.bytes_used), 0),
        ).where(Container.account == name)
        async with self.db.session() as s:
            row = (await s.execute(query)).one()
        return AccountStats(int(row[0]), int(row[1]), int(row[2]))

    async def set_account_meta(self, name: str, meta: Mapping[str, str]) -> None:
        async with self.db.session() as s:
            changed = await s.execute(
                update(Account).where(Account.name == name).values(meta=dict(meta))
            )
            if changed.rowcount == 0:  # type: ignore[attr-defined]
                s.add(Account(name=name, created_at=time.time(), meta=dict(meta)))

    async def list_containers(self, account: str, query: listing.Query) -> list[listing.Item]:
        async def fetch(bound: listing.Bound | None, batch: int) -> list[listing.Entry]:
            where = _window(Container.name, query, bound)
            rows = await self._rows(
                select(Container).where(Container.account == account, *where),
                Container.name,
                query.reverse,
                batch,
            )
            return [
                listing.Entry(
                    c.name,
                    {
                        "count": c.object_count,
                        "bytes": c.bytes_used,
                        "last_modified": listing.last_modified(c.updated_at),
                    },
                )
                for c in rows
            ]

        return await listing.walk(fetch, query)

    async def _rows(self, query: Any, key: Any, reverse: bool, batch: int) -> Sequence[Any]:
        query = query.order_by(key.desc() if reverse else key).limit(batch)
        async with self.db.session() as s:
            return list((await s.scalars(query)).all())

    # containers

    async def container(self, account: str, name: str) -> Container | None:
        if self.loop_reads is not None:
            try:
                return self.loop_reads.container(account, name)
            except Busy:
                pass
        query = select(Container).where(Container.account == account, Container.name == name)
        async with self.db.session() as s:
            return await s.scalar(query)

    async def create_container(self, account: str, name: str, values: Mapping[str, Any]) -> bool:
        """Create the container; False if it was already there (then nothing changes)."""
        now = time.time()
        try:
            async with self.db.session() as s:
                await s.execute(
                    insert(Container).values(
                        account=account,
                        name=name,
                        created_at=now,
                        updated_at=now,
                        object_count=0,
                        bytes_used=0,
                        **values,
                    )
                )
        except IntegrityError:
            return False
        return True

    async def update_container(self, container_id: int, values: Mapping[str, Any]) -> None:
        async with self.db.session() as s:
            await s.execute(
                update(Container)
                .where(Container.id == container_id)
                .values(updated_at=time.time(), **values)
            )

    async def delete_container(self, account: str, name: str) -> None:
        """Delete an empty container: 404 if missing, 409 if it still holds objects."""
        where = (Container.account == account, Container.name == name)
        async with self.db.session() as s:
            gone = await s.execute(delete(Container).where(*where, Container.object_count == 0))
            if gone.rowcount:  # type: ignore[attr-defined]
                return
        if await self.container(account, name) is None:
            raise not_found()
        raise fault(errors.Conflict)

    # objects

    async def locate(
        self, account: str, container: str, name: str
    ) -> tuple[Container | None, Object | None]:
        """A container and its object of ``name`` (reads and HEADs need both, at once): one
        query, as each database trip is a hop to the driver's thread and back."""
        if self.loop_reads is not None:
            try:
                return self.loop_reads.locate(account, container, name, time.time())
            except Busy:
                pass
        match = and_(Object.container_id == Container.id, Object.name == name, live())
        query = (
            select(Container, Object)
            .outerjoin(Object, match)
            .where(Container.account == account, Container.name == container)
            .limit(1)
        )
        async with self.db.session() as s:
            row = (await s.execute(query)).first()
        return (None, None) if row is None else (row[0], row[1])

    async def object(self, container_id: int, name: str) -> Object | None:
        if self.loop_reads is not None:
            try:
                return self.loop_reads.object(container_id, name, time.time())
            except Busy:
                pass
        query = select(Object).where(
            Object.container_id == container_id, Object.name == name, live()
        )
        async with self.db.session() as s:
            return await s.scalar(query)

    async def list_objects(self, container_id: int, query: listing.Query) -> list[listing.Item]:
        async def fetch(bound: listing.Bound | None, batch: int) -> list[listing.Entry]:
            rows: Sequence[Object] | None = None
            if self.loop_reads is not None:
                with contextlib.suppress(Busy):
                    rows = self.loop_reads.objects(
                        container_id, time.time(), _bounds(query, bound), query.reverse, batch
                    )
            if rows is None:
                where = _window(Object.name, query, bound)
                rows = await self._rows(
                    select(Object).where(Object.container_id == container_id, live(), *where),
                    Object.name,
                    query.reverse,
                    batch,
                )
            return [listing.Entry(o.name, object_fields(o)) for o in rows]

        return await listing.walk(fetch, query)

    async def segments(self, container_id: int, prefix: str, limit: int) -> list[Object]:
        """The objects under ``prefix`` in name order: a dynamic large object's segments."""
        query = select(Object).where(
            Object.container_id == container_id, live(), *_prefix(Object.name, prefix)
        )
        return list(await self._rows(query, Object.name, False, limit))

    async def put_object(
        self, container: Container, row: Mapping[str, Any], *, exclusive: bool = False
    ) -> Replaced:
        """Make ``row`` the object of its name: whole, atomically, replacing any older one."""
        for attempt in range(RETRIES):
            try:
                return await self._put_once(container, row, exclusive)
            except IntegrityError:
                if await self.container(container.account, container.name) is None:
                    raise not_found() from None
                if attempt == RETRIES - 1:
                    raise
        raise AssertionError("unreachable")

    async def _put_once(
        self, container: Container, row: Mapping[str, Any], exclusive: bool
    ) -> Replaced:
        if self.writer is not None:
            return await self.writer.run(lambda conn: _put_sqlite(conn, container, row, exclusive))
        async with self.db.session() as s:
            old = await _take(s, container.id, row["name"])
            if exclusive and old is not None and _alive(old.delete_at):
                raise precondition()
            await s.execute(insert(Object).values(container_id=container.id, **row))
            added = (int(old is None), row["size"] - (old.size if old else 0))
            count, used = await _count(s, container.id, *added)
            _check_quota(container.meta, (count, used), added)
        return Replaced((old.file_id,) if old else ())

    async def delete_object(self, container_id: int, name: str) -> Removed | None:
        """Delete the object of ``name``: what it had, or None if there was none."""
        if self.writer is not None:
            return await self.writer.run(lambda conn: _delete_sqlite(conn, container_id, name))
        async with self.db.session() as s:
            old = await _take(s, container_id, name)
            if old is not None:
                await _count(s, container_id, -1, -old.size)
        return old

    async def update_object(
        self, container_id: int, name: str, values: Mapping[str, Any], manifest: str | None
    ) -> bool:
        """A POST: new metadata, and ``manifest`` as the object's ``X-Object-Manifest``.

        As in Swift, a POST without the manifest header makes a dynamic large object a plain
        object again, and one with it makes a plain object a manifest; a static large
        object stays one (that is not metadata a POST can change).
        """
        is_slo = Object.kind == "slo"
        kind = case((is_slo, "slo"), else_="dlo" if manifest else "")
        async with self.db.session() as s:
            done = await s.execute(
                update(Object)
                .where(Object.container_id == container_id, Object.name == name, live())
                .values(**values, kind=kind, manifest=case((is_slo, None), else_=manifest))
            )
            return bool(done.rowcount)  # type: ignore[attr-defined]

    async def expired(
        self, now: float, limit: int = 500, container_id: int | None = None
    ) -> list[tuple[int, str]]:
        query = (
            select(Object.container_id, Object.name)
            .where(Object.delete_at.is_not(None), Object.delete_at <= now)
            .limit(limit)
        )
        if container_id is not None:
            query = query.where(Object.container_id == container_id)
        async with self.db.session() as s:
            return [(int(c), str(n)) for c, n in (await s.execute(query)).all()]

    async def file_ids(self, among: Sequence[str] | None = None) -> set[str]:
        """The file ids rows refer to (only those ``among`` these, if given)."""
        query = select(Object.file_id)
        if among is not None:
            query = query.where(Object.file_id.in_(among))
        async with self.db.session() as s:
            return set((await s.scalars(query)).all())


@dataclass(frozen=True)
class Removed:
    file_id: str
    size: int
    delete_at: float | None


async def _take(s: AsyncSession, container_id: int, name: str) -> Removed | None:
    gone = await s.execute(
        delete(Object)
        .where(Object.container_id == container_id, Object.name == name)
        .returning(Object.file_id, Object.size, Object.delete_at)
    )
    row = gone.first()
    return None if row is None else Removed(row[0], row[1], row[2])


async def _count(s: AsyncSession, container_id: int, objects: int, size: int) -> tuple[int, int]:
    result = await s.execute(
        update(Container)
        .where(Container.id == container_id)
        .values(
            object_count=Container.object_count + objects,
            bytes_used=Container.bytes_used + size,
        )
        .returning(Container.object_count, Container.bytes_used)
    )
    row = result.first()
    if row is None:
        raise not_found()
    return int(row[0]), int(row[1])


# The same writes in plain SQL, for GroupWriter's connection (see the module docstring).

OBJECT_TABLE = Object.__table__
JSON_COLUMNS = frozenset(c.name for c in OBJECT_TABLE.columns if isinstance(c.type, JSON))
TAKE = "DELETE FROM objects WHERE container_id = ? AND name = ? RETURNING file_id, size, delete_at"
CONTAINER_THERE = "SELECT 1 FROM containers WHERE id = ?"
COUNT = (
    "UPDATE containers SET object_count = object_count + ?, bytes_used = bytes_used + ?"
    " WHERE id = ? RETURNING object_count, bytes_used"
)


def _defaults() -> dict[str, Any]:
    """The objects columns' Python-side defaults, as the engine's inserts apply them."""
    out: dict[str, Any] = {}
    for column in OBJECT_TABLE.columns:
        default = column.default
        if default is not None and default.is_scalar:
            out[column.name] = default.arg
        elif default is not None and default.is_callable:
            out[column.name] = default.arg(None)
    return out


DEFAULTS = _defaults()  # the JSON ones are serialized, never changed


def _put_sqlite(
    conn: sqlite3.Connection, container: Container, row: Mapping[str, Any], exclusive: bool
) -> Replaced:
    old = _take_sqlite(conn, container.id, row["name"])
    if exclusive and old is not None and _alive(old.delete_at):
        raise precondition()
    values = {**DEFAULTS, **row, "container_id": container.id}
    for name in JSON_COLUMNS & values.keys():
        values[name] = json.dumps(values[name])
    columns = ", ".join(values)
    marks = ", ".join("?" * len(values))
    try:
        conn.execute(f"INSERT INTO objects ({columns}) VALUES ({marks})", tuple(values.values()))
    except sqlite3.IntegrityError:
        if conn.execute(CONTAINER_THERE, (container.id,)).fetchone() is None:
            raise not_found() from None  # deleted since the request found it
        raise
    added = (int(old is None), row["size"] - (old.size if old else 0))
    _check_quota(container.meta, _count_sqlite(conn, container.id, *added), added)
    return Replaced((old.file_id,) if old else ())


def _delete_sqlite(conn: sqlite3.Connection, container_id: int, name: str) -> Removed | None:
    old = _take_sqlite(conn, container_id, name)
    if old is not None:
        _count_sqlite(conn, container_id, -1, -old.size)
    return old


def _take_sqlite(conn: sqlite3.Connection, container_id: int, name: str) -> Removed | None:
    rows = conn.execute(TAKE, (container_id, name)).fetchall()
    return Removed(*rows[0]) if rows else None


def _count_sqlite(
    conn: sqlite3.Connection, container_id: int, objects: int, size: int
) -> tuple[int, int]:
    rows = conn.execute(COUNT, (objects, size, container_id)).fetchall()
    if not rows:
        raise not_found()
    return int(rows[0][0]), int(rows[0][1])


def _check_quota(meta: Mapping[str, str], totals: tuple[int, int], added: tuple[int, int]) -> None:
    """413 when a write that adds objects or bytes takes the container past its quota."""
    for key, total, more in zip(("quota-count", "quota-bytes"), totals, added, strict=True):
        quota = meta.get(key, "")
        if more > 0 and quota.isdigit() and total > int(quota):
            raise fault(errors.RequestEntityTooLarge, "Upload exceeds quota.")


def _alive(delete_at: float | None) -> bool:
    return delete_at is None or delete_at > time.time()


def _prefix(column: Any, prefix: str) -> list[ColumnElement[bool]]:
    if not prefix:
        return []
    conditions = [column >= prefix]
    end = listing.prefix_end(prefix)
    if end is not None:
        conditions.append(column < end)
    return conditions


COMPARE = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


def _bounds(query: listing.Query, bound: listing.Bound | None) -> list[tuple[str, str]]:
    """What the names of a listing batch satisfy, as (comparison, name) pairs: prefix, end
    marker, and where to resume (both the ORM path and the loop's read build on these)."""
    found: list[tuple[str, str]] = []
    if query.prefix:
        found.append((">=", query.prefix))
        end = listing.prefix_end(query.prefix)
        if end is not None:
            found.append(("<", end))
    if query.end_marker:
        found.append((">" if query.reverse else "<", query.end_marker))
    if bound is not None:
        if query.reverse:
            found.append(("<=" if bound.inclusive else "<", bound.name))
        else:
            found.append((">=" if bound.inclusive else ">", bound.name))
    return found


def _window(column: Any, query: listing.Query, bound: listing.Bound | None) -> list[Any]:
    """The SQL conditions of a listing batch: prefix, end marker, and where to resume."""
    conditions = [COMPARE[comparison](column, name) for comparison, name in _bounds(query, bound)]
    return [and_(*conditions)] if conditions else []


def object_fields(o: Object) -> dict[str, Any]:
    return {
        "hash": o.etag,
        "bytes": o.size,
        "content_type": o.content_type,
        "last_modified": listing.last_modified(o.created_at),
    }
