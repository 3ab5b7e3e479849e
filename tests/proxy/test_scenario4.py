"""docs/scenarios.md, scenario 4, run as written (a slow test: 1,000 servers)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from ocx import clouds
from tests.compute.test_scenario import squeeze, steps
from tests.conftest import ExchangeFactory
from tests.proxy.openstack_helpers import Cloud

TOPOLOGY = {
    "harvard": {"parts": ["identity", "proxy", "compute", "image"], "demo_users": ["alice"]},
    "mit": {"parts": ["identity", "compute", "image"], "trusts": ["harvard"]},
}


def _quota(cloud: Cloud, count: int) -> None:
    """Each landlord's operator gives alice's project there room for ``count`` servers."""
    for landlord, alice in (("harvard", "harvard-alice"), ("mit", "alice-mit-k2k")):
        project = cloud.sdk(alice, "RegionOne").current_project_id
        admin = cloud.sdk(landlord, "RegionOne")
        url = admin.compute.get_endpoint() + f"/os-quota-sets/{project}"
        quota = {"quota_set": {"instances": count, "cores": count, "ram": 512 * count}}
        done = requests.put(url, json=quota, headers={"X-Auth-Token": admin.auth_token}, timeout=60)
        assert done.status_code == 200, done.text


def _all_active(cloud: Cloud, count: int, since: float) -> float:
    conn = cloud.sdk()
    while True:
        statuses = [s.status for s in conn.compute.servers()]
        if len(statuses) == count and set(statuses) == {"ACTIVE"}:
            return time.monotonic() - since
        assert time.monotonic() - since < 300, f"{len(statuses)} listed, not all ACTIVE"
        time.sleep(0.5)


@pytest.mark.slow
def test_scenario_4_walk_through(tmp_path: Path, exchange_factory: ExchangeFactory) -> None:
    exchange = exchange_factory(TOPOLOGY)
    cloud = Cloud(exchange, clouds.write(exchange, tmp_path / "clouds.yaml"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "OCX_"))}
    env.update(OS_CLIENT_CONFIG_FILE=str(cloud.config), COLUMNS="200",
               PATH=f"{Path(sys.executable).parent}:{env.get('PATH', '')}")  # fmt: skip
    started = time.monotonic()
    for kind, what, expected in steps("4."):
        if kind == "event" and what == "quota":
            _quota(cloud, int(expected[0]))
            continue
        if kind == "event":
            took = _all_active(cloud, int(expected[0]), started)
            print(f"{expected[0]} servers ACTIVE through the proxy {took:.1f} s after the request")
            continue
        if "server create" in what:
            started = time.monotonic()
        done = subprocess.run(what, shell=True, cwd=tmp_path, env=env, capture_output=True,
                              text=True, timeout=600)  # fmt: skip
        assert done.returncode == 0, f"{what}\n{done.stdout}\n{done.stderr}"
        for line in expected:
            assert squeeze(line) in squeeze(done.stdout), f"{what}: {line!r} not in {done.stdout}"
