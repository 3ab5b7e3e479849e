"""A live exchange shared by the vault tests of a module (each test works in a vault
container of its own, so starts from a fresh state), and a fresh one for tests that stop
a landlord."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ocx.runner import BackgroundExchange
from tests.conftest import _fresh_pg_database, make_topology
from tests.vault.helpers import LANDLORDS, World, write_clouds


def world_of(path: Path, landlords: dict[str, Any] = LANDLORDS) -> Iterator[World]:
    url, drop = None, None
    if os.environ.get("OCX_TEST_DATABASE", "sqlite") == "postgresql":
        url, drop = _fresh_pg_database()
    bg = BackgroundExchange(make_topology(landlords), path, url)
    try:
        exchange = bg.__enter__()
        exchange.background = bg  # type: ignore[attr-defined]
        yield World(exchange, write_clouds(exchange, path / "clouds.yaml"))
    finally:
        bg.__exit__(None, None, None)
        if drop is not None:
            drop()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from world_of(tmp_path_factory.mktemp("vault"))


@pytest.fixture
def own_world(tmp_path: Path) -> Iterator[World]:
    """An exchange of this test alone (it may stop a landlord)."""
    yield from world_of(tmp_path / "exchange")
