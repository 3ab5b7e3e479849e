"""The first things a client does: discovery, a volume through openstacksdk."""

from __future__ import annotations

import pytest
import requests
from openstack.connection import Connection

from tests.image.helpers import REGIONS
from tests.volume.conftest import Api, Customer, Landlord


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


def test_a_fleet_seeded_through_the_domain_layer_is_available_listed_and_real(
    stor: Landlord, alice: Customer, alice_conn: Connection
) -> None:
    """``volumes.seed`` (the dashboard's thousand volumes): available at once, listed newest
    first, each with its file, and an ordinary volume after that (deleted as any other)."""
    from ocx.volume import volumes
    from ocx.volume.caller import Caller

    svc = stor.service
    ids = stor.run(volumes.seed(svc, Caller(alice.project_id, alice.user_id), "fleet", 2, 30))
    listed = list(alice_conn.block_storage.volumes(details=True))
    assert [v.id for v in listed] == ids[::-1] and listed[0].name == "fleet-30"
    assert {(v.status, v.size) for v in listed} == {("available", 2)}
    assert all(svc.storage.volume(i).stat().st_size == 2 * 1024**3 for i in ids)
    first = alice_conn.block_storage.get_volume(ids[0])
    alice_conn.block_storage.delete_volume(first)
    alice_conn.block_storage.wait_for_delete(first, wait=60)
    assert not svc.storage.volume(ids[0]).exists()
