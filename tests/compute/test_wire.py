"""Nova v2.1 on the wire: microversions, faults, bulk create, filters, actions, quotas."""

from __future__ import annotations

import base64
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.compute.helpers import Nova, fault
from tests.image.helpers import Cloud, User, raw


def test_version_documents_need_no_token(cloud: Cloud) -> None:
    root = raw("GET", cloud.urls["compute"] + "/").json()["versions"][0]
    assert root["id"] == "v2.1" and root["version"] == "2.100" and root["min_version"] == "2.1"
    assert raw("GET", cloud.urls["compute"] + "/v2.1/").json()["version"]["status"] == "CURRENT"


@pytest.mark.parametrize(
    ("header", "status", "name", "text"),
    [
        ({"OpenStack-API-Version": "compute 2.101"}, 406, "computeFault",
         "Version 2.101 is not supported by the API. Minimum is 2.1 and maximum is 2.100."),
        ({"X-OpenStack-Nova-API-Version": "3.0"}, 406, "computeFault", "Version 3.0 is not"),
        ({"OpenStack-API-Version": "compute 2.x"}, 400, "badRequest", "is of invalid format"),
    ],
)  # fmt: skip
def test_microversion_out_of_range(
    cloud: Cloud, alice: User, header: dict[str, str], status: int, name: str, text: str
) -> None:
    resp = raw("GET", cloud.urls["compute"] + "/v2.1/servers", alice.token(), headers=header)
    assert text in fault(resp, name, status)


def test_microversion_is_echoed(cloud: Cloud, alice: User) -> None:
    nova = Nova(cloud, alice, "2.79")
    resp = nova.call("GET", "/flavors")
    assert resp.headers["OpenStack-API-Version"] == "compute 2.79"
    assert resp.headers["X-OpenStack-Nova-API-Version"] == "2.79"
    latest = nova.call("GET", "/flavors", **{"OpenStack-API-Version": "compute latest"})
    assert latest.headers["OpenStack-API-Version"] == "compute 2.100"
    plain = raw("GET", nova.url + "/flavors", nova.token)
    assert plain.headers["OpenStack-API-Version"] == "compute 2.1"


def test_boot_faults(cloud: Cloud, alice: User, image_id: str) -> None:
    nova = Nova(cloud, alice)
    cases = [
        ({"name": "s", "imageRef": image_id, "flavorRef": "1"}, "'networks' is a required"),
        ({"name": "s", "imageRef": image_id, "flavorRef": "1", "networks": "none", "colour": 1},
         "Additional properties are not allowed ('colour' were unexpected)"),
        ({"name": "s", "imageRef": image_id, "flavorRef": "99", "networks": "none"},
         "Flavor 99 could not be found."),
        ({"name": "s", "imageRef": "nope", "flavorRef": "1", "networks": "none"},
         "Image nope could not be found."),
        ({"name": "s", "imageRef": image_id, "flavorRef": "1", "networks": "none",
          "user_data": "%%%"}, "User data needs to be valid base 64."),
        ({"name": "", "imageRef": image_id, "flavorRef": "1", "networks": "none"}, "name"),
        ({"name": "s", "imageRef": image_id, "flavorRef": "1", "networks": "none",
          "min_count": 3, "max_count": 2}, "min_count must be <= max_count"),
        ({"name": "s", "imageRef": image_id, "flavorRef": "1", "networks": "none",
          "key_name": "ghost"}, "Invalid key_name provided."),
        ({"name": "s", "imageRef": image_id, "flavorRef": "1",
          "networks": [{"uuid": "net-1"}]}, "Network net-1 could not be found."),
    ]  # fmt: skip
    for server, text in cases:
        assert text in fault(nova.call("POST", "/servers", {"server": server}), "badRequest", 400)
    bad_json = raw("POST", nova.url + "/servers", nova.token, data=b"{", headers={
        "Content-Type": "application/json"})  # fmt: skip
    assert "Malformed request body" in fault(bad_json, "badRequest", 400)
    assert fault(raw("GET", nova.url + "/servers"), "unauthorized", 401)


def test_bulk_create_names_quota_and_pagination(cloud: Cloud, alice: User, image_id: str) -> None:
    nova = Nova(cloud, alice)
    first = nova.boot("web", image_id, min_count=2, max_count=4)
    assert nova.server(first["id"])["name"] == "web-1"
    listed = nova.call("GET", "/servers/detail").json()["servers"]
    assert sorted(s["name"] for s in listed) == ["web-1", "web-2", "web-3", "web-4"]
    # the quota (10 instances) leaves room for 6: max_count 8 gives 6, min_count 7 is refused
    message = fault(
        nova.call("POST", "/servers", {"server": {"name": "x", "imageRef": image_id,
                  "flavorRef": "1", "networks": "none", "min_count": 7, "max_count": 8}}),
        "forbidden", 403,
    )  # fmt: skip
    assert (
        message == "Quota exceeded for instances: Requested 7, but already used 4 of 10 instances"
    )
    nova.boot("more", image_id, min_count=1, max_count=8)
    assert len(nova.call("GET", "/servers").json()["servers"]) == 10
    names: list[str] = []
    page = nova.call("GET", "/servers?limit=3").json()
    while True:
        names += [s["name"] for s in page["servers"]]
        links = page.get("servers_links")
        if not links:
            break
        page = raw("GET", links[0]["href"], nova.token).json()
    assert len(names) == 10 and len(set(names)) == 10
    assert names[0] == "more-6"  # newest first
    regex = nova.call("GET", "/servers?name=^web-[12]$").json()["servers"]
    assert sorted(s["name"] for s in regex) == ["web-1", "web-2"]
    assert "marker [nope] not found" in fault(
        nova.call("GET", "/servers?marker=nope"), "badRequest", 400
    )


def test_a_deleted_server_stays_a_valid_marker(
    cloud: Cloud, alice: User, bob: User, image_id: str
) -> None:
    """As in Nova: a client (or the proxy) paging past a server deleted meanwhile goes on."""
    nova = Nova(cloud, alice)
    nova.boot("page", image_id, min_count=3, max_count=3)
    first = nova.call("GET", "/servers?limit=1").json()["servers"][0]
    assert first["name"] == "page-3"
    assert nova.call("DELETE", f"/servers/{first['id']}").status_code == 204
    rest = nova.call("GET", f"/servers?marker={first['id']}").json()["servers"]
    assert [s["name"] for s in rest] == ["page-2", "page-1"]
    other = Nova(cloud, bob)  # another project's deleted server is no marker of bob's
    assert f"marker [{first['id']}] not found" in fault(
        other.call("GET", f"/servers?marker={first['id']}"), "badRequest", 400
    )


def test_lifecycle_conflicts_lock_and_console(cloud: Cloud, alice: User, image_id: str) -> None:
    nova = Nova(cloud, alice)
    user_data = base64.b64encode(b"echo hello from the guest\nsize vdb\n").decode()
    server = nova.boot("life", image_id, user_data=user_data)
    sid = server["id"]
    nova.wait(sid, "ACTIVE")
    assert "while it is in vm_state active" in fault(
        nova.call("POST", f"/servers/{sid}/action", {"os-start": None}), "conflictingRequest", 409
    )
    assert nova.call("POST", f"/servers/{sid}/action", {"os-stop": None}).status_code == 202
    shown = nova.wait(sid, "SHUTOFF")
    assert shown["OS-EXT-STS:power_state"] == 4 and shown["OS-EXT-STS:task_state"] is None
    assert nova.call("POST", f"/servers/{sid}/action", {"os-start": None}).status_code == 202
    nova.wait(sid, "ACTIVE")
    for action, status in (("pause", "PAUSED"), ("unpause", "ACTIVE"), ("suspend", "SUSPENDED"),
                           ("resume", "ACTIVE")):  # fmt: skip
        assert nova.call("POST", f"/servers/{sid}/action", {action: None}).status_code == 202
        nova.wait(sid, status)
    lock = {"lock": {"locked_reason": "maintenance"}}
    assert nova.call("POST", f"/servers/{sid}/action", lock).status_code == 202
    shown = nova.server(sid)
    assert shown["locked"] is True and shown["locked_reason"] == "maintenance"
    assert "is locked" in fault(nova.call("DELETE", f"/servers/{sid}"), "conflictingRequest", 409)
    assert nova.call("POST", f"/servers/{sid}/action", {"unlock": None}).status_code == 202
    output = nova.call("POST", f"/servers/{sid}/action", {"os-getConsoleOutput": {"length": 50}})
    text = output.json()["output"]
    assert "ocx-guest: hello from the guest" in text and "waiting for vdb" in text
    assert "no such action" in fault(
        nova.call("POST", f"/servers/{sid}/action", {"explode": None}), "badRequest", 400
    )
    assert nova.call("DELETE", f"/servers/{sid}").status_code == 204
    assert "could not be found" in fault(nova.call("GET", f"/servers/{sid}"), "itemNotFound", 404)


def test_no_valid_host_is_an_error_server(
    cloud: Cloud, root: User, alice: User, image_id: str
) -> None:
    admin = Nova(cloud, root)
    big = {"name": "huge", "vcpus": 4, "ram": 1024, "disk": 1, "id": "huge"}
    assert admin.call("POST", "/flavors", {"flavor": big}).status_code == 200
    spec = {"extra_specs": {"trait:CUSTOM_FPGA": "required"}}
    assert admin.call("POST", "/flavors/huge/os-extra_specs", spec).status_code == 200
    nova = Nova(cloud, alice)
    server = nova.boot("nowhere", image_id, flavorRef="huge")
    shown = nova.server(server["id"])
    assert shown["status"] == "ERROR"
    assert shown["fault"]["message"].startswith("No valid host was found")


def test_other_projects_servers_are_not_found(
    cloud: Cloud, alice: User, bob: User, image_id: str
) -> None:
    server = Nova(cloud, alice).boot("mine", image_id)
    nova = Nova(cloud, bob)
    for method, path in (("GET", ""), ("DELETE", ""), ("POST", "/action")):
        body = {"os-stop": None} if method == "POST" else None
        resp = nova.call(method, f"/servers/{server['id']}{path}", body)
        fault(resp, "itemNotFound", 404)
    assert nova.call("GET", "/servers").json()["servers"] == []


def test_admin_only_apis_are_refused(cloud: Cloud, alice: User) -> None:
    nova = Nova(cloud, alice)
    for path in ("/os-hypervisors", "/os-hypervisors/detail", "/os-services"):
        fault(nova.call("GET", path), "forbidden", 403)
    flavor = {"flavor": {"name": "f", "vcpus": 1, "ram": 1, "disk": 0}}
    fault(nova.call("POST", "/flavors", flavor), "forbidden", 403)
    fault(nova.call("PUT", "/os-quota-sets/" + alice.project_id, {"quota_set": {"cores": 99}}),
          "forbidden", 403)  # fmt: skip


def test_private_flavor_access(cloud: Cloud, root: User, alice: User, bob: User) -> None:
    admin = Nova(cloud, root)
    private = {"name": "secret", "vcpus": 1, "ram": 64, "disk": 0, "id": "secret",
               "os-flavor-access:is_public": False}  # fmt: skip
    assert admin.call("POST", "/flavors", {"flavor": private}).status_code == 200
    grant = {"addTenantAccess": {"tenant": alice.project_id}}
    listed = admin.call("POST", "/flavors/secret/action", grant).json()["flavor_access"]
    assert listed == [{"flavor_id": "secret", "tenant_id": alice.project_id}]
    assert Nova(cloud, alice).call("GET", "/flavors/secret").status_code == 200
    fault(Nova(cloud, bob).call("GET", "/flavors/secret"), "itemNotFound", 404)


def test_keypairs_tags_and_metadata(cloud: Cloud, alice: User, image_id: str) -> None:
    nova = Nova(cloud, alice, "2.79")
    made = nova.call("POST", "/os-keypairs", {"keypair": {"name": "k1"}})
    assert made.status_code == 201 and "PRIVATE KEY" in made.json()["keypair"]["private_key"]
    fault(nova.call("POST", "/os-keypairs", {"keypair": {"name": "k1"}}), "conflictingRequest", 409)
    imported = {"name": "k2", "public_key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB0= x@y"}
    assert nova.call("POST", "/os-keypairs", {"keypair": imported}).status_code == 201
    names = [k["keypair"]["name"] for k in nova.call("GET", "/os-keypairs").json()["keypairs"]]
    assert names == ["k1", "k2"]
    server = nova.boot("tagged", image_id, key_name="k1", metadata={"a": "1"}, tags=["x"])
    sid = server["id"]
    assert nova.call("PUT", f"/servers/{sid}/tags/y").status_code == 201
    assert nova.call("GET", f"/servers/{sid}/tags").json()["tags"] == ["x", "y"]
    assert nova.call("GET", "/servers?tags=x,y").json()["servers"][0]["id"] == sid
    assert nova.call("GET", "/servers?not-tags=y").json()["servers"] == []
    meta = nova.call("POST", f"/servers/{sid}/metadata", {"metadata": {"b": "2"}}).json()
    assert meta == {"metadata": {"a": "1", "b": "2"}}
    assert nova.call("DELETE", f"/servers/{sid}/metadata/a").status_code == 204
    assert nova.server(sid)["metadata"] == {"b": "2"} and nova.server(sid)["key_name"] == "k1"
    assert nova.call("DELETE", "/os-keypairs/k1").status_code == 204


def test_concurrent_boots_never_exceed_the_quota(cloud: Cloud, alice: User, image_id: str) -> None:
    """Boots are checked against use counted in memory: 16 at once, quota 10, exactly 10."""
    nova = Nova(cloud, alice)
    body = {"name": "race", "imageRef": image_id, "flavorRef": "1", "networks": "none"}
    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda _: nova.call("POST", "/servers", {"server": body}),
                                range(16)))  # fmt: skip
    assert sorted(a.status_code for a in answers) == [202] * 10 + [403] * 6
    assert len(nova.call("GET", "/servers").json()["servers"]) == 10
    for server in nova.call("GET", "/servers").json()["servers"][:3]:
        assert nova.call("DELETE", f"/servers/{server['id']}").status_code == 204
    nova.boot("again", image_id, min_count=3, max_count=3)  # deleting gave the room back
    fault(nova.call("POST", "/servers", {"server": body}), "forbidden", 403)


def test_boot_sees_flavor_and_quota_changes_at_once(
    cloud: Cloud, root: User, alice: User, image_id: str
) -> None:
    admin, nova = Nova(cloud, root), Nova(cloud, alice)
    private = {"name": "secret", "vcpus": 1, "ram": 64, "disk": 0, "id": "secret",
               "os-flavor-access:is_public": False}  # fmt: skip
    assert admin.call("POST", "/flavors", {"flavor": private}).status_code == 200
    body = {"name": "p", "imageRef": image_id, "flavorRef": "secret", "networks": "none"}
    refused = nova.call("POST", "/servers", {"server": body})
    assert fault(refused, "badRequest", 400) == "Flavor secret could not be found."
    grant = {"addTenantAccess": {"tenant": alice.project_id}}
    assert admin.call("POST", "/flavors/secret/action", grant).status_code == 200
    nova.boot("p", image_id, flavorRef="secret")
    revoke = {"removeTenantAccess": {"tenant": alice.project_id}}
    assert admin.call("POST", "/flavors/secret/action", revoke).status_code == 200
    fault(nova.call("POST", "/servers", {"server": body}), "badRequest", 400)
    quota = {"quota_set": {"instances": 1}}
    assert admin.call("PUT", f"/os-quota-sets/{alice.project_id}", quota).status_code == 200
    message = fault(nova.call("POST", "/servers", {"server": {**body, "flavorRef": "1"}}),
                    "forbidden", 403)  # fmt: skip
    assert message == "Quota exceeded for instances: Requested 1, but already used 1 of 1 instances"
