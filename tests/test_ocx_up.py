"""`ocx up` as a user runs it: a subprocess, clouds.yaml, Ctrl-C, and a restart that keeps data;
each landlord in its own process, restarted by the supervisor when it dies."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

from ocx.supervisor import pid_of
from tests.ocx_up import OCX, answers, running, session, wait_until

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


def test_up_serves_writes_clouds_yaml_stops_and_keeps_data(tmp_path: Path) -> None:
    with running(tmp_path, TOPOLOGY) as up:
        clouds, clouds_path = up.clouds, up.data / "clouds.yaml"
        assert set(clouds) == {"harvard", "mit"}
        assert oct(clouds_path.stat().st_mode & 0o777) == "0o600"
        sess = session(clouds["harvard"])
        auth_url = clouds["harvard"]["auth"]["auth_url"]
        created = sess.post(auth_url + "/projects", json={"project": {"name": "kept"}})
        assert created.status_code == 201
        token = sess.get_token()
        password = clouds["harvard"]["auth"]["password"]
    log = up.log

    # The console has short human lines; the JSON log in the data directory says what
    # happened, and neither ever carries a token or a password.
    assert "harvard" in log and "ocx.access" not in log
    json_log = (up.data / "logs" / "harvard.jsonl").read_text()
    lines = [json.loads(line) for line in json_log.splitlines()]
    access = [e for e in lines if e["logger"] == "ocx.access"]
    assert any(
        e["method"] == "POST" and e["path"] == "/v3/projects" and e["status"] == 201 for e in access
    )
    assert all(e["request_id"].startswith("req-") for e in access)
    assert token not in log and password not in log
    assert token not in json_log and password not in json_log

    first_mtime = clouds_path.stat().st_mtime
    with running(tmp_path, TOPOLOGY, newer_than=first_mtime) as up:
        clouds = up.clouds
        assert clouds["harvard"]["auth"]["password"] == password
        sess = session(clouds["harvard"])
        url = clouds["harvard"]["auth"]["auth_url"] + "/projects?name=kept"
        assert [p["name"] for p in sess.get(url).json()["projects"]] == ["kept"]
        # The catalog follows the new (ephemeral) port.
        assert (
            sess.get_endpoint(service_type="identity", interface="public")
            == clouds["harvard"]["auth"]["auth_url"]
        )


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


def test_a_landlord_killed_is_restarted_while_its_peers_keep_answering(tmp_path: Path) -> None:
    with running(tmp_path, STORAGE) as up:
        data, clouds = up.data, up.clouds
        harvard, mit = session(clouds["harvard"]), session(clouds["mit"])
        object_url = harvard.get_endpoint(service_type="object-store", interface="public")
        assert harvard.put(object_url + "/kept", raise_exc=False).status_code == 201
        put = harvard.put(object_url + "/kept/file", data=b"still here", raise_exc=False)
        assert put.status_code == 201
        # Each landlord is a process of its own.
        pids = {name: pid_of(data, name) for name in ("harvard", "mit")}
        assert len(set(pids.values())) == 2 and up.proc.pid not in pids.values()

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
    assert "harvard stopped unexpectedly (killed by SIGKILL); restarting" in up.log
    assert "harvard is back" in up.log


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
