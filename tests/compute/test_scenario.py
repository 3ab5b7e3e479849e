"""docs/scenarios.md, scenario 3, run as written against the default topology: every ``$``
command succeeds and prints the lines shown under it (as a substring, spacing collapsed);
``<!-- event: … -->`` lines are what the landlords do in between."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openstack

from ocx import clouds, topology
from ocx.runner import Exchange
from tests.conftest import ExchangeFactory

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "scenarios.md"
STEP = re.compile(r"```console\n(.*?)```|<!-- event: (\w+) (\w+) -->", re.S)
DATA = bytes(range(256)) * 4096


def steps(section: str) -> Iterator[tuple[str, str, list[str]]]:
    text = DOC.read_text().split(f"\n## {section}")[1].split("\n## ")[0]
    for match in STEP.finditer(text):
        if match.group(2):
            yield "event", match.group(2), [match.group(3)]
            continue
        found: list[tuple[str, list[str]]] = []
        for line in match.group(1).splitlines():
            if line.startswith("$ "):
                found.append((line[2:], []))
            elif line.strip():
                found[-1][1].append(line)
        for command, expected in found:
            yield "run", command, expected


def squeeze(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _volume_file(exchange: Exchange, landlord: str) -> Path:
    entry: dict[str, Any] = clouds.entries(exchange)["clouds"][f"alice-{landlord}-k2k"]
    conn = openstack.connect(auth_type=entry["auth_type"], auth=entry["auth"],
                             region_name=entry["region_name"])  # fmt: skip
    volume = conn.block_storage.find_volume("dataset", ignore_missing=False)
    service = next(
        r.service for r in exchange.running if r.landlord == landlord and r.part == "volume"
    )
    path: Path = service.service.storage.volume(volume.id)  # type: ignore[attr-defined]
    return path


def default_landlords() -> dict[str, Any]:
    """The default topology's landlords, options included (on free ports, cheap hashes)."""
    return {
        landlord.name: landlord.model_dump(exclude={"name"})
        for landlord in topology.load(None).landlords
    }


def test_scenario_3_walk_through(tmp_path: Path, exchange_factory: ExchangeFactory) -> None:
    exchange = exchange_factory(default_landlords())
    config = clouds.write(exchange, tmp_path / "clouds.yaml")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "OCX_"))}
    env.update(OS_CLIENT_CONFIG_FILE=str(config), COLUMNS="200",
               PATH=f"{Path(sys.executable).parent}:{env.get('PATH', '')}")  # fmt: skip
    before: os.stat_result | None = None
    for kind, what, expected in steps("3."):
        if kind == "event" and what == "load":
            path = _volume_file(exchange, expected[0])
            with path.open("r+b") as volume:
                volume.write(DATA)
                volume.flush()
                os.fsync(volume.fileno())
            before = path.stat()
            assert before.st_size == 10 * 1024**3
            continue
        if kind == "event":
            assert what == "unmoved" and before is not None
            after = _volume_file(exchange, expected[0]).stat()
            assert (after.st_ino, after.st_dev) == (before.st_ino, before.st_dev)
            assert after.st_blocks == before.st_blocks and after.st_size == before.st_size
            continue
        done = subprocess.run(what, shell=True, cwd=tmp_path, env=env, capture_output=True,
                              text=True, timeout=300)  # fmt: skip
        assert done.returncode == 0, f"{what}\n{done.stdout}\n{done.stderr}"
        for line in expected:
            assert squeeze(line) in squeeze(done.stdout), f"{what}: {line!r} not in {done.stdout}"
    assert hashlib.sha256(DATA).hexdigest() in DOC.read_text()
