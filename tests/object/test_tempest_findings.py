"""What OpenStack's Tempest found OCX's Swift doing differently from Swift, each fixed and
checked here with python-swiftclient (``docs/interop.md`` has the Tempest counts)."""

from __future__ import annotations

import io
import re
import tarfile
from typing import Any

import pytest
import requests
from swiftclient import client as swift
from swiftclient.exceptions import ClientException
from swiftclient.utils import generate_temp_url

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
