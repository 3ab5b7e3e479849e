"""Refusals, each in Cinder's fault format, with nothing changed."""

from __future__ import annotations

import uuid

import pytest

from tests.volume.conftest import Api, Customer, Landlord, fault


def test_bad_microversions(api: Api) -> None:
    assert api("GET", "/volumes", version="2.0").status_code == 406
    bad = api("GET", "/volumes", version="three")
    assert "invalid format" in fault(bad, "badRequest", 400)
    latest = api("GET", "/volumes", version="latest")
    assert latest.headers["OpenStack-API-Version"] == "volume 3.67"
    assert api("GET", "/volumes", version=None).headers["OpenStack-API-Version"] == "volume 3.0"
    assert api("GET", "/attachments", version="3.26").status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"volume": {"size": 1, "colour": "red"}},
        {"volume": {"size": "big"}},
        {"volume": {"size": 0}},
        {"volume": {"size": True}},
        {"volume": {"size": 1, "metadata": {"k": 1}}},
        {"volume": {"size": 1, "name": "x" * 256}},
        {"volume": {"name": "no size"}},
        {"volume": None},
        {"volumes": {"size": 1}},
        [1, 2],
    ],
)
def test_malformed_volume_bodies(api: Api, body: object) -> None:
    resp = api("POST", "/volumes", body)
    fault(resp, "badRequest", 400)
    assert api.ok("GET", "/volumes")["volumes"] == []


def test_not_json_and_explicit_nulls(api: Api) -> None:
    resp = api("POST", "/volumes", data=b"{not json", headers={"Content-Type": "application/json"})
    fault(resp, "badRequest", 400)
    nulls = dict.fromkeys(
        (
            "snapshot_id",
            "description",
            "volume_type",
            "availability_zone",
            "metadata",
            "imageRef",
            "source_volid",
            "consistencygroup_id",
            "backup_id",
        ),
    )
    made = api.volume(1, name="nulls", **nulls)
    assert made["status"] == "available" and made["metadata"] == {}


def test_illegal_transitions(api: Api) -> None:
    vol = api.volume(1)
    action = f"/volumes/{vol['id']}/action"
    detaching = api("POST", action, {"os-begin_detaching": None})
    assert "must be 'in-use'" in fault(detaching, "badRequest", 400)
    shrink = api("POST", action, {"os-extend": {"new_size": 1}})
    assert "must be greater than current size" in fault(shrink, "badRequest", 400)
    unknown = api("POST", action, {"os-fly": None})
    assert "no such action" in fault(unknown, "badRequest", 400)
    att = api.ok("POST", "/attachments", {"attachment": {"volume_uuid": vol["id"]}})
    early = api("POST", f"/attachments/{att['attachment']['id']}/action", {"os-complete": None})
    assert "must be connected" in fault(early, "badRequest", 400)
    busy = api("DELETE", f"/volumes/{vol['id']}")
    assert "current status: reserved" in fault(busy, "badRequest", 400)
    extend = api("POST", action, {"os-extend": {"new_size": 2}})
    assert "to extend, currently reserved" in fault(extend, "badRequest", 400)
    shown = api.ok("GET", f"/volumes/{vol['id']}")["volume"]
    assert (shown["status"], shown["size"]) == ("reserved", 1)


def test_extend_in_use_needs_342(api: Api) -> None:
    vol = api.volume(1)
    body = {"volume_uuid": vol["id"], "connector": {"host": "c1"}}
    att = api.ok("POST", "/attachments", {"attachment": body})["attachment"]
    api.ok("POST", f"/attachments/{att['id']}/action", {"os-complete": None}, status=204)
    old = api("POST", f"/volumes/{vol['id']}/action", {"os-extend": {"new_size": 2}}, "3.41")
    fault(old, "badRequest", 400)
    api.ok("POST", f"/volumes/{vol['id']}/action", {"os-extend": {"new_size": 2}}, status=202)
    assert api.ok("GET", f"/volumes/{vol['id']}")["volume"]["size"] == 2


def test_over_quota(stor: Landlord, alice: Customer, api: Api) -> None:
    operator = Api(stor.admin_customer())
    limits = {"quota_set": {"volumes": 2, "gigabytes": 3, "snapshots": 1}}
    operator.ok("PUT", f"/os-quota-sets/{alice.project_id}", limits)
    first = api.volume(2)
    too_big = api("POST", "/volumes", {"volume": {"size": 2}})
    message = fault(too_big, "overLimit", 413)
    assert message == (
        "VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed "
        "gigabytes quota. Requested 2G, quota is 3G and 2G has been consumed."
    )
    api.volume(1)
    third = api("POST", "/volumes", {"volume": {"size": 1}})
    assert "Maximum number of volumes allowed (2)" in fault(third, "overLimit", 413)
    grow = api("POST", f"/volumes/{first['id']}/action", {"os-extend": {"new_size": 3}})
    fault(grow, "overLimit", 413)
    snap = api("POST", "/snapshots", {"snapshot": {"volume_id": first["id"]}})
    fault(snap, "overLimit", 413)
    assert len(api.ok("GET", "/volumes")["volumes"]) == 2
    assert api.ok("GET", f"/volumes/{first['id']}")["volume"]["size"] == 2


def test_per_type_quota(stor: Landlord, alice: Customer, api: Api) -> None:
    operator = Api(stor.admin_customer())
    operator.ok("PUT", f"/os-quota-sets/{alice.project_id}", {"quota_set": {"volumes_ssd": 1}})
    api.volume(1, volume_type="ssd")
    again = api("POST", "/volumes", {"volume": {"size": 1, "volume_type": "ssd"}})
    assert "quota 'volumes_ssd'" in fault(again, "overLimit", 413)
    api.volume(1)


def test_other_projects_are_404(api: Api, bob: Customer, alice: Customer) -> None:
    vol = api.volume(1, name="mine")
    snap = api.ok("POST", "/snapshots", {"snapshot": {"volume_id": vol["id"]}}, status=202)
    theirs = Api(bob)
    missing = theirs("GET", f"/volumes/{vol['id']}")
    assert fault(missing, "itemNotFound", 404) == f"Volume {vol['id']} could not be found."
    for method, path, body in (
        ("DELETE", f"/volumes/{vol['id']}", None),
        ("POST", f"/volumes/{vol['id']}/action", {"os-extend": {"new_size": 5}}),
        ("POST", f"/volumes/{vol['id']}/metadata", {"metadata": {"a": "b"}}),
        ("GET", f"/snapshots/{snap['snapshot']['id']}", None),
        ("DELETE", f"/snapshots/{snap['snapshot']['id']}", None),
        ("POST", "/snapshots", {"snapshot": {"volume_id": vol["id"]}}),
        ("POST", "/volumes", {"volume": {"source_volid": vol["id"]}}),
        ("POST", "/attachments", {"attachment": {"volume_uuid": vol["id"]}}),
    ):
        assert theirs(method, path, body).status_code == 404, (method, path)
    assert theirs.ok("GET", "/volumes/detail")["volumes"] == []
    quota = theirs("GET", f"/os-quota-sets/{alice.project_id}")
    fault(quota, "forbidden", 403)
    shown = api.ok("GET", f"/volumes/{vol['id']}")["volume"]
    assert (shown["status"], shown["size"], shown["metadata"]) == ("available", 1, {})
    assert len(api.ok("GET", "/volumes")["volumes"]) == 1


def test_plain_users_cannot_manage_types_or_quotas(api: Api, alice: Customer) -> None:
    made = api("POST", "/types", {"volume_type": {"name": "mine"}})
    fault(made, "forbidden", 403)
    quota = api("PUT", f"/os-quota-sets/{alice.project_id}", {"quota_set": {"volumes": 99}})
    fault(quota, "forbidden", 403)
    force = api("DELETE", f"/volumes/{api.volume(1)['id']}?force=true")
    fault(force, "forbidden", 403)
    unknown = api("GET", f"/volumes/{uuid.uuid4()}")
    fault(unknown, "itemNotFound", 404)
    assert api("GET", "/volumes?colour=red").status_code == 400


def test_private_type_access(stor: Landlord, alice: Customer, api: Api) -> None:
    operator = Api(stor.admin_customer())
    body = {"volume_type": {"name": "secret", "os-volume-type-access:is_public": False}}
    secret = operator.ok("POST", "/types", body)["volume_type"]
    assert "secret" not in {t["name"] for t in api.ok("GET", "/types")["volume_types"]}
    fault(
        api("POST", "/volumes", {"volume": {"size": 1, "volume_type": "secret"}}),
        "itemNotFound",
        404,
    )
    grant = {"addProjectAccess": {"project": alice.project_id}}
    operator.ok("POST", f"/types/{secret['id']}/action", grant, status=202)
    assert api.volume(1, volume_type="secret")["volume_type"] == "secret"
    listed = operator.ok("GET", f"/types/{secret['id']}/os-volume-type-access")
    assert listed["volume_type_access"][0]["project_id"] == alice.project_id
    in_use = operator("DELETE", f"/types/{secret['id']}")
    assert "still in use" in fault(in_use, "badRequest", 400)
