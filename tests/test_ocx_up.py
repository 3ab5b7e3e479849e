"""`ocx up` as a user runs it: a subprocess, clouds.yaml, Ctrl-C, and a restart that keeps data;
each landlord in its own process, restarted by the supervisor when it dies."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import yaml
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

from ocx.supervisor import pid_of

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
    deadline = time.time() + 120  # ocx up takes 55 s at load 16 on 2 cores
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

    # The console has short human lines; the JSON log in the data directory says what
    # happened, and neither ever carries a token or a password.
    assert "harvard" in log and "ocx.access" not in log
    json_log = (data / "logs" / "harvard.jsonl").read_text()
    lines = [json.loads(line) for line in json_log.splitlines()]
    access = [e for e in lines if e["logger"] == "ocx.access"]
    assert any(
        e["method"] == "POST" and e["path"] == "/v3/projects" and e["status"] == 201 for e in access
    )
    assert all(e["request_id"].startswith("req-") for e in access)
    assert token not in log and password not in log
    assert token not in json_log and password not in json_log

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


STORAGE = """
[exchange]
base_port = 0
password_hash = { time_cost = 1, memory_kib = 1024, parallelism = 1 }

[[landlords]]
name = "harvard"
parts = ["identity", "object"]

[[landlords]]
name = "mit"
parts = ["identity"]
"""


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


def test_a_landlord_killed_is_restarted_while_its_peers_keep_answering(tmp_path: Path) -> None:
    topology = tmp_path / "topology.toml"
    topology.write_text(STORAGE)
    data = tmp_path / "data"
    proc = start(data, topology)
    clouds = wait_for_clouds(data / "clouds.yaml", proc)
    harvard, mit = session(clouds["harvard"]), session(clouds["mit"])
    object_url = harvard.get_endpoint(service_type="object-store", interface="public")
    assert harvard.put(object_url + "/kept", raise_exc=False).status_code == 201
    put = harvard.put(object_url + "/kept/file", data=b"still here", raise_exc=False)
    assert put.status_code == 201
    # Each landlord is a process of its own.
    pids = {name: pid_of(data, name) for name in ("harvard", "mit")}
    assert len(set(pids.values())) == 2 and proc.pid not in pids.values()

    os.kill(pids["harvard"], signal.SIGKILL)
    # Its peer goes on answering, with new tokens, while harvard is down or coming back.
    mit.invalidate()
    assert mit.get_token()
    auth_url = clouds["harvard"]["auth"]["auth_url"]
    wait_until(lambda: pid_of(data, "harvard") != pids["harvard"], "harvard not restarted")
    wait_until(lambda: answers(harvard, auth_url), "harvard not back")
    # Clients work again on the same URLs, and the data is intact.
    harvard.invalidate()
    found = harvard.get(object_url + "/kept/file", raise_exc=False)
    assert (found.status_code, found.content) == (200, b"still here")
    assert mit.get_token()
    err = stop(proc)
    assert "harvard stopped unexpectedly (killed by SIGKILL); restarting" in err
    assert "harvard is back" in err


def test_up_fails_with_a_clear_error_when_a_landlord_cannot_start(tmp_path: Path) -> None:
    topology = tmp_path / "topology.toml"
    topology.write_text(TOPOLOGY)
    data = tmp_path / "data"
    (data / "mit" / "identity.db").mkdir(parents=True)  # SQLite cannot open a directory
    done = subprocess.run(
        [OCX, "up", "--data-dir", str(data), "--topology", str(topology)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert "mit could not start" in done.stderr
    assert not (data / "clouds.yaml").exists()
