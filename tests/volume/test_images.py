"""Volumes from images, when the landlord runs the image part too."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from ocx.image.part import ImagePart
from ocx.volume.part import VolumePart
from tests.conftest import ExchangeFactory
from tests.image.helpers import REGIONS, Cloud, start_cloud
from tests.volume.conftest import LATEST
from tests.volume.nbdtools import nbdinfo

GiB = 1024**3


@pytest.fixture(params=REGIONS)
def cloud(exchange_factory: ExchangeFactory, request: pytest.FixtureRequest) -> Cloud:
    parts = {"image": ImagePart.for_landlord, "volume": VolumePart.for_landlord}
    return start_cloud(exchange_factory, parts, region=request.param)


def test_volume_from_image(cloud: Cloud, tmp_path: Path) -> None:
    user = cloud.user("alice")
    conn = user.connect()
    payload = os.urandom(3 * 1024 * 1024 + 11) + bytes(2 * 1024 * 1024) + b"tail"
    source = tmp_path / "disk.raw"
    source.write_bytes(payload)
    image = conn.image.create_image(
        "disk", filename=str(source), disk_format="raw", container_format="bare"
    )
    bs = conn.block_storage
    vol = bs.create_volume(image_id=image.id, name="booted")
    assert vol.status == "creating"
    vol = bs.wait_for_status(vol, "available", interval=0.05, wait=60)
    assert vol.size == 1 and vol.is_bootable is True
    headers = {"OpenStack-API-Version": f"volume {LATEST}"}
    att = bs.create_attachment(vol, connector={"host": "c1"})
    data = att.connection_info["data"]
    psk = tmp_path / "att.psk"
    psk.write_text(f"{data['psk_identity']}:{data['psk_key']}\n")
    target = f"{data['uri']}?tls-psk-file={psk}"
    assert nbdinfo(target, "--size").stdout.strip() == str(GiB)
    back = tmp_path / "back"
    done = subprocess.run(["nbdcopy", target, str(back)], capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr
    with open(back, "rb") as handle:
        assert handle.read(len(payload)) == payload
    missing = conn.block_storage.post(
        "/volumes",
        json={"volume": {"imageRef": "00000000-0000-0000-0000-000000000000"}},
        headers=headers,
    )
    assert missing.status_code == 400
    assert "unable to access requested image" in missing.json()["badRequest"]["message"]
    small = conn.block_storage.post(
        "/volumes", json={"volume": {"imageRef": image.id, "size": 1}}, headers=headers
    )
    assert small.status_code == 202
    conn.close()
