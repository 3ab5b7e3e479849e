"""The first things a client does: discovery, a volume through openstacksdk."""

from __future__ import annotations

import pytest
import requests
from openstack.connection import Connection

from tests.image.helpers import REGIONS
from tests.volume.conftest import Api, Landlord


def test_version_documents(stor: Landlord) -> None:
    root = requests.get(stor.volume_url + "/", timeout=10)
    assert root.status_code == 300
    (doc,) = root.json()["versions"]
    assert doc["id"] == "v3.0" and doc["status"] == "CURRENT"
    assert doc["min_version"] == "3.0" and doc["version"] == "3.67"
    v3 = requests.get(stor.volume_url + "/v3/", timeout=10)
    assert v3.status_code == 200
    assert v3.json()["versions"][0]["links"][1]["href"] == stor.volume_url + "/v3/"


@pytest.mark.parametrize("region", REGIONS)
def test_sdk_volume_lifecycle(alice_conn: Connection) -> None:
    bs = alice_conn.block_storage
    vol = bs.create_volume(size=1, name="v1")
    vol = bs.wait_for_status(vol, "available", interval=0.05, wait=30)
    assert vol.size == 1 and vol.is_bootable is False
    assert [v.name for v in bs.volumes()] == ["v1"]
    bs.extend_volume(vol, 2)
    assert bs.get_volume(vol.id).size == 2
    bs.delete_volume(vol)
    bs.wait_for_delete(vol, interval=0.05, wait=30)


def test_microversion_echo_and_406(api: Api) -> None:
    resp = api("GET", "/volumes", version="3.50")
    assert resp.headers["OpenStack-API-Version"] == "volume 3.50"
    assert "OpenStack-API-Version" in resp.headers["Vary"]
    bad = api("GET", "/volumes", version="3.99")
    assert bad.status_code == 406
    assert bad.json() == {
        "computeFault": {
            "code": 406,
            "message": "Version 3.99 is not supported by the API. Minimum is 3.0 and "
            "maximum is 3.67.",
        }
    }
