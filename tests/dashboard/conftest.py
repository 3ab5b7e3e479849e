"""One live exchange with the dashboard, and one Chromium, per module (Horizon starts once)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ocx.runner import BackgroundExchange
from tests.conftest import make_topology
from tests.dashboard.helpers import TOPOLOGY, chromium, need_browser_and_horizon


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackgroundExchange]:
    need_browser_and_horizon()
    background = BackgroundExchange(make_topology(TOPOLOGY), tmp_path_factory.mktemp("dash"))
    with background:
        yield background


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    need_browser_and_horizon()
    with chromium() as found:
        yield found
