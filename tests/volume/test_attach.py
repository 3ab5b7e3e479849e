"""The attach flow and its NBD data path, read and written with nbdinfo and nbdcopy."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path
from typing import Any

from tests.volume.conftest import Api, Customer, Landlord, fault
from tests.volume.nbdtools import nbdcopy, nbdinfo, uri

GiB = 1024**3
CONNECTOR = {"ip": "127.0.0.1", "host": "compute-1", "mountpoint": "/dev/vdb"}


def attach(api: Api, volume_id: str, server: str | None = None) -> dict[str, Any]:
    """reserve → connect → complete, as a compute does; returns the attachment."""
    before = api.ok("GET", f"/volumes/{volume_id}")["volume"]["status"]
    body = {"volume_uuid": volume_id, "instance_uuid": server or str(uuid.uuid4())}
    att = api.ok("POST", "/attachments", {"attachment": body})["attachment"]
    assert att["status"] == "reserved" and att["connection_info"] is None
    after = api.ok("GET", f"/volumes/{volume_id}")["volume"]["status"]
    assert after == ("reserved" if before == "available" else before)
    doc = {"attachment": {"connector": CONNECTOR}}
    att = api.ok("PUT", f"/attachments/{att['id']}", doc)["attachment"]
    assert att["status"] == "attaching"
    api.ok("POST", f"/attachments/{att['id']}/action", {"os-complete": None}, status=204)
    return dict(att)


def test_attach_read_write_detach(stor: Landlord, api: Api, tmp_path: Path) -> None:
    vol = api.volume(1, name="data")
    server = str(uuid.uuid4())
    att = attach(api, vol["id"], server)
    info = att["connection_info"]
    assert info["driver_volume_type"] == "nbd"
    data = info["data"]
    assert data["name"] == vol["id"] and data["hosts"] == ["127.0.0.1"]
    assert data["uri"].startswith(f"nbds://{data['psk_identity']}@127.0.0.1:{data['ports'][0]}/")
    shown = api.ok("GET", f"/volumes/{vol['id']}")["volume"]
    assert shown["status"] == "in-use"
    (entry,) = shown["attachments"]
    assert entry["server_id"] == server and entry["device"] == "/dev/vdb"
    assert entry["attachment_id"] == att["id"]

    target = uri(info, tmp_path)
    size = nbdinfo(target, "--size")
    assert size.returncode == 0, size.stderr
    assert int(size.stdout) == GiB
    payload = tmp_path / "payload"
    payload.write_bytes(os.urandom(64 * 1024 * 1024))
    wrote = nbdcopy(str(payload), target)
    assert wrote.returncode == 0, wrote.stderr
    back = tmp_path / "back"
    read = nbdcopy(target, str(back))
    assert read.returncode == 0, read.stderr
    with open(back, "rb") as handle:
        assert handle.read(64 * 1024 * 1024) == payload.read_bytes()

    # Without the credentials: plaintext, no key, the wrong key.
    port = data["ports"][0]
    assert nbdinfo(f"nbd://127.0.0.1:{port}/{vol['id']}", "--size").returncode != 0
    assert nbdinfo(data["uri"], "--size").returncode != 0
    wrong = uri(info, tmp_path / "..", key="00" * 32)
    assert nbdinfo(wrong, "--size").returncode != 0

    # A plain user may not pull a connected attachment from under its server.
    refused = api("DELETE", f"/attachments/{att['id']}")
    assert "using the Compute API" in fault(refused, "conflictingRequest", 409)
    api.ok("POST", f"/volumes/{vol['id']}/action", {"os-begin_detaching": None}, status=202)
    api.ok("DELETE", f"/attachments/{att['id']}")
    assert api.ok("GET", f"/volumes/{vol['id']}")["volume"]["status"] == "available"
    assert nbdinfo(target, "--size").returncode != 0
    assert stor.service.exports.running() == {}


def test_other_attachments_key_is_refused(api: Api, tmp_path: Path) -> None:
    first = attach(api, api.volume(1)["id"])
    second = attach(api, api.volume(1)["id"])
    mine = first["connection_info"]
    theirs = dict(second["connection_info"]["data"])
    theirs["uri"] = mine["data"]["uri"].replace(
        mine["data"]["psk_identity"], theirs["psk_identity"]
    )
    stolen = uri({"data": theirs}, tmp_path)
    assert nbdinfo(stolen, "--size").returncode != 0
    assert nbdinfo(uri(mine, tmp_path), "--size").returncode == 0


def test_read_only_attachment(api: Api, tmp_path: Path) -> None:
    vol = api.volume(1)
    body = {"volume_uuid": vol["id"], "mode": "ro", "connector": CONNECTOR}
    att = api.ok("POST", "/attachments", {"attachment": body})["attachment"]
    assert att["attach_mode"] == "ro" and att["status"] == "attaching"
    target = uri(att["connection_info"], tmp_path)
    ro = nbdinfo(target, "--is", "read-only")
    assert ro.returncode == 0, ro.stderr


def test_second_attach_of_plain_volume_refused(api: Api) -> None:
    vol = api.volume(1)
    attach(api, vol["id"])
    again = api("POST", "/attachments", {"attachment": {"volume_uuid": vol["id"]}})
    assert "status must be available" in fault(again, "badRequest", 400)


def test_exports_come_back_after_restart(stor: Landlord, api: Api, tmp_path: Path) -> None:
    vol = api.volume(1)
    att = attach(api, vol["id"])
    target = uri(att["connection_info"], tmp_path)
    svc = stor.service
    stor.run(svc.exports.stop_all())
    assert nbdinfo(target, "--size").returncode != 0
    stor.run(svc.start())
    assert nbdinfo(target, "--size").returncode == 0
    assert list(svc.exports.running()) == [att["id"]]


def test_a_reservation_cut_off_by_a_restart_or_left_too_long_is_expired(
    stor: Landlord, api: Api
) -> None:
    vol = api.volume(1)
    body = {"attachment": {"volume_uuid": vol["id"], "instance_uuid": str(uuid.uuid4())}}
    left = api.ok("POST", "/attachments", body)["attachment"]
    assert api.ok("GET", f"/volumes/{vol['id']}")["volume"]["status"] == "reserved"
    again = api("POST", "/attachments", body)  # a live reservation still holds the volume
    assert "current status is reserved" in fault(again, "badRequest", 400)
    exports = stor.service.exports
    began = exports.since
    try:
        exports.since = time.time() + 1  # as if the process that made it had been killed
        fresh = api.ok("POST", "/attachments", body)["attachment"]
    finally:
        exports.since = began
    assert fresh["id"] != left["id"]
    assert api("GET", f"/attachments/{left['id']}").status_code == 404
    connected = api.ok("PUT", f"/attachments/{fresh['id']}", {"attachment": {"connector":
                       CONNECTOR}})["attachment"]  # fmt: skip
    assert connected["status"] == "attaching"
    settings = stor.service.settings
    stor.service.settings = settings.model_copy(update={"reservation_ttl": 0.0})
    try:  # connected but never completed for longer than the landlord allows
        third = api.ok("POST", "/attachments", body)["attachment"]
    finally:
        stor.service.settings = settings
    api.ok("PUT", f"/attachments/{third['id']}", {"attachment": {"connector": CONNECTOR}})
    api.ok("POST", f"/attachments/{third['id']}/action", {"os-complete": None}, status=204)
    assert api("GET", f"/attachments/{fresh['id']}").status_code == 404
    assert list(exports.running()) == [third["id"]]
    assert api.ok("GET", f"/volumes/{vol['id']}")["volume"]["status"] == "in-use"
    # A completed attachment never expires.
    refused = api("POST", "/attachments", body)
    assert "current status is in-use" in fault(refused, "badRequest", 400)


def test_other_project_cannot_touch(api: Api, bob: Customer) -> None:
    vol = api.volume(1)
    att = attach(api, vol["id"])
    theirs = Api(bob)
    for method, path in (
        ("GET", f"/volumes/{vol['id']}"),
        ("GET", f"/attachments/{att['id']}"),
        ("DELETE", f"/attachments/{att['id']}"),
        ("PUT", f"/volumes/{vol['id']}"),
    ):
        body = {"volume": {"name": "x"}} if method == "PUT" else None
        assert theirs(method, path, body).status_code == 404, (method, path)
    assert theirs.ok("GET", "/attachments")["attachments"] == []
    assert api.ok("GET", f"/attachments/{att['id']}")["attachment"]["status"] == "attached"


def test_multiattach_type(stor: Landlord, api: Api, tmp_path: Path) -> None:
    operator = Api(stor.admin_customer())
    specs = {"multiattach": "<is> True"}
    operator.ok("POST", "/types", {"volume_type": {"name": "shared", "extra_specs": specs}})
    vol = api.volume(1, volume_type="shared")
    assert vol["multiattach"] is True
    first, second = attach(api, vol["id"]), attach(api, vol["id"])
    for each in (first, second):
        assert nbdinfo(uri(each["connection_info"], tmp_path), "--size").returncode == 0
    api.ok("POST", f"/volumes/{vol['id']}/action", {"os-begin_detaching": None}, status=202)
    api.ok("DELETE", f"/attachments/{first['id']}")
    shown = api.ok("GET", f"/volumes/{vol['id']}")["volume"]
    assert shown["status"] == "in-use" and len(shown["attachments"]) == 1
    assert nbdinfo(uri(first["connection_info"], tmp_path), "--size").returncode != 0
    assert nbdinfo(uri(second["connection_info"], tmp_path), "--size").returncode == 0
