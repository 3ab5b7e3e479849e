"""The database layer: one async engine per landlord part, Alembic migrations per part.

SQLite (the embedded default) gets one file per landlord part. PostgreSQL is given by URL;
there every landlord part lives in its own schema of that database, so one server can hold a
whole exchange without table names colliding and without any part seeing another's tables.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData, event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def async_url(url: str) -> str:
    """The async-driver form of a database URL (``postgresql://`` → asyncpg)."""
    parsed = make_url(url)
    driver = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}
    name = driver.get(parsed.drivername, driver.get(parsed.get_backend_name(), parsed.drivername))
    return parsed.set(drivername=name).render_as_string(hide_password=False)


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def schema_name(*parts: str) -> str:
    return re.sub(r"[^a-z0-9_]", "_", "ocx_" + "_".join(parts).lower())


class Database:
    """An async engine and session factory bound to one landlord part's tables."""

    def __init__(self, url: str, *, schema: str | None = None, echo: bool = False):
        self.url = async_url(url)
        self.is_sqlite = self.url.startswith("sqlite")
        self.schema = None if self.is_sqlite else schema
        self.engine: AsyncEngine = create_async_engine(self.url, echo=echo, **self._engine_args())
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", sqlite_pragmas)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    def _engine_args(self) -> dict[str, Any]:
        if self.is_sqlite:
            return {"connect_args": {"timeout": 30}}
        args: dict[str, Any] = {"pool_size": 10, "max_overflow": 20, "pool_pre_ping": True}
        if self.schema:
            args["connect_args"] = {"server_settings": {"search_path": self.schema}}
        return args

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session in one transaction: committed on success, rolled back on any error."""
        async with self.sessions() as session, session.begin():
            yield session

    async def migrate(self, script_location: str, version_table: str) -> None:
        """Bring this part's tables to the newest Alembic revision."""
        async with self.engine.begin() as conn:
            if self.schema:
                await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"'))
                await conn.execute(text(f'SET search_path TO "{self.schema}"'))
            await conn.run_sync(_upgrade, script_location, version_table)

    async def dispose(self) -> None:
        await self.engine.dispose()


def sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _upgrade(connection: Connection, script_location: str, version_table: str) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", script_location)
    cfg.attributes["connection"] = connection
    cfg.attributes["version_table"] = version_table
    command.upgrade(cfg, "head")


def run_migrations(context: Any, target_metadata: MetaData) -> None:
    """The body of every part's Alembic ``env.py``: online, on the connection we pass in."""
    config = context.config
    connection = config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("OCX migrations run through ocx.common.db.Database.migrate()")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        version_table=config.attributes["version_table"],
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
