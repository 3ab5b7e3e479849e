"""The fast path for usage rows: multi-row INSERT ... ON CONFLICT DO NOTHING RETURNING.

SQLAlchemy's per-row parameter processing costs more than the database's insert itself at
tens of thousands of rows a second, so rated rows go to the driver as flat tuples, a few
hundred rows a statement; RETURNING names the rows that were new (the others were seen
before, and count once).
"""

from __future__ import annotations

import functools
import operator
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from ocx.exchange.models import UsageRecord, UsageTotal

COLUMNS = tuple(c.name for c in UsageRecord.__table__.columns)
_ROW = operator.itemgetter(*COLUMNS)
# 16 columns: 2,000 rows stay under the 32,766 parameters both SQLite and PostgreSQL take.
ROWS_PER_STATEMENT = 2000


@functools.lru_cache(maxsize=16)
def _placeholders(paramstyle: str, rows: int) -> str:
    """The VALUES list for ``rows`` rows (kept: PostgreSQL's numbered one for 2,000 rows is
    32,000 placeholders, which took longer to build than the rows' own values)."""
    width = len(COLUMNS)
    if paramstyle == "qmark":
        one = "(" + ",".join("?" * width) + ")"
        return ",".join([one] * rows)
    if paramstyle == "numeric_dollar":
        return ",".join(
            "(" + ",".join(f"${r * width + c + 1}" for c in range(width)) + ")" for r in range(rows)
        )
    if paramstyle in ("format", "pyformat"):
        one = "(" + ",".join(["%s"] * width) + ")"
        return ",".join([one] * rows)
    raise RuntimeError(f"no bulk insert for paramstyle {paramstyle}")


async def insert_new(session: AsyncSession, rows: list[dict[str, Any]]) -> list[str]:
    """Insert ``rows`` (dicts keyed by column), skipping duplicates; the new record ids."""
    connection = await session.connection()
    paramstyle = connection.dialect.paramstyle
    names = ",".join(f'"{c}"' for c in COLUMNS)
    table = UsageRecord.__tablename__
    new: list[str] = []
    for start in range(0, len(rows), ROWS_PER_STATEMENT):
        chunk = rows[start : start + ROWS_PER_STATEMENT]
        sql = (
            f"INSERT INTO {table} ({names}) VALUES {_placeholders(paramstyle, len(chunk))} "
            "ON CONFLICT DO NOTHING RETURNING record_id"
        )
        params = tuple(value for row in chunk for value in _ROW(row))
        result = await connection.exec_driver_sql(sql, params)
        new.extend(r[0] for r in result.all())
    return new


LINE = ("customer", "period", "landlord", "offering_id", "metric", "unit", "unit_price_nanos")
_LINE = operator.itemgetter(*LINE)


async def add_totals(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Add ``rows`` (the newly inserted ones) to their invoice lines' totals."""
    sums: dict[tuple[Any, ...], list[int]] = {}
    for row in rows:
        line = sums.setdefault(_LINE(row), [0, 0, 0])
        line[0] += row["quantity_nanos"]
        line[1] += row["cost_nanos"]
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
