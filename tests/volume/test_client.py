"""``ocx.volume.client``: the attach flow as another landlord's compute runs it."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest

from ocx.volume.client import VolumeClient, VolumeError
from tests.volume.conftest import Api, Customer
from tests.volume.nbdtools import nbdinfo


def test_attach_and_detach_with_the_client(alice: Customer, api: Api, tmp_path: Path) -> None:
    vol = api.volume(1)
    server = str(uuid.uuid4())

    async def flow() -> None:
        async with VolumeClient(api.base, api.token) as cinder:
            attached = await cinder.attach(vol["id"], server, {"host": "c1", "ip": "127.0.0.1"})
            target = attached.info.libnbd_uri(attached.info.write_psk(tmp_path))
            assert nbdinfo(target, "--size").returncode == 0
            assert (await cinder.volume(vol["id"]))["status"] == "in-use"
            with pytest.raises(VolumeError) as busy:
                await cinder.attach(vol["id"], server, {"host": "c1"})
            assert busy.value.status == 400 and "must be available" in busy.value.message
            await cinder.detach(vol["id"], attached.attachment_id)
            assert (await cinder.volume(vol["id"]))["status"] == "available"
            assert nbdinfo(target, "--size").returncode != 0

    asyncio.run(flow())


def test_client_reports_cinder_faults(api: Api) -> None:
    async def flow() -> None:
        async with VolumeClient(api.base, "not-a-token") as cinder:
            with pytest.raises(VolumeError) as denied:
                await cinder.volume(str(uuid.uuid4()))
            assert denied.value.status == 401

    asyncio.run(flow())
