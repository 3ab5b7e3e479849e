"""The fast path for usage rows: INSERT ... ON CONFLICT DO NOTHING RETURNING.

SQLAlchemy's per-row parameter processing costs more than the database's insert itself at
tens of thousands of rows a second, so rated rows go to the driver as tuples: on SQLite as
multi-row INSERTs of up to 2,000 rows, on PostgreSQL by COPY to a staging table and one
INSERT ... SELECT. RETURNING names the rows that were new (the others were seen before, and
count once).
"""

from __future__ import annotations

import functools
import itertools
import operator
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from ocx.exchange.models import UsageRecord, UsageTotal

COLUMNS = (
    "landlord",
    "record_id",
    "contract_id",
    "offering_id",
    "customer",
    "user_id",
    "resource_id",
    "metric",
    "start",
    "end",
    "quantity_nanos",
    "unit",
    "unit_price_nanos",
    "cost_nanos",
    "period",
    "ingested_at",
)
assert set(COLUMNS) == {c.name for c in UsageRecord.__table__.columns}
# A rated usage record, its values in COLUMNS order.
Row = tuple[Any, ...]
RECORD_ID, CUSTOMER, QUANTITY, COST, PERIOD = (
    COLUMNS.index(c) for c in ("record_id", "customer", "quantity_nanos", "cost_nanos", "period")
)
# 16 columns: 2,000 rows stay under the 32,766 parameters both SQLite and PostgreSQL take.
ROWS_PER_STATEMENT = 2000
_NAMES = ",".join(f'"{c}"' for c in COLUMNS)
_STAGE = "ocx_usage_in"


@functools.lru_cache(maxsize=16)
def _placeholders(paramstyle: str, rows: int) -> str:
    """The VALUES list for ``rows`` rows (kept: building it per statement showed in profiles)."""
    width = len(COLUMNS)
    if paramstyle == "qmark":
        one = "(" + ",".join("?" * width) + ")"
        return ",".join([one] * rows)
    if paramstyle in ("format", "pyformat"):
        one = "(" + ",".join(["%s"] * width) + ")"
        return ",".join([one] * rows)
    raise RuntimeError(f"no bulk insert for paramstyle {paramstyle}")


async def insert_new(session: AsyncSession, rows: list[Row]) -> list[str]:
    """Insert ``rows``, skipping duplicates (of the primary key or of the natural key); the
    record ids that were new."""
    connection = await session.connection()
    if connection.dialect.driver == "asyncpg":
        return await _copy_new(connection, rows)
    paramstyle = connection.dialect.paramstyle
    table = UsageRecord.__tablename__
    new: list[str] = []
    for start in range(0, len(rows), ROWS_PER_STATEMENT):
        chunk = rows[start : start + ROWS_PER_STATEMENT]
        sql = (
            f"INSERT INTO {table} ({_NAMES}) VALUES {_placeholders(paramstyle, len(chunk))} "
            "ON CONFLICT DO NOTHING RETURNING record_id"
        )
        params = tuple(itertools.chain.from_iterable(chunk))
        result = await connection.exec_driver_sql(sql, params)
        new.extend(r[0] for r in result.all())
    return new


async def _copy_new(connection: AsyncConnection, rows: list[Row]) -> list[str]:
    """PostgreSQL: the rows go in by binary COPY to a temporary table of this connection
    (emptied at commit), then into the records with one INSERT ... SELECT ... ON CONFLICT
    DO NOTHING. A multi-row INSERT of the same rows sent 16 parameters a row and planned a
    statement of 32,000 placeholders; COPY streams them."""
    raw = await connection.get_raw_connection()
    driver: Any = raw.driver_connection
    if not driver.is_in_transaction():
        # SQLAlchemy's asyncpg adapter sends BEGIN with its first statement: without it the
        # staged rows would be deleted at the COPY's own commit.
        await connection.exec_driver_sql("SELECT 1")
    table = UsageRecord.__tablename__
    await driver.execute(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {_STAGE} "
        f"(LIKE {table} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
    )
    await driver.copy_records_to_table(_STAGE, records=rows, columns=COLUMNS)
    found = await driver.fetch(
        f"INSERT INTO {table} ({_NAMES}) SELECT {_NAMES} FROM {_STAGE} "
        "ON CONFLICT DO NOTHING RETURNING record_id"
    )
    await driver.execute(f"TRUNCATE {_STAGE}")
    return [r[0] for r in found]


LINE = ("customer", "period", "landlord", "offering_id", "metric", "unit", "unit_price_nanos")
_LINE = operator.itemgetter(*(COLUMNS.index(c) for c in LINE))


async def add_totals(session: AsyncSession, rows: list[Row]) -> None:
    """Add ``rows`` (the newly inserted ones) to their invoice lines' totals."""
    sums: dict[tuple[Any, ...], list[int]] = {}
    for row in rows:
        line = sums.get(_LINE(row))
        if line is None:
            line = sums[_LINE(row)] = [0, 0, 0]
        line[0] += row[QUANTITY]
        line[1] += row[COST]
        line[2] += 1
    if not sums:
        return
    values = [
        {**dict(zip(LINE, key, strict=True)), "quantity_nanos": q, "cost_nanos": c, "records": n}
        for key, (q, c, n) in sums.items()
    ]
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    table = UsageTotal.__table__
    stmt = dialect.insert(table)
    stmt = stmt.on_conflict_do_update(
        index_elements=list(LINE),
        set_={
            "quantity_nanos": table.c.quantity_nanos + stmt.excluded.quantity_nanos,
            "cost_nanos": table.c.cost_nanos + stmt.excluded.cost_nanos,
            "records": table.c.records + stmt.excluded.records,
        },
    )
    connection = await session.connection()
    # One executemany for every line of the batch: a statement per line cost a round trip
    # each (through aiosqlite's thread, or to PostgreSQL), most of a batch's time.
    await connection.execute(stmt, values)
