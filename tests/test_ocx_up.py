"""`ocx up` as a user runs it: a subprocess, clouds.yaml, Ctrl-C, and a restart that keeps data."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

OCX = str(Path(sys.executable).with_name("ocx"))

TOPOLOGY = """
[exchange]
base_port = 0
password_hash = { time_cost = 1, memory_kib = 1024, parallelism = 1 }

[[landlords]]
name = "harvard"
parts = ["identity"]

[[landlords]]
name = "mit"
parts = ["identity"]
"""


def start(data_dir: Path, topology: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "OCX_LOG_LEVEL": "INFO"}
    return subprocess.Popen(
        [OCX, "up", "--data-dir", str(data_dir), "--topology", str(topology)],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env=env,
    )


def wait_for_clouds(path: Path, proc: subprocess.Popen[str], mtime: float = 0.0) -> dict:  # type: ignore[type-arg]
    deadline = time.time() + 60
    while time.time() < deadline:
        if path.exists() and path.stat().st_mtime > mtime:
            return dict(yaml.safe_load(path.read_text())["clouds"])
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        time.sleep(0.1)
    raise AssertionError("clouds.yaml never appeared")


def stop(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    return err


def session(cloud: dict) -> ks_session.Session:  # type: ignore[type-arg]
    return ks_session.Session(auth=v3.Password(**cloud["auth"]))


def test_up_serves_writes_clouds_yaml_stops_and_keeps_data(tmp_path: Path) -> None:
    topology = tmp_path / "topology.toml"
    topology.write_text(TOPOLOGY)
    data = tmp_path / "data"
    clouds_path = data / "clouds.yaml"

    proc = start(data, topology)
    clouds = wait_for_clouds(clouds_path, proc)
    assert set(clouds) == {"harvard", "mit"}
    assert oct(clouds_path.stat().st_mode & 0o777) == "0o600"
    sess = session(clouds["harvard"])
    auth_url = clouds["harvard"]["auth"]["auth_url"]
    created = sess.post(auth_url + "/projects", json={"project": {"name": "kept"}})
    assert created.status_code == 201
    token = sess.get_token()
    password = clouds["harvard"]["auth"]["password"]
    log = stop(proc)

    # The log says what happened, as JSON lines, and never carries a token or a password.
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    access = [e for e in lines if e["logger"] == "ocx.access"]
    assert any(
        e["method"] == "POST" and e["path"] == "/v3/projects" and e["status"] == 201 for e in access
    )
    assert all(e["request_id"].startswith("req-") for e in access)
    assert token not in log and password not in log

    first_mtime = clouds_path.stat().st_mtime
    proc = start(data, topology)
    clouds = wait_for_clouds(clouds_path, proc, first_mtime)
    assert clouds["harvard"]["auth"]["password"] == password
    sess = session(clouds["harvard"])
    url = clouds["harvard"]["auth"]["auth_url"] + "/projects?name=kept"
    assert [p["name"] for p in sess.get(url).json()["projects"]] == ["kept"]
    # The catalog follows the new (ephemeral) port.
    assert (
        sess.get_endpoint(service_type="identity", interface="public")
        == clouds["harvard"]["auth"]["auth_url"]
    )
    stop(proc)


def test_up_refuses_a_bad_topology(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[[landlords]]\nname = "Bad Name"\n')
    done = subprocess.run(
        [OCX, "up", "--data-dir", str(tmp_path), "--topology", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "a landlord name is lowercase letters" in done.stderr
