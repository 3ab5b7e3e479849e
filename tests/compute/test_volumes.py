"""Volumes of the same landlord attached to servers: the Cinder flow, and a guest that
really reads and writes the volume over NBD with the attachment's own key."""

from __future__ import annotations

import base64
import hashlib
import time
from pathlib import Path

import pytest

from ocx.compute.part import ComputePart
from ocx.image.part import ImagePart
from ocx.volume.part import VolumePart
from tests.compute.helpers import Nova, fault
from tests.conftest import ExchangeFactory
from tests.image.helpers import Cloud, User, start_cloud

WORKLOAD = """\
# the guest's workload: waits for vdb, then writes and reads it back
echo starting
write vdb 4096 hello-over-nbd
read vdb 4096 14
checksum vdb 4096 14
"""


@pytest.fixture
def cloud(exchange_factory: ExchangeFactory) -> Cloud:
    parts = {
        "image": ImagePart.for_landlord,
        "volume": VolumePart.for_landlord,
        "compute": ComputePart.for_landlord,
    }
    return start_cloud(exchange_factory, parts)


def _console(nova: Nova, server_id: str, needle: str, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while True:
        resp = nova.call("POST", f"/servers/{server_id}/action", {"os-getConsoleOutput": {}})
        text = str(resp.json()["output"])
        if needle in text or time.monotonic() > deadline:
            assert needle in text, text
            return text
        time.sleep(0.05)


def _volume_file(cloud: Cloud, volume_id: str) -> Path:
    volume = next(r.service for r in cloud.exchange.running if r.part == "volume")
    path: Path = volume.service.storage.volume(volume_id)  # type: ignore[attr-defined]
    return path


def test_add_and_remove_volume_with_the_cli(cloud: Cloud, alice: User, image_id: str) -> None:
    user_data = base64.b64encode(WORKLOAD.encode()).decode()
    nova = Nova(cloud, alice)
    server = nova.boot("s1", image_id, user_data=user_data)
    nova.wait(server["id"], "ACTIVE")
    _console(nova, server["id"], "waiting for vdb")
    volume = alice.cli("volume", "create", "--size", "1", "v1", "-f", "json")
    conn = alice.connect()
    conn.block_storage.wait_for_status(conn.block_storage.get_volume(volume["id"]), "available")
    added = alice.cli("server", "add", "volume", "s1", "v1", "-f", "json")
    assert added["Device"] == "/dev/vdb" and added["Volume ID"] == volume["id"]
    text = _console(nova, server["id"], "checksum vdb")
    assert "ocx-guest: read vdb 4096+14 'hello-over-nbd'" in text
    digest = hashlib.sha256(b"hello-over-nbd").hexdigest()
    assert f"ocx-guest: checksum vdb 4096+14 sha256={digest}" in text
    with _volume_file(cloud, volume["id"]).open("rb") as raw_file:
        raw_file.seek(4096)
        assert raw_file.read(14) == b"hello-over-nbd"  # the write reached the volume
    shown = alice.cli("volume", "show", "v1", "-f", "json")
    assert shown["status"] == "in-use"
    listed = nova.call("GET", f"/servers/{server['id']}/os-volume_attachments").json()
    assert [a["volumeId"] for a in listed["volumeAttachments"]] == [volume["id"]]
    assert nova.server(server["id"])["os-extended-volumes:volumes_attached"] == [
        {"id": volume["id"], "delete_on_termination": False}
    ]
    alice.cli("server", "remove", "volume", "s1", "v1")
    assert alice.cli("volume", "show", "v1", "-f", "json")["status"] == "available"
    _console(nova, server["id"], "[vdb] detached")


def test_attach_refusals(cloud: Cloud, alice: User, bob: User, image_id: str) -> None:
    nova = Nova(cloud, alice)
    server = nova.boot("s2", image_id)
    path = f"/servers/{server['id']}/os-volume_attachments"
    nova.wait(server["id"], "ACTIVE")
    missing = nova.call("POST", path, {"volumeAttachment": {"volumeId": "no-such-volume"}})
    assert "could not be found" in fault(missing, "itemNotFound", 404)
    bobs = bob.connect().block_storage.create_volume(size=1, name="bobs")
    bob.connect().block_storage.wait_for_status(bobs, "available")
    other = nova.call("POST", path, {"volumeAttachment": {"volumeId": bobs.id}})
    fault(other, "itemNotFound", 404)
    conn = alice.connect()
    vol = conn.block_storage.create_volume(size=1, name="mine")
    conn.block_storage.wait_for_status(vol, "available")
    assert nova.call("POST", path, {"volumeAttachment": {"volumeId": vol.id}}).status_code == 200
    again = nova.call("POST", path, {"volumeAttachment": {"volumeId": vol.id}})
    fault(again, "badRequest", 400)
    fault(Nova(cloud, bob).call("DELETE", f"{path}/{vol.id}"), "itemNotFound", 404)
    # deleting the server ends the attachment at Cinder: the volume is free again
    assert nova.call("DELETE", f"/servers/{server['id']}").status_code == 204
    conn.block_storage.wait_for_status(conn.block_storage.get_volume(vol.id), "available")


def test_a_restarted_compute_reconnects_its_guests(
    cloud: Cloud, alice: User, image_id: str
) -> None:
    from ocx.compute.service import ComputeService

    nova = Nova(cloud, alice)
    server = nova.boot("s3", image_id, user_data=base64.b64encode(b"write vdb 0 kept\n").decode())
    nova.wait(server["id"], "ACTIVE")
    conn = alice.connect()
    vol = conn.block_storage.create_volume(size=1, name="kept")
    conn.block_storage.wait_for_status(vol, "available")
    path = f"/servers/{server['id']}/os-volume_attachments"
    assert nova.call("POST", path, {"volumeAttachment": {"volumeId": vol.id}}).status_code == 200
    running = next(r.service for r in cloud.exchange.running if r.part == "compute")
    settings = running.service.settings  # type: ignore[attr-defined]
    again = ComputeService(settings)
    call = cloud.exchange.background.call  # type: ignore[attr-defined]
    call(again.start())
    try:
        assert len(again.attacher.disks) == 1
        disk = next(iter(again.attacher.disks.values()))
        assert call(disk.pread(4, 0)) == b"kept"
    finally:
        call(again.stop())


def test_boot_from_a_volume_with_the_cli(cloud: Cloud, alice: User, tmp_path: Path) -> None:
    """``openstack server create --volume``: the volume is the root disk (vda) the guest's
    workload writes and reads over NBD; deleting the server gives the volume back."""
    conn = alice.connect()
    root = alice.cli("volume", "create", "--size", "1", "root", "-f", "json")
    conn.block_storage.wait_for_status(conn.block_storage.get_volume(root["id"]), "available")
    workload = tmp_path / "workload.txt"
    workload.write_text("write vda 0 root-disk\nchecksum vda 0 9\n")
    made = alice.cli("server", "create", "--volume", "root", "--flavor", "m1.tiny", "--nic",
                     "none", "--user-data", str(workload), "--wait", "bfv",
                     "-f", "json")  # fmt: skip
    assert made["status"] == "ACTIVE"
    nova = Nova(cloud, alice)
    digest = hashlib.sha256(b"root-disk").hexdigest()
    _console(nova, made["id"], f"ocx-guest: checksum vda 0+9 sha256={digest}")
    with _volume_file(cloud, root["id"]).open("rb") as raw_file:
        assert raw_file.read(9) == b"root-disk"
    attached = nova.server(made["id"])["os-extended-volumes:volumes_attached"]
    assert attached == [{"id": root["id"], "delete_on_termination": False}]
    assert alice.cli("volume", "show", "root", "-f", "json")["status"] == "in-use"
    refused = alice.cli("server", "create", "--volume", "root", "--flavor", "m1.tiny", "--nic",
                        "none", "again", ok=False)  # fmt: skip
    assert f"Invalid volume: volume {root['id']} status must be available" in refused
    missing = {
        "name": "x",
        "flavorRef": "1",
        "networks": "none",
        "block_device_mapping_v2": [
            {"boot_index": 0, "uuid": "nope", "source_type": "volume", "destination_type": "volume"}
        ],
    }
    resp = nova.call("POST", "/servers", {"server": missing})
    assert "failed to get volume nope" in fault(resp, "badRequest", 400)
    new = {**missing, "block_device_mapping_v2": [{"boot_index": 0, "uuid": "i",
           "source_type": "image", "destination_type": "volume", "volume_size": 1}]}  # fmt: skip
    assert "Only an existing volume" in fault(nova.call("POST", "/servers", {"server": new}),
                                              "badRequest", 400)  # fmt: skip
    alice.cli("server", "delete", "--wait", "bfv")
    assert alice.cli("volume", "show", "root", "-f", "json")["status"] == "available"
