"""Nova, Cinder and Glance through harvard's proxy (region ocx) with the real clients: the
``openstack`` CLI and openstacksdk against three live landlords."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import ExchangeFactory
from tests.proxy.conftest import Mixed
from tests.proxy.openstack_helpers import THREE, Cloud, make

LANDLORDS = ("harvard", "mit", "stor")
# The proxy's landlord runs no volume service; stor, which admits its users, does.
VOLUMES_AWAY: dict[str, Any] = {
    "harvard": {"parts": ["identity", "proxy"], "demo_users": ["alice"]},
    "stor": {"parts": ["identity", "volume"], "trusts": ["harvard"]},
}


@pytest.fixture
def three(exchange_factory: ExchangeFactory, tmp_path: Path) -> Cloud:
    return make(exchange_factory(THREE), tmp_path)


def _image(three: Cloud, tmp_path: Path, landlord: str, name: str = "debian") -> str:
    disk = tmp_path / "disk.raw"
    disk.write_bytes(b"\x01" * 8192)
    made = three.cli("image", "create", f"{name}@{landlord}", "--file", str(disk),
                     "--disk-format", "raw", "-f", "json")  # fmt: skip
    return str(made["id"])


def test_the_cli_through_region_ocx(three: Cloud, tmp_path: Path) -> None:
    zones = three.cli("availability", "zone", "list", "--compute", "-f", "json")
    assert [z["Zone Name"] for z in zones] == list(LANDLORDS)
    for landlord in ("harvard", "mit"):
        _image(three, tmp_path, landlord)
    images = three.cli("image", "list", "-f", "json")
    assert sorted(i["Name"] for i in images) == ["debian@harvard", "debian@mit"]
    for landlord in ("harvard", "mit"):
        three.cli("server", "create", "--flavor", "m1.tiny", "--image", f"debian@{landlord}",
                  "--availability-zone", landlord, "--wait", f"vm-{landlord}")  # fmt: skip
    servers = three.cli("server", "list", "--long", "-f", "json")
    assert sorted((s["Name"], s["Availability Zone"], s["Status"]) for s in servers) == [
        ("vm-harvard", "harvard", "ACTIVE"), ("vm-mit", "mit", "ACTIVE")]  # fmt: skip
    assert (
        three.cli("server", "show", "vm-mit", "-f", "json")["OS-EXT-AZ:availability_zone"] == "mit"
    )
    # The same servers, straight at mit: the proxy made them there.
    direct = three.cli("server", "list", "-f", "json", cloud="alice-mit-k2k", region="RegionOne")
    assert [s["Name"] for s in direct] == ["vm-mit"]
    volume = three.cli("volume", "create", "--size", "1", "--availability-zone", "stor", "data",
                       "-f", "json")  # fmt: skip
    assert volume["availability_zone"] == "stor"
    three.cli("server", "add", "volume", "vm-mit", "data")  # mit's server, stor's volume
    attached = three.cli("server", "volume", "list", "vm-mit", "-f", "json")
    assert [a["Volume ID"] for a in attached] == [volume["id"]]
    at_stor = three.cli("volume", "show", "data", "-f", "json")
    assert at_stor["status"] == "in-use"
    three.cli("server", "remove", "volume", "vm-mit", "data")
    assert three.cli("server", "volume", "list", "vm-mit", "-f", "json") == []
    assert "No Server found for nothing-here" in three.cli(
        "server", "show", "nothing-here", ok=False
    )
    three.cli("server", "delete", "--wait", "vm-harvard", "vm-mit")
    assert three.cli("server", "list", "-f", "json") == []


def test_version_documents_and_faults(three: Cloud) -> None:
    token = three.sdk().auth_token
    doc = three.raw("GET", "/compute/v2.1", token).json()["version"]
    assert doc["links"][0]["href"].startswith(three.proxy_url + "/compute/")
    assert (doc["min_version"], doc["version"]) == ("2.1", "2.100")
    latest = three.raw("GET", "/compute/v2.1/servers", token,
                       headers={"OpenStack-API-Version": "compute latest"})  # fmt: skip
    assert latest.status_code == 200, latest.text
    assert latest.headers["OpenStack-API-Version"] == "compute 2.100"
    missing = three.raw("GET", f"/compute/v2.1/servers/{uuid.uuid4()}", token)
    assert missing.status_code == 404
    assert list(missing.json()) == ["itemNotFound"]
    gone = three.raw("GET", f"/volume/v3/volumes/{uuid.uuid4()}", token)
    assert (
        gone.status_code == 404 and "could not be found" in gone.json()["itemNotFound"]["message"]
    )
    image = three.raw("GET", f"/image/v2/images/{uuid.uuid4()}", token)
    assert image.status_code == 404
    bad_zone = three.raw(
        "POST",
        "/compute/v2.1/servers",
        token,
        json={
            "server": {
                "name": "x",
                "flavorRef": "1",
                "imageRef": "",
                "availability_zone": "nowhere",
            }
        },
    )
    assert bad_zone.status_code == 400 and "nowhere" in bad_zone.json()["badRequest"]["message"]
    unauthenticated = three.raw("GET", "/compute/v2.1/servers", "not-a-token")
    assert unauthenticated.status_code == 401


def test_pages_over_three_landlords_under_concurrent_creates(three: Cloud, tmp_path: Path) -> None:
    conn = three.sdk()
    images = {landlord: _image(three, tmp_path, landlord, "base") for landlord in LANDLORDS}
    for landlord in LANDLORDS:
        conn.compute.create_server(name=f"s-{landlord}", flavor_id="1", image_id=images[landlord],
                                   networks="none", availability_zone=landlord,
                                   min_count=6, max_count=6)  # fmt: skip
    before = {s.id for s in conn.compute.servers()}
    assert len(before) == 18
    stop = threading.Event()

    def create_more() -> None:
        more = three.sdk()
        for n in range(3):
            for landlord in LANDLORDS:
                more.compute.create_server(name=f"late-{n}", flavor_id="1", networks="none",
                                           image_id=images[landlord],
                                           availability_zone=landlord)  # fmt: skip
        stop.set()

    creator = threading.Thread(target=create_more)
    creator.start()
    seen = [s.id for s in conn.compute.servers(limit=4)]
    creator.join()
    assert stop.is_set()
    assert len(seen) == len(set(seen)), "a server was listed twice"
    assert before <= set(seen), "a server was skipped"
    everything = [s.id for s in conn.compute.servers(limit=5)]
    assert len(everything) == len(set(everything)) == 27


@pytest.mark.slow  # a live three-landlord exchange (the servers' test above is the default's)
def test_volume_pages_over_three_landlords_under_concurrent_creates(three: Cloud) -> None:
    bs = three.sdk().block_storage
    for landlord in LANDLORDS:
        for n in range(5):
            bs.create_volume(size=1, name=f"v{n}-{landlord}", availability_zone=landlord)
    before = {v.id for v in bs.volumes()}
    assert len(before) == 15

    def create_more(n: int) -> None:
        for landlord in LANDLORDS:
            more.create_volume(size=1, name=f"late-{n}", availability_zone=landlord)

    more = three.sdk().block_storage
    seen = _listed_while(create_more, (v.id for v in bs.volumes(limit=4)))
    assert len(seen) == len(set(seen)), "a volume was listed twice"
    assert before <= set(seen), "a volume was skipped"
    everything = [(v.id, v.availability_zone) for v in bs.volumes(limit=4)]
    assert len(everything) == len(set(everything)) == 24
    assert {zone for _, zone in everything} == set(LANDLORDS)
    # The region's limits are its landlords' summed: 10 volumes each, 8 used at each.
    absolute = bs.get_limits().absolute
    assert (absolute.max_total_volumes, absolute.total_volumes_used) == (30, 24)
    assert absolute.total_gigabytes_used == 24


@pytest.mark.slow  # a live three-landlord exchange
def test_image_pages_over_three_landlords_under_concurrent_creates(three: Cloud) -> None:
    conn = three.sdk()
    token = conn.auth_token

    def create(name: str) -> None:
        body = {"name": name, "disk_format": "raw", "container_format": "bare"}
        made = three.raw("POST", "/image/v2/images", token, json=body)
        assert made.status_code == 201, made.text

    for landlord in LANDLORDS:
        for n in range(5):
            create(f"i{n}@{landlord}")
    before = {i.id for i in conn.image.images()}
    assert len(before) == 15

    def create_more(n: int) -> None:
        for landlord in LANDLORDS:
            create(f"late-{n}@{landlord}")

    seen = _listed_while(create_more, (i.id for i in conn.image.images(limit=4)))
    assert len(seen) == len(set(seen)), "an image was listed twice"
    assert before <= set(seen), "an image was skipped"
    everything = [i.id for i in conn.image.images(limit=4)]
    assert len(everything) == len(set(everything)) == 24


def _listed_while(create: Callable[[int], None], pages: Iterator[str]) -> list[str]:
    """Every id of a paginated listing (pages of 4), with ``create(n)`` run between its first
    pages: new items appear at every landlord while the client is part-way through."""
    seen: list[str] = []
    for item in pages:
        seen.append(item)
        if len(seen) % 4 == 0 and len(seen) // 4 <= 3:
            create(len(seen) // 4)
    return seen


def test_a_landlord_down(three: Cloud, tmp_path: Path) -> None:
    conn = three.sdk()
    image = _image(three, tmp_path, "mit")
    server = conn.compute.create_server(name="at-mit", flavor_id="1", image_id=image,
                                        networks="none", availability_zone="mit")  # fmt: skip
    token = conn.auth_token
    Mixed(three.exchange).stop("mit", "compute")
    shown = three.raw("GET", f"/compute/v2.1/servers/{server.id}", token)
    assert shown.status_code == 503 and "mit" in shown.text
    listed = three.raw("GET", "/compute/v2.1/servers", token)
    assert listed.status_code == 200 and listed.json()["servers"] == []
    assert "mit" in listed.headers["X-OCX-Missing-Landlords"]
    unknown = three.raw("GET", f"/compute/v2.1/servers/{uuid.uuid4()}", token)
    assert unknown.status_code == 503 and "mit" in unknown.text


@pytest.mark.slow  # a live two-landlord exchange: 20 s at load 17
def test_version_documents_without_a_token_when_home_runs_no_volumes(
    exchange_factory: ExchangeFactory, tmp_path: Path
) -> None:
    away = make(exchange_factory(VOLUMES_AWAY), tmp_path)
    # As cinderclient (Horizon's) asks: no token, the root above /v3.
    bare = requests.get(away.proxy_url + "/volume/", timeout=30)
    assert bare.status_code == 300, bare.text  # stor's, which admits harvard's users
    (v3,) = bare.json()["versions"]
    assert (v3["min_version"], v3["version"]) == ("3.0", "3.67")
    assert v3["links"][-1]["href"].startswith(away.proxy_url + "/volume/")
    bs = away.sdk().block_storage
    data = bs.get_endpoint_data()
    assert (data.min_microversion, data.max_microversion) == ((3, 0), (3, 67))
    volume = bs.wait_for_status(bs.create_volume(size=1, name="v"), "available", wait=60)
    assert volume.availability_zone == "stor"
    attachment = bs.create_attachment(volume, connector={})  # 3.27, known from discovery
    assert [a.id for a in bs.attachments()] == [attachment.id]


def test_a_version_document_no_landlord_can_give_without_a_token_is_401(
    exchange_factory: ExchangeFactory, tmp_path: Path
) -> None:
    alone = make(exchange_factory({"harvard": {"parts": ["identity", "proxy"]}}), tmp_path)
    bare = requests.get(alone.proxy_url + "/volume/v3/", timeout=30)
    # keystoneauth's discovery asks again with the token (a 503 made it give up).
    assert bare.status_code == 401, bare.text
    assert "send your token" in bare.json()["unauthorized"]["message"]
