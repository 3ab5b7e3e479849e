"""`ocx serve`: one part alone in N worker processes that share its database and data directory."""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

OCX = str(Path(sys.executable).with_name("ocx"))


def free_base_port() -> int:
    """A block of ten ports whose first two are free now (identity 0, object 1)."""
    for _ in range(200):
        base = random.randrange(20000, 60000, 10)
        try:
            with socket.socket() as a, socket.socket() as b:
                a.bind(("127.0.0.1", base))
                b.bind(("127.0.0.1", base + 1))
            return base
        except OSError:
            continue
    raise RuntimeError("no free ports")


def wait_until_up(url: str, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        try:
            if requests.get(url + "/healthz", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{url} never answered")


@pytest.fixture
def served(tmp_path: Path, database_url: str | None) -> Iterator[tuple[str, str, Path]]:
    base = free_base_port()
    topology = tmp_path / "topology.toml"
    topology.write_text(
        f"[exchange]\nbase_port = {base}\n"
        "password_hash = { time_cost = 1, memory_kib = 1024, parallelism = 1 }\n"
        '[[landlords]]\nname = "harvard"\nparts = ["identity", "object"]\n'
    )
    data = tmp_path / "data"
    common = ["--data-dir", str(data), "--topology", str(topology), "--landlord", "harvard"]
    if database_url:
        common += ["--database-url", database_url]
    procs = []
    try:
        for part in ("identity", "object"):
            proc = subprocess.Popen(
                [OCX, "serve", *common, "--part", part, "--workers", "2"],
                stderr=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                text=True,
            )
            procs.append(proc)
            url = f"http://127.0.0.1:{base + (0 if part == 'identity' else 1)}"
            wait_until_up(url, proc)
        yield f"http://127.0.0.1:{base}", f"http://127.0.0.1:{base + 1}", data
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGINT)
        for proc in procs:
            _out, err = proc.communicate(timeout=60)
            assert proc.returncode == 0, err


def admin_token(identity: str, data: Path) -> tuple[str, str]:
    password = json.loads((data / "secrets.json").read_text())["harvard"]["admin_password"]
    scope = {"project": {"name": "admin", "domain": {"id": "default"}}}
    user = {"name": "admin", "domain": {"id": "default"}, "password": password}
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": user}}}}
    body["auth"]["scope"] = scope
    found = requests.post(identity + "/v3/auth/tokens", json=body, timeout=30)
    assert found.status_code == 201, found.text
    project = found.json()["token"]["project"]["id"]
    return found.headers["X-Subject-Token"], project


def test_two_workers_share_one_database_and_data_dir(
    served: tuple[str, str, Path],
) -> None:
    identity, object_url, data = served
    token, project = admin_token(identity, data)
    headers = {"X-Auth-Token": token}
    account = f"{object_url}/v1/AUTH_{project}"
    assert requests.put(account + "/shared", headers=headers, timeout=30).status_code == 201

    def put(i: int) -> int:
        body = f"object {i} ".encode() * (i + 1)
        url = f"{account}/shared/o{i:03d}"
        return requests.put(url, data=body, headers=headers, timeout=60).status_code

    def new_project(i: int) -> int:
        doc = {"project": {"name": f"p{i:03d}"}}
        url = identity + "/v3/projects"
        return requests.post(url, json=doc, headers=headers, timeout=60).status_code

    with ThreadPoolExecutor(8) as pool:
        puts = list(pool.map(put, range(60)))
        projects = list(pool.map(new_project, range(30)))
    assert puts == [201] * 60 and projects == [201] * 30

    # Nothing lost: every object, every byte, the container's counters, every project.
    listing = requests.get(account + "/shared?format=json", headers=headers, timeout=30).json()
    assert [o["name"] for o in listing] == [f"o{i:03d}" for i in range(60)]
    for i in (0, 17, 59):
        got = requests.get(f"{account}/shared/o{i:03d}", headers=headers, timeout=30)
        assert got.content == f"object {i} ".encode() * (i + 1)
    head = requests.head(account + "/shared", headers=headers, timeout=30).headers
    assert int(head["X-Container-Object-Count"]) == 60
    expected = sum(len(f"object {i} ".encode()) * (i + 1) for i in range(60))
    assert int(head["X-Container-Bytes-Used"]) == expected
    names = requests.get(identity + "/v3/projects", headers=headers, timeout=30).json()
    assert {f"p{i:03d}" for i in range(30)} <= {p["name"] for p in names["projects"]}

    # Both workers of each part served some of it.
    for part in ("identity", "object"):
        lines = (data / "logs" / f"harvard-{part}.jsonl").read_text().splitlines()
        pids = {e["pid"] for e in map(json.loads, lines) if e["logger"] == "ocx.access"}
        assert len(pids) == 2, part


def test_serve_refuses_a_part_the_landlord_does_not_run(tmp_path: Path) -> None:
    done = subprocess.run(
        [OCX, "serve", "--landlord", "harvard", "--part", "exchange", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ},
    )
    assert done.returncode == 2
    assert "harvard runs" in done.stderr and "not 'exchange'" in done.stderr


def test_serve_refuses_block_storage_in_several_workers(tmp_path: Path) -> None:
    args = [OCX, "serve", "--landlord", "stor", "--part", "volume", "--workers", "2"]
    done = subprocess.run(
        [*args, "--data-dir", str(tmp_path)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert "the volume part runs in one process (--workers 1)" in done.stderr
    assert "NBD exports" in done.stderr
    assert not (tmp_path / "stor").exists()  # refused before anything started
