"""A worker's start sweeps what dead processes left in tmp/, never a live worker's upload."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ocx.common import tmpfiles


def test_sweep_keeps_live_uploads_and_removes_what_the_dead_left(tmp_path: Path) -> None:
    live = tmp_path / tmpfiles.name("live.tmp")
    live.write_bytes(b"being written")
    # A process that has exited: its pid names no live process now.
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    host = tmpfiles.name("x").split("-")[0]
    dead = tmp_path / f"{host}-{done.stdout.strip()}-x.tmp"
    dead.write_bytes(b"left by a crash")
    legacy = tmp_path / "0123abcd.tmp"
    legacy.write_bytes(b"older name")
    assert tmpfiles.sweep(tmp_path) == 2
    assert [p.name for p in tmp_path.iterdir()] == [live.name]
