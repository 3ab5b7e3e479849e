"""Glance v2 on the wire: exact statuses and bodies for what clients hide."""

from __future__ import annotations

import hashlib
import json

from tests.image.helpers import Cloud, User, raw

PATCH = {"Content-Type": "application/openstack-images-v2.1-json-patch"}


def _create(cloud: Cloud, token: str, **body: object) -> dict[str, object]:
    doc = {"disk_format": "raw", "container_format": "bare", **body}
    resp = raw("POST", cloud.urls["image"] + "/v2/images", token, json=doc)
    assert resp.status_code == 201, resp.text
    assert resp.headers["Location"].endswith(f"/v2/images/{resp.json()['id']}")
    return dict(resp.json())


def test_versions_are_a_300(cloud: Cloud) -> None:
    resp = raw("GET", cloud.urls["image"] + "/")
    assert resp.status_code == 300
    assert resp.json()["versions"][0]["links"][0]["href"].endswith("/v2/")


def test_create_keeps_properties_and_refuses_read_only(cloud: Cloud, alice: User) -> None:
    token = alice.token()
    made = _create(cloud, token, name="a", hw_fpga="yes")
    assert made["status"] == "queued" and made["hw_fpga"] == "yes"
    assert made["visibility"] == "shared" and made["owner"] == alice.project_id
    url = cloud.urls["image"] + "/v2/images"
    for body, status, text in [
        ({"size": 3}, 403, "Attribute 'size' is read-only."),
        ({"location": "x"}, 403, "Attribute 'location' is reserved."),
        ({"disk_format": "floppy"}, 400, "Invalid value 'floppy' for disk_format"),
        ({"k": 3}, 400, "must be a string"),
        ({"id": "not-a-uuid"}, 400, "expected a UUID"),
        ({"visibility": "public"}, 403, "Only an administrator"),
    ]:
        resp = raw("POST", url, token, json=body)
        assert resp.status_code == status, resp.text
        assert text in resp.text
    resp = raw("POST", url, token, data=b"{nope", headers={"Content-Type": "application/json"})
    assert resp.status_code == 400 and "not valid JSON" in resp.text
    assert raw("POST", url, None, json={}).status_code == 401


def test_upload_is_atomic_and_once(cloud: Cloud, alice: User) -> None:
    token = alice.token()
    made = _create(cloud, token, name="u")
    file_url = f"{cloud.urls['image']}/v2/images/{made['id']}/file"
    octet = {"Content-Type": "application/octet-stream"}
    short = raw(
        "PUT", file_url, token, data=b"abc", headers={**octet, "X-Openstack-Image-Size": "4"}
    )
    assert short.status_code == 400, short.text
    show = raw("GET", f"{cloud.urls['image']}/v2/images/{made['id']}", token).json()
    assert show["status"] == "queued" and show["checksum"] is None
    assert raw("GET", file_url, token).status_code == 204
    assert raw("PUT", file_url, token, data=b"abcd", headers=octet).status_code == 204
    again = raw("PUT", file_url, token, data=b"efgh", headers=octet)
    assert again.status_code == 409
    show = raw("GET", f"{cloud.urls['image']}/v2/images/{made['id']}", token).json()
    assert show["status"] == "active" and show["size"] == 4
    assert show["checksum"] == hashlib.md5(b"abcd").hexdigest()
    assert show["os_hash_value"] == hashlib.sha512(b"abcd").hexdigest()
    got = raw("GET", file_url, token)
    assert got.content == b"abcd" and got.headers["Content-MD5"] == show["checksum"]
    part = raw("GET", file_url, token, headers={"Range": "bytes=1-2"})
    assert part.status_code == 206 and part.content == b"bc"
    assert part.headers["Content-Range"] == "bytes 1-2/4"
    assert raw("GET", file_url, token, headers={"Range": "bytes=9-"}).status_code == 416


def test_list_filters_and_pagination(cloud: Cloud, alice: User) -> None:
    token = alice.token()
    ids = [str(_create(cloud, token, name=f"img{i}", tags=["even"] if i % 2 == 0 else [])["id"])
           for i in range(5)]  # fmt: skip
    url = cloud.urls["image"] + "/v2/images"
    seen: list[str] = []
    page = raw("GET", url + "?limit=2&sort_key=name&sort_dir=asc", token).json()
    while True:
        seen += [i["name"] for i in page["images"]]
        if "next" not in page:
            break
        page = raw("GET", cloud.urls["image"] + page["next"], token).json()
    assert seen == [f"img{i}" for i in range(5)]
    tagged = raw("GET", url + "?tag=even", token).json()["images"]
    assert sorted(i["name"] for i in tagged) == ["img0", "img2", "img4"]
    within = raw("GET", f"{url}?id=in:{ids[1]},{ids[3]}", token).json()["images"]
    assert {i["id"] for i in within} == {ids[1], ids[3]}
    assert raw("GET", url + "?name=img3", token).json()["images"][0]["id"] == ids[3]
    assert raw("GET", url + "?status=active", token).json()["images"] == []
    bad = raw("GET", url + "?marker=nope", token)
    assert bad.status_code == 400 and "Invalid marker" in bad.text
    assert raw("GET", url + "?sort_key=colour", token).status_code == 400
    assert raw("GET", url + "?limit=x", token).status_code == 400


def test_json_patch(cloud: Cloud, alice: User, bob: User) -> None:
    token = alice.token()
    made = _create(cloud, token, name="p", gpu="no")
    url = f"{cloud.urls['image']}/v2/images/{made['id']}"
    ops = [
        {"op": "replace", "path": "/name", "value": "q"},
        {"op": "add", "path": "/os_distro", "value": "debian"},
        {"op": "remove", "path": "/gpu"},
        {"op": "add", "path": "/tags/-", "value": "t1"},
        {"op": "replace", "path": "/min_ram", "value": 512},
    ]
    resp = raw("PATCH", url, token, data=json.dumps(ops), headers=PATCH)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["name"] == "q" and body["os_distro"] == "debian" and "gpu" not in body
    assert body["tags"] == ["t1"] and body["min_ram"] == 512
    for ops, status in [
        ([{"op": "replace", "path": "/status", "value": "active"}], 403),
        ([{"op": "remove", "path": "/missing"}], 409),
        ([{"op": "move", "path": "/name"}], 400),
        ([{"op": "replace", "path": "/min_disk", "value": -1}], 400),
        ({"op": "replace"}, 400),
    ]:
        resp = raw("PATCH", url, token, data=json.dumps(ops), headers=PATCH)
        assert resp.status_code == status, (ops, resp.text)
    wrong_type = raw("PATCH", url, token, json=[{"op": "remove", "path": "/os_distro"}])
    assert wrong_type.status_code == 415
    other = raw("PATCH", url, bob.token(), data=json.dumps([]), headers=PATCH)
    assert other.status_code == 404


def test_protected_images_stay(cloud: Cloud, alice: User) -> None:
    token = alice.token()
    made = _create(cloud, token, name="keep", protected=True)
    url = f"{cloud.urls['image']}/v2/images/{made['id']}"
    assert raw("DELETE", url, token).status_code == 403
    unprotect = [{"op": "replace", "path": "/protected", "value": False}]
    assert raw("PATCH", url, token, data=json.dumps(unprotect), headers=PATCH).status_code == 200
    assert raw("DELETE", url, token).status_code == 204
    assert raw("GET", url, token).status_code == 404


def test_members_only_on_shared_and_only_by_owner(cloud: Cloud, alice: User, bob: User) -> None:
    token = alice.token()
    private = _create(cloud, token, name="x", visibility="private")
    url = f"{cloud.urls['image']}/v2/images/{private['id']}/members"
    assert raw("POST", url, token, json={"member": bob.project_id}).status_code == 403
    shared = _create(cloud, token, name="y")
    url = f"{cloud.urls['image']}/v2/images/{shared['id']}/members"
    added = raw("POST", url, token, json={"member": bob.project_id})
    assert added.status_code == 200 and added.json()["status"] == "pending"
    assert raw("POST", url, token, json={"member": bob.project_id}).status_code == 409
    me = f"{url}/{bob.project_id}"
    assert raw("PUT", me, token, json={"status": "accepted"}).status_code == 403
    bob_token = bob.token()
    assert raw("POST", url, bob_token, json={"member": "zz"}).status_code == 403
    assert raw("PUT", me, bob_token, json={"status": "maybe"}).status_code == 400
    assert raw("PUT", me, bob_token, json={"status": "accepted"}).json()["status"] == "accepted"
    assert raw("DELETE", me, token).status_code == 204
    assert (
        raw("GET", f"{cloud.urls['image']}/v2/images/{shared['id']}", bob_token).status_code == 404
    )


def test_schemas(cloud: Cloud, alice: User) -> None:
    token = alice.token()
    for name in ("image", "images", "member", "members"):
        resp = raw("GET", f"{cloud.urls['image']}/v2/schemas/{name}", token)
        assert resp.status_code == 200 and resp.json()["name"] == name
    assert raw("GET", f"{cloud.urls['image']}/v2/schemas/nope", token).status_code == 404
