"""docs/scenarios.md, scenario 6, run as written: every ``$`` command succeeds and prints the
lines shown under it (compared with spacing collapsed, as a substring of the output)."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any

import yaml

from ocx import clouds, parts, topology
from tests.conftest import ExchangeFactory

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "scenarios.md"
SETUP = re.compile(r"^(export |\w+\(\) \{)")


def steps(section: str) -> list[tuple[str, list[str]]]:
    """(command, expected lines) of every console block in the section."""
    text = DOC.read_text().split(f"\n## {section}")[1].split("\n## ")[0]
    found: list[tuple[str, list[str]]] = []
    for block in re.findall(r"```console\n(.*?)```", text, re.S):
        for line in block.splitlines():
            if line.startswith("$ "):
                found.append((line[2:], []))
            elif line.strip():
                found[-1][1].append(line)
    return found


def squeeze(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def default_landlords() -> dict[str, Any]:
    return {
        landlord.name: {
            "parts": list(landlord.parts),
            "demo_users": list(landlord.demo_users),
            "trusts": list(landlord.trusts),
        }
        for landlord in topology.load(None).landlords
    }


def test_scenario_6_walk_through(exchange_factory: ExchangeFactory, tmp_path: Path) -> None:
    exchange = exchange_factory(default_landlords())
    config = clouds.write(exchange, tmp_path / "clouds.yaml")
    entry = yaml.safe_load(config.read_text())["clouds"]["harvard-alice"]
    assert parts.PROXY_REGION in entry.get("regions", []), (
        "openstacksdk takes --os-region-name ocx only if the clouds.yaml entry lists it: "
        "src/ocx/clouds.py should add regions: [RegionOne, ocx] where the landlord runs the proxy"
    )
    (tmp_path / ".venv").symlink_to(ROOT / ".venv")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "ST_"))}
    env.update(OS_CLIENT_CONFIG_FILE=str(config), COLUMNS="120")
    setup: list[str] = []
    for command, expected in steps("6."):
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
        assert done.returncode == 0, f"{command}\n{done.stderr}"
        for line in expected:
            assert squeeze(line) in squeeze(done.stdout), (
                f"{command}: {line!r} not in\n{done.stdout}"
            )
