"""Servers through region ocx that need something of another landlord: an image only there
(the proxy gets the image delegation), and a keypair made in region ocx."""

from __future__ import annotations

from pathlib import Path

import pytest

from ocx.compute.service import ComputeService
from tests.conftest import ExchangeFactory
from tests.proxy.openstack_helpers import THREE, Cloud, make


@pytest.fixture
def three(exchange_factory: ExchangeFactory, tmp_path: Path) -> Cloud:
    return make(exchange_factory(THREE), tmp_path)


def _compute(three: Cloud, landlord: str) -> ComputeService:
    found = next(r.service for r in three.exchange.running
                 if r.landlord == landlord and r.part == "compute")  # fmt: skip
    return found.service  # type: ignore[attr-defined,no-any-return]


def test_server_create_from_an_image_at_another_landlord(three: Cloud, tmp_path: Path) -> None:
    disk = tmp_path / "disk.raw"
    disk.write_bytes(b"\x07" * 8192)
    made = three.cli("image", "create", "only-mit@mit", "--file", str(disk), "--disk-format",
                     "raw", "-f", "json")  # fmt: skip
    # harvard has no such image: its compute must fetch mit's with a delegation.
    at_harvard = three.cli("image", "list", "-f", "json", region="RegionOne")
    assert "only-mit" not in [i["Name"] for i in at_harvard]
    for name in ("far-1", "far-2"):
        three.cli("server", "create", "--flavor", "m1.tiny", "--image", "only-mit",
                  "--availability-zone", "harvard", "--wait", name)  # fmt: skip
    servers = three.cli("server", "list", "--long", "-f", "json")
    assert sorted((s["Name"], s["Availability Zone"], s["Status"]) for s in servers) == [
        ("far-1", "harvard", "ACTIVE"), ("far-2", "harvard", "ACTIVE")]  # fmt: skip
    shown = three.cli("server", "show", "far-1", "-f", "json")
    assert made["id"] in str(shown["image"])
    remote = _compute(three, "harvard").remote_images
    assert remote.fetches == 1  # the bytes came once; the second server used the kept copy
    kept = remote.path("mit", made["id"], three.sdk().image.get_image(made["id"]).hash_value)
    assert kept.read_bytes() == b"\x07" * 8192
    # Without a right to the image at mit, no delegation and no server.
    refused = three.cli("server", "create", "--flavor", "m1.tiny", "--image", made["id"],
                        "--availability-zone", "stor", "bob-vm", cloud="harvard-bob",
                        ok=False)  # fmt: skip
    assert "only-mit" not in refused
    assert [s["Name"] for s in three.cli("server", "list", "-f", "json", cloud="harvard-bob")] == []
