"""docs/scenarios.md, scenarios 1 and 2 (the market side), run as written against the default
topology: every ``$`` command succeeds and prints the lines shown under it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import yaml

from ocx import clouds
from tests.conftest import ExchangeFactory
from tests.proxy.test_scenario import ROOT, SETUP, default_landlords, squeeze, steps


@pytest.mark.parametrize("section", ["1.", "2."])
def test_market_walk_through(
    section: str, exchange_factory: ExchangeFactory, tmp_path: Path
) -> None:
    exchange = exchange_factory(default_landlords())
    config = clouds.write(exchange, tmp_path / "clouds.yaml")
    assert "carol-market-k2k" in yaml.safe_load(config.read_text())["clouds"]
    (tmp_path / ".venv").symlink_to(ROOT / ".venv")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "ST_"))}
    env.update(OS_CLIENT_CONFIG_FILE=str(config), COLUMNS="200")
    setup: list[str] = []
    for command, expected in steps(section):
        if command.startswith("export OS_CLIENT_CONFIG_FILE"):
            continue  # the test's own clouds.yaml
        if SETUP.match(command):
            setup.append(command)
            continue
        done = subprocess.run(
            ["bash", "-c", "\n".join([*setup, command])],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
        for line in expected:
            assert squeeze(line) in squeeze(done.stdout), (
                f"{command}: {line!r} not in\n{done.stdout}"
            )
