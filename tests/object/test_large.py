"""Static and dynamic large objects, and bulk delete, over plain HTTP."""

from __future__ import annotations

import hashlib
import json

import pytest

from tests.object.conftest import Customer, Landlord, raw, swift_fault


@pytest.fixture
def segs(alice: Customer) -> tuple[str, str, list[bytes]]:
    url, token = alice.token()
    raw("PUT", url + "/c", token)
    raw("PUT", url + "/segs", token)
    parts = [b"A" * 1000, b"B" * 2000, b"C" * 10]
    for index, part in enumerate(parts):
        raw("PUT", f"{url}/segs/obj/{index:03d}", token, data=part)
    return url, token, parts


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def test_static_large_object(segs: tuple[str, str, list[bytes]]) -> None:
    url, token, parts = segs
    manifest = [
        {"path": f"/segs/obj/{i:03d}", "etag": md5(p), "size_bytes": len(p)}
        for i, p in enumerate(parts)
    ]
    manifest.append({"path": "/segs/obj/001", "etag": None, "size_bytes": None, "range": "0-9"})
    put = raw("PUT", url + "/c/slo?multipart-manifest=put", token, data=json.dumps(manifest))
    assert put.status_code == 201
    whole = b"".join(parts) + parts[1][:10]
    expected_etag = md5("".join([md5(p) for p in parts] + [f"{md5(parts[1])}:0-9;"]).encode())
    assert put.headers["Etag"] == f'"{expected_etag}"'
    got = raw("GET", url + "/c/slo", token)
    assert got.content == whole
    assert got.headers["X-Static-Large-Object"] == "True"
    assert got.headers["Etag"] == f'"{expected_etag}"'
    part = raw("GET", url + "/c/slo", token, headers={"Range": "bytes=990-1009"})
    assert part.content == whole[990:1010]
    listing = raw("GET", url + "/c?format=json", token).json()
    assert listing[0]["bytes"] == len(whole)
    stored = raw("GET", url + "/c/slo?multipart-manifest=get", token).json()
    assert [s["name"] for s in stored] == [
        "/segs/obj/000",
        "/segs/obj/001",
        "/segs/obj/002",
        "/segs/obj/001",
    ]
    raw_form = raw("GET", url + "/c/slo?multipart-manifest=get&format=raw", token).json()
    assert raw_form[0] == {"path": "/segs/obj/000", "etag": md5(parts[0]), "size_bytes": 1000}
    copied = raw("COPY", url + "/c/slo", token, headers={"Destination": "c/flat"})
    assert copied.status_code == 201
    flat = raw("GET", url + "/c/flat", token)
    assert flat.content == whole
    assert "X-Static-Large-Object" not in flat.headers
    gone = raw(
        "DELETE",
        url + "/c/slo?multipart-manifest=delete",
        token,
        headers={"Accept": "application/json"},
    )
    assert gone.status_code == 200
    assert gone.json()["Number Deleted"] == 4
    assert gone.json()["Number Not Found"] == 1  # segment 001 was listed twice
    assert raw("GET", url + "/segs", token).status_code == 204


def test_bad_manifests(segs: tuple[str, str, list[bytes]]) -> None:
    url, token, _ = segs
    bad = [{"path": "/segs/obj/000", "etag": "0" * 32}, {"path": "/segs/none"}]
    resp = raw("PUT", url + "/c/slo?multipart-manifest=put", token, data=json.dumps(bad))
    assert resp.status_code == 400
    assert resp.text == swift_fault(
        "Bad Request", "Errors:\n/segs/obj/000, Etag Mismatch\n/segs/none, 404 Not Found"
    )
    not_json = raw("PUT", url + "/c/slo?multipart-manifest=put", token, data=b"nope")
    assert not_json.status_code == 400
    assert not_json.text == swift_fault("Bad Request", "Manifest must be valid JSON.")


@pytest.mark.parametrize(
    ("body", "text"),
    [
        ('[{"path": "/segs/obj/000", "etag": 5}]', "Index 0: etag must be a string."),
        ('[{"path": "/segs/obj/000", "etag": true}]', "Index 0: etag must be a string."),
        ('[{"path": "/segs/obj/000", "etag": {}}]', "Index 0: etag must be a string."),
        ('[{"path": "/segs/obj/000", "etag": "\\ud800"}]', "Index 0: etag must be a string."),
        ('[{"path": "/segs/obj/000", "range": 5}]', "Index 0: range must be a string."),
        ('[{"path": "/segs/obj/000", "range": []}]', "Index 0: range must be a string."),
        (
            '[{"path": "/segs/obj/000", "size_bytes": true}]',
            "Index 0: size_bytes must be an integer.",
        ),
        (
            '[{"path": "/segs/\\ud800"}]',
            "Index 0: path does not refer to an object. "
            "Path must be of the form /container/object.",
        ),
        ("[" * 100_000, "Manifest must be valid JSON."),
        ('[{"path": ' + "[" * 100_000, "Manifest must be valid JSON."),
    ],
)
def test_manifests_of_the_wrong_types(
    segs: tuple[str, str, list[bytes]], body: str, text: str
) -> None:
    url, token, _ = segs
    resp = raw("PUT", url + "/c/slo?multipart-manifest=put", token, data=body.encode())
    assert (resp.status_code, resp.text) == (400, swift_fault("Bad Request", text))


def test_dynamic_large_object(segs: tuple[str, str, list[bytes]]) -> None:
    url, token, parts = segs
    put = raw("PUT", url + "/c/dlo", token, data=b"", headers={"X-Object-Manifest": "segs/obj/"})
    assert put.status_code == 201
    got = raw("GET", url + "/c/dlo", token)
    assert got.content == b"".join(parts)
    assert got.headers["X-Object-Manifest"] == "segs/obj/"
    assert got.headers["Etag"] == '"' + md5("".join(md5(p) for p in parts).encode()) + '"'
    head = raw("HEAD", url + "/c/dlo", token)
    assert head.headers["Content-Length"] == str(sum(map(len, parts)))
    assert raw("GET", url + "/c/dlo", token, headers={"Range": "bytes=999-1000"}).content == b"AB"
    raw("PUT", url + "/segs/obj/003", token, data=b"D")
    assert raw("GET", url + "/c/dlo", token).content.endswith(b"CD")
    assert raw("GET", url + "/c/dlo?multipart-manifest=get", token).content == b""
    bad = raw("PUT", url + "/c/dlo2", token, data=b"", headers={"X-Object-Manifest": "noslash"})
    assert bad.status_code == 400
    assert bad.text == swift_fault(
        "Bad Request", "X-Object-Manifest must be in the format container/prefix"
    )


def test_bulk_delete(segs: tuple[str, str, list[bytes]], landlord: Landlord) -> None:
    url, token, _ = segs
    body = "\n".join(["/segs/obj/000", "/segs/obj/001", "/segs/nothing", "/c", "/segs"])
    resp = raw(
        "POST",
        url + "?bulk-delete",
        token,
        data=body.encode(),
        headers={"Accept": "application/json", "Content-Type": "text/plain"},
    )
    assert resp.status_code == 200
    doc = resp.json()
    assert doc["Number Deleted"] == 3
    assert doc["Number Not Found"] == 1
    assert doc["Errors"] == [["/segs", "409 Conflict"]]
    assert doc["Response Status"] == "400 Bad Request"
    text = raw("POST", url + "?bulk-delete", token, data=b"/segs/obj/002\n/segs\n")
    assert text.text.startswith("Number Deleted: 2\nNumber Not Found: 0\n")
    _, bob_token = landlord.customer("bob").token()
    denied = raw(
        "POST",
        url + "?bulk-delete",
        bob_token,
        data=b"/c\n",
        headers={"Accept": "application/json"},
    )
    assert denied.json()["Errors"] == [["/c", "403 Forbidden"]]


def test_info_is_public(landlord: Landlord) -> None:
    info = raw("GET", landlord.object_url + "/info").json()
    assert info["swift"]["max_file_size"] == 5 * 1024**3 + 2
    assert info["tempurl"]["allowed_digests"] == ["sha256", "sha512"]
    assert raw("GET", landlord.object_url + "/v2/x").status_code == 404
