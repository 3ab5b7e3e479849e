"""`ocx up` as a user runs it, for tests: a subprocess on a topology of the test's own, its
clouds.yaml awaited, and always stopped when the test ends, whether it passed or not."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

OCX = str(Path(sys.executable).with_name("ocx"))


@dataclass
class Up:
    """A running `ocx up`: its process, data directory and clouds.yaml's clouds; ``log`` is
    what it wrote to the console, once it has stopped."""

    proc: subprocess.Popen[str]
    data: Path
    clouds: dict[str, Any] = field(default_factory=dict)
    log: str = ""


@contextlib.contextmanager
def running(tmp_path: Path, topology: str, *, newer_than: float = 0.0) -> Iterator[Up]:
    """`ocx up` on ``topology`` (TOML text), data in ``tmp_path/data``, until the block ends.

    The block gets it once clouds.yaml is written (newer than ``newer_than``, for a restart
    on the same data). A block that ends normally stops it with Ctrl-C and checks that it
    exits 0; whatever happens, the process is not left running.
    """
    path = tmp_path / "topology.toml"
    path.write_text(topology)
    data = tmp_path / "data"
    proc = start(data, path)
    try:
        up = Up(proc, data, wait_for_clouds(data / "clouds.yaml", proc, newer_than))
        yield up
        up.log = stop(proc)
    finally:
        halt(proc)


def start(data_dir: Path, topology: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "OCX_LOG_LEVEL": "INFO"}
    return subprocess.Popen(
        [OCX, "up", "--data-dir", str(data_dir), "--topology", str(topology)],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env=env,
    )


def wait_for_clouds(path: Path, proc: subprocess.Popen[str], mtime: float = 0.0) -> dict[str, Any]:
    deadline = time.time() + 120  # ocx up takes 55 s at load 16 on 2 cores
    while time.time() < deadline:
        if path.exists() and path.stat().st_mtime > mtime:
            return dict(yaml.safe_load(path.read_text())["clouds"])
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        time.sleep(0.1)
    raise AssertionError("clouds.yaml never appeared")


def stop(proc: subprocess.Popen[str]) -> str:
    """Ctrl-C, as a user stops it: it must exit 0. What it wrote to the console."""
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    return err


def halt(proc: subprocess.Popen[str]) -> None:
    """Stop it if it still runs (a failed test): Ctrl-C, then SIGKILL if that is not enough
    (its landlords die with it)."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGINT)
    try:
        proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()


def session(cloud: dict[str, Any]) -> ks_session.Session:
    return ks_session.Session(auth=v3.Password(**cloud["auth"]))


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def answers(sess: ks_session.Session, url: str) -> bool:
    try:
        return sess.get(url, raise_exc=False, authenticated=False).status_code == 200
    except Exception:
        return False
