"""docs/scenarios.md, scenario 5 (storage half), run as written: every ``$`` command
succeeds and prints the lines shown under it (spacing collapsed, as a substring of its
output); the ``<!-- event: … -->`` lines are what the landlords do in between."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

from ocx.vault import config
from ocx.vault.vault import Vault
from tests.vault.helpers import World, snapshot, stop

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "scenarios.md"
SETUP = re.compile(r"^(export |\w+\(\) \{)")
STEP = re.compile(r"```console\n(.*?)```|<!-- event: (\w+) (\w+) -->", re.S)


def steps(section: str) -> Iterator[tuple[str, str, list[str]]]:
    """("run", command, expected lines) or ("event", what, [landlord]), in order."""
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


def test_scenario_5_walk_through(tmp_path: Path, own_world: World) -> None:
    # own_world runs docs/scenario5.toml's landlords (harvard, mit, stor, vast).
    (tmp_path / ".venv").symlink_to(ROOT / ".venv")
    (tmp_path / "docs").symlink_to(ROOT / "docs")
    vault_file = tmp_path / "macs-vault.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "ST_", "OCX_"))}
    env.update(
        OS_CLIENT_CONFIG_FILE=str(own_world.clouds_file), OCX_VAULT=str(vault_file), COLUMNS="120"
    )
    vault: Vault | None = None
    rollback = None
    for kind, what, expected in steps("5."):
        if kind == "event":
            if what == "snapshot":  # stor's disks now, put back at "restore"
                vault = Vault.open(config.load(vault_file), own_world.clouds_file)
                rollback = snapshot(vault.stores[vault.config.slot_of(expected[0])])
                rollback.__enter__()
            elif what == "restore":
                assert rollback is not None and vault is not None
                rollback.__exit__(None, None, None)
                vault.close()
            elif what == "stop":
                stop(own_world, expected[0])
            continue
        if SETUP.match(what):
            continue
        command = re.sub(r"^ocx ", ".venv/bin/ocx ", what)
        done = subprocess.run(
            command, shell=True, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
        )
        output = squeeze(done.stdout + done.stderr)
        assert done.returncode == 0, f"{what}\n{done.stdout}{done.stderr}"
        for line in expected:
            assert squeeze(line) in output, f"{what}: {line!r} not in\n{done.stdout}{done.stderr}"
