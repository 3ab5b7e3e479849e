"""How long the supervisor waits for a landlord's process to answer: the topology's
``start_timeout``, or ``--start-timeout`` / ``OCX_START_TIMEOUT``, which win."""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ocx import cli, runner, topology
from ocx.supervisor import Child, Supervisor

TOPOLOGY = """
[exchange]
base_port = 0
start_timeout = 1.5

[[landlords]]
name = "harvard"
parts = ["identity"]
"""


class Running:
    """A process that is alive and never exits (and never answers either)."""

    returncode = None

    async def wait(self) -> int:
        await asyncio.Event().wait()
        return 0


def test_the_topology_sets_the_start_timeout_and_the_error_says_how_to_raise_it(
    tmp_path: Path,
) -> None:
    topo = topology.parse(TOPOLOGY, "t.toml")
    supervisor = Supervisor(topo, tmp_path)
    landlord = runner.landlords(topo, tmp_path, None)["harvard"]
    with socket.socket() as silent:  # bound, never listening: every connection is refused
        silent.bind(("127.0.0.1", 0))
        landlord.base_urls["identity"] = f"http://127.0.0.1:{silent.getsockname()[1]}"
        child = Child(landlord, {"identity": silent}, proc=Running())  # type: ignore[arg-type]
        began = time.monotonic()
        with pytest.raises(RuntimeError) as failed:
            asyncio.run(supervisor._until_ready(child))
        took = time.monotonic() - began
    assert 1.5 <= took < 10
    assert str(failed.value).startswith("harvard did not answer within 1.5 s (http://127.0.0.1:")
    assert str(failed.value).endswith(
        "on a loaded machine give it longer: --start-timeout SECONDS, or start_timeout under"
        " [exchange] in the topology"
    )


def test_the_default_is_two_minutes_and_the_command_line_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert (
        topology.parse(TOPOLOGY.replace("start_timeout = 1.5", ""), "t").exchange.start_timeout
        == 120
    )
    path = tmp_path / "t.toml"
    path.write_text(TOPOLOGY)
    made: list[float] = []

    class Recorder(Supervisor):
        def __init__(self, *args: Any, **kwargs: Any):
            super().__init__(*args, **kwargs)
            made.append(self.topology.exchange.start_timeout)

    async def refuse(_supervisor: Supervisor) -> None:
        raise RuntimeError("not started in this test")

    monkeypatch.setattr(cli, "Supervisor", Recorder)
    monkeypatch.setattr(cli, "_up", refuse)
    runner_ = CliRunner()
    base = ["up", "--data-dir", str(tmp_path / "data"), "--topology", str(path)]
    for args, env, wanted in (
        ([], {}, 1.5),
        (["--start-timeout", "300"], {}, 300.0),
        ([], {"OCX_START_TIMEOUT": "240"}, 240.0),
    ):
        done = runner_.invoke(cli.app, base + args, env=env)
        assert done.exit_code == 1, done.output
        assert made.pop() == wanted
    refused = runner_.invoke(cli.app, [*base, "--start-timeout", "0"])
    assert refused.exit_code == 2 and not made
