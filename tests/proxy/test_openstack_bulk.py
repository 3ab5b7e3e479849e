"""One ``server create --min N --max N`` through region ocx, split over landlords when the
first one's quota cannot hold it: one 202, every server listed at once, names unique."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests

from tests.conftest import ExchangeFactory
from tests.proxy.openstack_helpers import THREE, Cloud, make

LANDLORDS = ("harvard", "mit", "stor")


def _room(three: Cloud, tmp_path: Path, instances: dict[str, int]) -> None:
    """An image alike at every landlord, and alice's instance quota at each."""
    disk = tmp_path / "base.raw"
    disk.write_bytes(b"\x02" * 4096)
    for landlord, count in instances.items():
        three.cli(
            "image", "create", f"base@{landlord}", "--file", str(disk), "--disk-format", "raw"
        )
        alice = "harvard-alice" if landlord == "harvard" else f"alice-{landlord}-k2k"
        project = three.sdk(alice, "RegionOne").current_project_id
        admin = three.sdk(landlord, "RegionOne")
        url = admin.compute.get_endpoint() + f"/os-quota-sets/{project}"
        quota = {"quota_set": {"instances": count, "cores": count, "ram": 512 * count}}
        done = requests.put(url, json=quota, headers={"X-Auth-Token": admin.auth_token}, timeout=60)
        assert done.status_code == 200, done.text


def _bulk(three: Cloud, count: int, timeout: float) -> tuple[list[dict[str, str]], float]:
    started = time.monotonic()
    three.cli("server", "create", "--flavor", "m1.tiny", "--image", "base@harvard",
              "--min", str(count), "--max", str(count), "web")  # fmt: skip
    conn = three.sdk()
    listed = [{"id": s.id, "name": s.name, "zone": s.availability_zone, "status": s.status}
              for s in conn.compute.servers()]  # fmt: skip
    assert len(listed) == count
    while any(s["status"] != "ACTIVE" for s in listed) and time.monotonic() - started < timeout:
        time.sleep(0.5)
        listed = [{"id": s.id, "name": s.name, "zone": s.availability_zone, "status": s.status}
                  for s in conn.compute.servers()]  # fmt: skip
    return listed, time.monotonic() - started


def _check(listed: list[dict[str, str]], count: int, shares: dict[str, int]) -> None:
    assert sorted(s["name"] for s in listed) == sorted(f"web-{i}" for i in range(1, count + 1))
    by_zone: dict[str, int] = {}
    for server in listed:
        by_zone[server["zone"]] = by_zone.get(server["zone"], 0) + 1
    assert by_zone == shares
    assert {s["status"] for s in listed} == {"ACTIVE"}


def test_a_multi_create_spreads_over_landlords(
    exchange_factory: ExchangeFactory, tmp_path: Path
) -> None:
    three = make(exchange_factory(THREE), tmp_path)
    _room(three, tmp_path, {"harvard": 40, "mit": 40, "stor": 40})
    listed, _ = _bulk(three, 100, 120)
    _check(listed, 100, {"harvard": 40, "mit": 40, "stor": 20})
    refused = three.cli("server", "create", "--flavor", "m1.tiny", "--image", "base@harvard",
                        "--min", "50", "--max", "50", "more", ok=False)  # fmt: skip
    assert "Quota exceeded" in refused


@pytest.mark.slow
def test_a_thousand_servers_through_the_proxy(
    exchange_factory: ExchangeFactory, tmp_path: Path
) -> None:
    three = make(exchange_factory(THREE), tmp_path)
    _room(three, tmp_path, {"harvard": 400, "mit": 400, "stor": 400})
    listed, took = _bulk(three, 1000, 120)
    _check(listed, 1000, {"harvard": 400, "mit": 400, "stor": 200})
    print(f"1,000 servers ACTIVE through the proxy in {took:.1f} s")
    assert took < 60
