"""openstacksdk's ``block_storage`` proxy against a live landlord."""

from __future__ import annotations

import uuid
from pathlib import Path

import openstack.exceptions
import pytest
from openstack.connection import Connection

from tests.image.helpers import REGIONS
from tests.volume.conftest import Customer, Landlord
from tests.volume.nbdtools import nbdinfo, uri

# Each test as the landlord's own volume service sees it, and through its proxy (region ocx).
pytestmark = pytest.mark.parametrize("region", REGIONS)


def test_volumes_snapshots_clones(alice_conn: Connection) -> None:
    bs = alice_conn.block_storage
    vol = bs.create_volume(size=1, name="base", metadata={"tier": "gold"})
    bs.wait_for_status(vol, "available", interval=0.05, wait=30)
    snap = bs.create_snapshot(volume_id=vol.id, name="snap")
    snap = bs.wait_for_status(snap, "available", interval=0.05, wait=30)
    assert snap.size == 1
    assert [s.name for s in bs.snapshots()] == ["snap"]
    clone = bs.create_volume(snapshot_id=snap.id, name="from-snap")
    clone = bs.wait_for_status(clone, "available", interval=0.05, wait=30)
    assert clone.snapshot_id == snap.id and clone.size == 1
    copy = bs.create_volume(source_volume_id=vol.id, name="copy", size=2)
    copy = bs.wait_for_status(copy, "available", interval=0.05, wait=30)
    assert copy.size == 2
    assert sorted(v.name for v in bs.volumes()) == ["base", "copy", "from-snap"]
    assert [v.name for v in bs.volumes(name="copy")] == ["copy"]
    assert bs.find_volume("copy").id == copy.id
    assert bs.get_volume(vol.id).metadata == {"tier": "gold"}
    bs.set_volume_metadata(vol, color="blue")
    assert bs.get_volume(vol.id).metadata == {"tier": "gold", "color": "blue"}
    with pytest.raises(openstack.exceptions.BadRequestException, match="dependent snapshots"):
        bs.delete_volume(vol)
    bs.delete_snapshot(snap)
    bs.wait_for_delete(snap, interval=0.05, wait=30)
    for each in (vol, clone, copy):
        bs.delete_volume(each)
    assert list(bs.volumes()) == []


def test_attachments_through_the_sdk(alice_conn: Connection, tmp_path: Path) -> None:
    bs = alice_conn.block_storage
    vol = bs.wait_for_status(bs.create_volume(size=1), "available", interval=0.05, wait=30)
    server = str(uuid.uuid4())
    att = bs.create_attachment(vol, instance=server, connector={})
    assert att.status == "reserved"
    att = bs.update_attachment(att, connector={"host": "c1", "mountpoint": "/dev/vdc"})
    assert att.connection_info["driver_volume_type"] == "nbd"
    bs.complete_attachment(att)
    vol = bs.get_volume(vol.id)
    assert vol.status == "in-use" and vol.attachments[0]["server_id"] == server
    assert [a.id for a in bs.attachments()] == [att.id]
    assert nbdinfo(uri(att.connection_info, tmp_path), "--size").returncode == 0
    bs.begin_volume_detaching(vol)
    bs.delete_attachment(att)
    assert bs.get_volume(vol.id).status == "available"


def test_types_quotas_limits(stor: Landlord, alice: Customer) -> None:
    operator = stor.admin_customer().connect()
    bs = operator.block_storage
    gold = bs.create_type(name="gold", extra_specs={"volume_backend_name": "stor-gold"})
    assert gold.is_public is True
    names = {t.name for t in alice.connect().block_storage.types()}
    assert {"__DEFAULT__", "ssd", "gold"} <= names
    bs.update_quota_set(alice.project_id, volumes=3, gigabytes=5)
    quota = bs.get_quota_set(alice.project_id)
    assert quota.volumes == 3 and quota.gigabytes == 5
    mine = alice.connect().block_storage
    mine.create_volume(size=2, volume_type="gold")
    limits = mine.get_limits()
    assert limits.absolute.max_total_volumes == 3
    assert limits.absolute.total_gigabytes_used == 2
    usage = mine.get_quota_set(alice.project_id, usage=True)
    assert usage.usage["gigabytes"] == 2
    with pytest.raises(openstack.exceptions.HttpException) as over:
        mine.create_volume(size=4)
    assert over.value.status_code == 413
    operator.close()


def test_extensions(alice_conn: Connection, region: str) -> None:
    found = {e.name: e for e in alice_conn.block_storage.extensions()}
    assert {"QuotaSets", "VolumeActions", "TypesExtraSpecs", "VolumeTypeAccess"} <= set(found)
    assert found["QuotaSets"].alias == "os-quota-sets"
    assert ("AvailabilityZones" in found) == (region == "ocx")
