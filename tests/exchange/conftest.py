"""A live market for exchange tests: harvard, mit, stor and market (identity), started once
per module; a fresh exchange service (its own database) for every test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest

from ocx.common.db import sqlite_url
from ocx.runner import BackgroundExchange
from tests.conftest import _fresh_pg_database, make_topology
from tests.exchange.helpers import MARKET_TOPOLOGY, Market, start_market


@pytest.fixture(scope="module")
def landlords(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackgroundExchange]:
    database_url, drop = None, None
    if os.environ.get("OCX_TEST_DATABASE", "sqlite") == "postgresql":
        database_url, drop = _fresh_pg_database()
    bg = BackgroundExchange(
        make_topology(MARKET_TOPOLOGY), tmp_path_factory.mktemp("landlords"), database_url
    )
    bg.__enter__()
    bg.database_url = database_url  # type: ignore[attr-defined]
    try:
        yield bg
    finally:
        bg.__exit__(None, None, None)
        if drop is not None:
            drop()


@pytest.fixture
def market(landlords: BackgroundExchange, tmp_path: Path) -> Iterator[Market]:
    base = landlords.database_url  # type: ignore[attr-defined]
    # On PostgreSQL the service's schema is dropped after each test.
    url = sqlite_url(tmp_path / "exchange.db") if base is None else base
    service, (public, stop) = landlords.call(start_market(landlords.exchange, url))
    found = Market(landlords.exchange, landlords, service, public)
    try:
        yield found
    finally:
        found.http.close()
        landlords.call(stop())
        if base is not None:
            _drop_schema(base, service.db.schema)


def _drop_schema(url: str, schema: str | None) -> None:
    conn = psycopg2.connect(url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    conn.close()
