"""What OpenStack's Tempest found OCX's Swift doing differently from Swift, each fixed and
checked here with python-swiftclient (``docs/interop.md`` has the Tempest counts)."""

from __future__ import annotations

import io
import re
import tarfile
import time
from typing import Any

import pytest
import requests
from swiftclient import client as swift
from swiftclient.exceptions import ClientException
from swiftclient.utils import generate_temp_url

from tests.conftest import ExchangeFactory
from tests.object.conftest import Customer, Landlord, swift_fault

TRANS_ID = re.compile(r"^tx[0-9a-f]{21}-[0-9a-f]{10}$")


def test_every_response_carries_a_swift_transaction_id(alice_conn: swift.Connection) -> None:
    alice_conn.put_container("tx")
    headers = alice_conn.head_container("tx")
    assert TRANS_ID.match(headers["x-trans-id"])
    assert headers["x-openstack-request-id"] == headers["x-trans-id"]
    with pytest.raises(ClientException) as missing:
        alice_conn.head_object("tx", "missing")
    assert missing.value.http_status == 404
    error_id = missing.value.http_response_headers["x-trans-id"]
    assert TRANS_ID.match(error_id)
    assert error_id != headers["x-trans-id"]


def test_empty_object_metadata_is_kept_and_remove_headers_remove(
    alice_conn: swift.Connection,
) -> None:
    alice_conn.put_container("meta")
    alice_conn.put_object(
        "meta", "o", b"x", headers={"X-Object-Meta-Empty": "", "X-Object-Meta-Full": "1"}
    )
    headers = alice_conn.head_object("meta", "o")
    assert headers["x-object-meta-empty"] == ""
    assert headers["x-object-meta-full"] == "1"
    alice_conn.post_object(
        "meta", "o", headers={"X-Object-Meta-Blank": "", "X-Remove-Object-Meta-Full": "x"}
    )
    headers = alice_conn.head_object("meta", "o")
    assert headers["x-object-meta-blank"] == ""
    assert "x-object-meta-full" not in headers
    assert "x-object-meta-empty" not in headers  # a POST replaces an object's metadata


def test_copy_answers_with_the_new_objects_metadata(alice_conn: swift.Connection) -> None:
    alice_conn.put_container("copies")
    alice_conn.put_object("copies", "src", b"data", headers={"X-Object-Meta-Old": "o"})
    answer: dict[str, Any] = {}
    alice_conn.copy_object(
        "copies", "src", "/copies/dst", headers={"X-Object-Meta-New": "n"}, response_dict=answer
    )
    assert answer["status"] == 201
    assert answer["headers"]["x-object-meta-old"] == "o"
    assert answer["headers"]["x-object-meta-new"] == "n"
    assert answer["headers"]["x-copied-from"] == "copies/src"


def test_post_with_a_manifest_header_makes_and_unmakes_a_dynamic_large_object(
    alice_conn: swift.Connection,
) -> None:
    alice_conn.put_container("dlo")
    for index in range(3):
        alice_conn.put_object("dlo", f"parts/{index}", f"part{index}".encode())
    alice_conn.put_object("dlo", "big", b"")
    alice_conn.post_object("dlo", "big", headers={"X-Object-Manifest": "dlo/parts/"})
    headers, body = alice_conn.get_object("dlo", "big")
    assert body == b"part0part1part2"
    assert headers["x-object-manifest"] == "dlo/parts/"
    assert headers["etag"].startswith('"') and headers["etag"].endswith('"')
    alice_conn.post_object("dlo", "big", headers={"X-Object-Meta-Plain": "yes"})
    headers, body = alice_conn.get_object("dlo", "big")
    assert body == b""
    assert "x-object-manifest" not in headers
    with pytest.raises(ClientException) as bad:
        alice_conn.post_object("dlo", "big", headers={"X-Object-Manifest": "no-prefix"})
    assert bad.value.http_status == 400


def test_healthcheck_answers_ok_without_a_token(landlord: Landlord) -> None:
    answer = requests.get(landlord.object_url + "/healthcheck", timeout=30)
    assert (answer.status_code, answer.text) == (200, "OK")
    assert TRANS_ID.match(answer.headers["x-trans-id"])


def test_a_temp_url_for_put_or_post_also_allows_head_but_not_delete(
    alice: Customer, alice_conn: swift.Connection, landlord: Landlord
) -> None:
    alice_conn.post_account({"X-Account-Meta-Temp-URL-Key": "secret"})
    alice_conn.put_container("temp")
    path = f"/v1/AUTH_{alice.project_id}/temp/o"
    put = landlord.object_url + generate_temp_url(path, 60, "secret", "PUT")
    assert requests.put(put, data=b"data", timeout=30).status_code == 201
    assert requests.head(put, timeout=30).headers["content-length"] == "4"
    post = landlord.object_url + generate_temp_url(path, 60, "secret", "POST")
    assert requests.head(post, timeout=30).status_code == 200
    assert requests.delete(put, timeout=30).status_code == 401
    head = landlord.object_url + generate_temp_url(path, 60, "secret", "HEAD")
    assert requests.get(head, timeout=30).status_code == 401


def _archive(mode: str, files: dict[str, bytes]) -> bytes:
    """A tar archive (``w``, ``w:gz`` or ``w:bz2``) with ``files``, a directory and a symlink."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode=mode) as tar:
        directory = tarfile.TarInfo("photos")
        directory.type = tarfile.DIRTYPE
        tar.addfile(directory)
        link = tarfile.TarInfo("photos/link")
        link.type, link.linkname = tarfile.SYMTYPE, "a.jpg"
        tar.addfile(link)
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def _extract(
    url: str, token: str, data: bytes, fmt: str, path: str = "", status: int = 200
) -> dict[str, Any]:
    """PUT ``?extract-archive`` (swiftclient has no call for it); the JSON answer."""
    answer = requests.put(
        f"{url}{path}?extract-archive={fmt}",
        data=data,
        headers={"X-Auth-Token": token, "Accept": "application/json"},
        timeout=60,
    )
    assert answer.status_code == status, answer.text
    return dict(answer.json()) if status == 200 else {"text": answer.text}


def test_extract_archive_makes_containers_and_objects(alice: Customer) -> None:
    url, token = alice.token()
    files = {"photos/a.jpg": b"jpeg", "./docs/sub/readme.txt": b"read me", "loose": b"x"}
    done = _extract(url, token, _archive("w:gz", files), "tar.gz")
    assert done["Number Files Created"] == 2
    assert (done["Response Status"], done["Errors"]) == ("201 Created", [])
    conn = alice.connect()
    assert [c["name"] for c in conn.get_account()[1]] == ["docs", "photos"]
    headers, body = conn.get_object("docs", "sub/readme.txt")
    assert (body, headers["content-type"]) == (b"read me", "text/plain")
    assert conn.get_object("photos", "a.jpg")[1] == b"jpeg"
    # Into a container, under a prefix, from a tar.bz2.
    done = _extract(url, token, _archive("w:bz2", {"b.txt": b"b"}), "tar.bz2", "/docs/in")
    assert done["Number Files Created"] == 1
    assert conn.get_object("docs", "in/b.txt")[1] == b"b"


def test_extract_archive_refusals(alice: Customer, landlord: Landlord) -> None:
    url, token = alice.token()
    unknown = _extract(url, token, b"data", "zip", status=400)
    assert unknown["text"] == swift_fault("Bad Request", "Unsupported archive format")
    garbage = _extract(url, token, b"not a tar archive at all" * 40, "tar.gz", status=400)
    assert "Invalid Tar File" in garbage["text"]
    # Another customer may not make containers in alice's account.
    _eve_url, eve_token = landlord.customer("eve").token()
    done = _extract(url, eve_token, _archive("w", {"photos/a.jpg": b"x"}), "tar")
    assert done["Number Files Created"] == 0
    assert done["Errors"] == [["photos/a.jpg", "403 Forbidden"]]
    assert alice.connect().get_account()[1] == []


def _reseller(landlord: Landlord, domain: str, name: str) -> swift.Connection:
    """A user holding ResellerAdmin on a project of ``domain`` (by name), as swiftclient."""
    admin = landlord.admin
    domain_id = admin.call("GET", f"/domains?name={domain}", ok=200)["domains"][0]["id"]
    project = admin.call(
        "POST", "/projects", {"project": {"name": name, "domain_id": domain_id}}, ok=201
    )["project"]
    user = admin.call(
        "POST",
        "/users",
        {"user": {"name": name, "password": name + "-pw", "domain_id": domain_id}},
        ok=201,
    )["user"]
    admin.grant(project["id"], user["id"], "ResellerAdmin")
    return swift.Connection(
        authurl=landlord.auth_url,
        user=name,
        key=name + "-pw",
        auth_version="3",
        os_options={"project_id": project["id"], "user_domain_id": domain_id},
        retries=0,
    )


def test_account_quotas_are_the_staff_resellers_to_set_and_bind_uploads(
    exchange_factory: ExchangeFactory,
) -> None:
    landlord = Landlord(
        exchange_factory(
            {"harvard": {"parts": ["identity", "object"], "operator_domain": "operators"}}
        )
    )
    landlord.admin.call("POST", "/roles", {"role": {"name": "ResellerAdmin"}}, ok=201)
    alice = landlord.customer("alice")
    conn = alice.connect()
    conn.put_container("c")
    with pytest.raises(ClientException) as own:
        conn.post_account({"X-Account-Meta-Quota-Bytes": "100"})
    assert own.value.http_status == 403  # the owner may not lift or set its own quota
    staff = _reseller(landlord, "operators", "staff")
    url = landlord.account_url(alice.project_id)
    token = staff.get_auth()[1]
    swift.post_account(url, token, {"X-Account-Meta-Quota-Bytes": "10"})
    swift.post_account(url, token, {"X-Account-Quota-Count": "2"})
    conn.put_object("c", "small", b"12345")
    with pytest.raises(ClientException) as over:
        conn.put_object("c", "big", b"x" * 6)
    assert (over.value.http_status, over.value.http_response_content) == (
        413,
        swift_fault("Request Entity Too Large", "Upload exceeds quota.").encode(),
    )
    conn.put_object("c", "second", b"1")
    with pytest.raises(ClientException) as counted:
        conn.put_object("c", "third", b"")
    assert counted.value.http_status == 413
    with pytest.raises(ClientException) as bad:
        swift.post_account(url, token, {"X-Account-Quota-Count": "many"})
    assert bad.value.http_status == 400
    swift.post_account(url, token, {"X-Remove-Account-Meta-Quota-Bytes": "x"})
    swift.post_account(url, token, {"X-Account-Quota-Count": ""})
    conn.put_object("c", "third", b"x" * 100)
    # ResellerAdmin on a customer's own project is nobody's reseller.
    landlord.admin.grant(alice.project_id, alice.user_id, "ResellerAdmin")
    with pytest.raises(ClientException) as customer:
        alice.connect().post_account({"X-Account-Quota-Count": "1000"})
    assert customer.value.http_status == 403
    eve = _reseller(landlord, "Default", "eve")
    with pytest.raises(ClientException) as foreign:
        swift.head_account(url, eve.get_auth()[1])
    assert foreign.value.http_status == 403


def test_a_container_whose_objects_all_expired_can_be_deleted(
    alice_conn: swift.Connection,
) -> None:
    alice_conn.put_container("brief")
    alice_conn.put_object("brief", "o", b"x", headers={"X-Delete-After": "1"})
    deadline = time.monotonic() + 60  # the object says when it is gone; this guards a bug
    while True:
        try:
            alice_conn.head_object("brief", "o")
        except ClientException as gone:
            assert gone.http_status == 404
            break
        assert time.monotonic() < deadline
        time.sleep(0.1)
    alice_conn.delete_container("brief")
    assert [c["name"] for c in alice_conn.get_account()[1]] == []
