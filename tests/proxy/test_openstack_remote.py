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


@pytest.mark.slow  # a live three-landlord exchange: 70-115 s at load 16
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


@pytest.mark.slow  # a live three-landlord exchange: 70-115 s at load 16
def test_a_keypair_of_region_ocx_works_at_every_landlord(three: Cloud, tmp_path: Path) -> None:
    disk = tmp_path / "disk.raw"
    disk.write_bytes(b"\x05" * 4096)
    for landlord in ("harvard", "mit", "stor"):
        three.cli("image", "create", f"base@{landlord}", "--file", str(disk), "--disk-format",
                  "raw")  # fmt: skip
    private = three.cli("keypair", "create", "k1")
    assert "PRIVATE KEY" in private
    made = three.cli("keypair", "show", "k1", "-f", "json")
    mine = three.cli("keypair", "show", "k1", "--public-key")
    three.cli("server", "create", "--flavor", "m1.tiny", "--image", "base@mit", "--key-name",
              "k1", "--availability-zone", "mit", "--wait", "vm-mit")  # fmt: skip
    shown = three.cli("server", "show", "vm-mit", "-f", "json")
    assert (shown["key_name"], shown["status"]) == ("k1", "ACTIVE")
    # The proxy copied the public key to mit under the same name; the private key stayed
    # with the client.
    at_mit = three.cli("keypair", "show", "k1", "--public-key", cloud="alice-mit-k2k",
                       region="RegionOne")  # fmt: skip
    assert at_mit.split()[:2] == mine.split()[:2]
    assert made["fingerprint"] == three.cli("keypair", "show", "k1", "-f", "json",
                                            cloud="alice-mit-k2k",
                                            region="RegionOne")["fingerprint"]  # fmt: skip
    # A second server at mit uses the copy there; one at stor gets a copy of its own.
    three.cli("server", "create", "--flavor", "m1.tiny", "--image", "base@stor", "--key-name",
              "k1", "--availability-zone", "stor", "--wait", "vm-stor")  # fmt: skip
    assert three.cli("server", "show", "vm-stor", "-f", "json")["key_name"] == "k1"
    # A different key of that name at a landlord is never replaced: 409 naming it.
    three.cli("keypair", "create", "k2", cloud="alice-stor-k2k", region="RegionOne")
    three.cli("keypair", "create", "k2")
    refused = three.cli("server", "create", "--flavor", "m1.tiny", "--image", "base@stor",
                        "--key-name", "k2", "--availability-zone", "stor", "vm-k2",
                        ok=False)  # fmt: skip
    assert "Key pair 'k2' at stor is not the one of that name in region ocx" in refused
