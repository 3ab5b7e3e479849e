"""Objects over plain HTTP and swiftclient.client: exact statuses, headers and fault texts."""

from __future__ import annotations

import hashlib
import time
from email.utils import formatdate

import pytest
from swiftclient import client as swift

from tests.object.conftest import Customer, Landlord, raw, swift_fault


@pytest.fixture
def account(landlord: Landlord, alice: Customer) -> tuple[str, str]:
    url, token = alice.token()
    assert url == landlord.account_url(alice.project_id)
    assert raw("PUT", url + "/c", token).status_code == 201
    return url, token


def test_put_get_head_with_metadata(account: tuple[str, str]) -> None:
    url, token = account
    put = raw(
        "PUT",
        url + "/c/o.txt",
        token,
        data=b"hello world",
        headers={
            "X-Object-Meta-Color": "Blue",
            "Content-Disposition": "attachment; filename=o.txt",
            "Content-Type": "text/x-test",
        },
    )
    assert put.status_code == 201
    assert put.headers["Etag"] == hashlib.md5(b"hello world").hexdigest()
    got = raw("GET", url + "/c/o.txt", token)
    assert got.content == b"hello world"
    assert got.headers["X-Object-Meta-Color"] == "Blue"
    assert got.headers["Content-Disposition"] == "attachment; filename=o.txt"
    assert got.headers["Content-Type"] == "text/x-test"
    head = raw("HEAD", url + "/c/o.txt", token)
    assert head.headers["Content-Length"] == "11"
    assert head.content == b""


def test_chunked_upload(account: tuple[str, str]) -> None:
    url, token = account
    pieces = [b"a" * 100_000, b"b" * 3, b"c" * 700_000]
    put = raw("PUT", url + "/c/chunked", token, data=iter(pieces))
    assert put.status_code == 201
    assert raw("GET", url + "/c/chunked", token).content == b"".join(pieces)


def test_etag_mismatch_is_422(account: tuple[str, str]) -> None:
    url, token = account
    put = raw("PUT", url + "/c/o", token, data=b"data", headers={"ETag": "0" * 32})
    assert put.status_code == 422
    assert put.text == swift_fault(
        "Unprocessable Entity", "Unable to process the contained instructions"
    )
    assert raw("HEAD", url + "/c/o", token).status_code == 404


def test_missing_length_is_411(account: tuple[str, str], landlord: Landlord) -> None:
    url, token = account
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    conn.putrequest("PUT", parts.path + "/c/nolength")
    conn.putheader("X-Auth-Token", token)
    conn.endheaders()
    resp = conn.getresponse()
    assert resp.status == 411
    assert resp.read().decode() == swift_fault("Length Required", "Length Required.")


def test_if_none_match_star(account: tuple[str, str]) -> None:
    url, token = account
    assert (
        raw("PUT", url + "/c/once", token, data=b"1", headers={"If-None-Match": "*"}).status_code
        == 201
    )
    again = raw("PUT", url + "/c/once", token, data=b"2", headers={"If-None-Match": "*"})
    assert again.status_code == 412
    assert again.text == swift_fault(
        "Precondition Failed", "A precondition for this request was not met."
    )
    assert raw("GET", url + "/c/once", token).content == b"1"
    bad = raw("PUT", url + "/c/once", token, data=b"2", headers={"If-None-Match": "abc"})
    assert bad.status_code == 400
    assert bad.text == swift_fault("Bad Request", "If-None-Match only supports *")


def test_conditional_gets(account: tuple[str, str]) -> None:
    url, token = account
    etag = raw("PUT", url + "/c/o", token, data=b"body").headers["Etag"]
    assert raw("GET", url + "/c/o", token, headers={"If-None-Match": etag}).status_code == 304
    assert raw("GET", url + "/c/o", token, headers={"If-None-Match": '"other"'}).status_code == 200
    assert raw("GET", url + "/c/o", token, headers={"If-Match": f'"{etag}"'}).status_code == 200
    failed = raw("GET", url + "/c/o", token, headers={"If-Match": "nope"})
    assert failed.status_code == 412
    assert failed.text == swift_fault(
        "Precondition Failed", "A precondition for this request was not met."
    )
    later = formatdate(time.time() + 3600, usegmt=True)
    earlier = formatdate(time.time() - 3600, usegmt=True)
    assert raw("GET", url + "/c/o", token, headers={"If-Modified-Since": later}).status_code == 304
    assert (
        raw("GET", url + "/c/o", token, headers={"If-Modified-Since": earlier}).status_code == 200
    )
    assert (
        raw("GET", url + "/c/o", token, headers={"If-Unmodified-Since": earlier}).status_code == 412
    )


def test_ranges(account: tuple[str, str]) -> None:
    url, token = account
    data = bytes(range(256)) * 40
    raw("PUT", url + "/c/r", token, data=data)
    one = raw("GET", url + "/c/r", token, headers={"Range": "bytes=10-19"})
    assert one.status_code == 206
    assert one.content == data[10:20]
    assert one.headers["Content-Range"] == f"bytes 10-19/{len(data)}"
    tail = raw("GET", url + "/c/r", token, headers={"Range": "bytes=-5"})
    assert tail.content == data[-5:]
    multi = raw("GET", url + "/c/r", token, headers={"Range": "bytes=0-1,100-102"})
    assert multi.status_code == 206
    boundary = multi.headers["Content-Type"].split("boundary=")[1]
    assert multi.content.startswith(f"--{boundary}\r\n".encode())
    assert b"Content-Range: bytes 0-1/10240\r\n\r\n" + data[0:2] + b"\r\n" in multi.content
    assert b"Content-Range: bytes 100-102/10240\r\n\r\n" + data[100:103] in multi.content
    assert multi.content.endswith(f"--{boundary}--".encode())
    assert int(multi.headers["Content-Length"]) == len(multi.content)
    bad = raw("GET", url + "/c/r", token, headers={"Range": "bytes=99999-"})
    assert bad.status_code == 416
    assert bad.text == swift_fault(
        "Requested Range Not Satisfiable", "The Range requested is not available."
    )
    assert bad.headers["Content-Range"] == "bytes */10240"
    ignored = raw("GET", url + "/c/r", token, headers={"Range": "bytes=5-2"})
    assert ignored.status_code == 200


def test_post_replaces_metadata_and_copy(account: tuple[str, str]) -> None:
    url, token = account
    raw("PUT", url + "/c/src", token, data=b"copy me", headers={"X-Object-Meta-A": "1"})
    post = raw(
        "POST",
        url + "/c/src",
        token,
        headers={"X-Object-Meta-B": "2", "Content-Type": "text/plain"},
    )
    assert post.status_code == 202
    head = raw("HEAD", url + "/c/src", token).headers
    assert "X-Object-Meta-A" not in head
    assert head["X-Object-Meta-B"] == "2"
    assert head["Content-Type"] == "text/plain"
    copied = raw(
        "COPY", url + "/c/src", token, headers={"Destination": "c/dst", "X-Object-Meta-C": "3"}
    )
    assert copied.status_code == 201
    assert copied.headers["X-Copied-From"] == "c/src"
    dst = raw("GET", url + "/c/dst", token)
    assert dst.content == b"copy me"
    assert dst.headers["X-Object-Meta-B"] == "2"
    assert dst.headers["X-Object-Meta-C"] == "3"
    put_copy = raw(
        "PUT", url + "/c/dst2", token, headers={"X-Copy-From": "/c/src", "X-Fresh-Metadata": "true"}
    )
    assert put_copy.status_code == 201
    fresh = raw("HEAD", url + "/c/dst2", token).headers
    assert "X-Object-Meta-B" not in fresh
    # The source goes on unchanged when the copy is deleted (copies share no state).
    raw("DELETE", url + "/c/dst", token)
    assert raw("GET", url + "/c/src", token).content == b"copy me"
    missing = raw("PUT", url + "/c/x", token, headers={"X-Copy-From": "c/none"})
    assert missing.status_code == 404
    malformed = raw("PUT", url + "/c/x", token, headers={"X-Copy-From": "nocontainer"})
    assert malformed.status_code == 412
    assert malformed.text == swift_fault(
        "Precondition Failed",
        "X-Copy-From header must be of the form <container name>/<object name>",
    )


def test_expiry(account: tuple[str, str], landlord: Landlord) -> None:
    url, token = account
    later = raw("PUT", url + "/c/later", token, data=b"x", headers={"X-Delete-After": "3600"})
    assert later.status_code == 201
    delete_at = int(raw("HEAD", url + "/c/later", token).headers["X-Delete-At"])
    assert abs(delete_at - (time.time() + 3600)) < 60
    put = raw("PUT", url + "/c/soon", token, data=b"x", headers={"X-Delete-After": "1"})
    assert put.status_code == 201
    past = raw("PUT", url + "/c/late", token, data=b"x", headers={"X-Delete-At": "1000"})
    assert past.status_code == 400
    assert past.text == swift_fault("Bad Request", "X-Delete-At in past")
    deadline = time.monotonic() + 60  # the server says when it is gone; this guards a bug
    while raw("GET", url + "/c/soon", token).status_code != 404:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    listing = raw("GET", url + "/c?format=json", token).json()
    assert [item["name"] for item in listing] == ["later"]
    service = landlord.exchange.running[1].service
    # The service's own expirer may have been first; either way the row goes.
    assert landlord.exchange.background.call(service.service.expire()) in (0, 1)  # type: ignore[attr-defined]
    assert raw("HEAD", url + "/c", token).headers["X-Container-Object-Count"] == "1"


def test_bad_names(account: tuple[str, str]) -> None:
    url, token = account
    long_container = raw("PUT", url + "/" + "c" * 257, token)
    assert long_container.status_code == 400
    assert long_container.text == swift_fault(
        "Bad Request", "Container name length of 257 longer than 256"
    )
    long_object = raw("PUT", url + "/c/" + "o" * 1025, token, data=b"")
    assert long_object.status_code == 400
    assert long_object.text == swift_fault(
        "Bad Request", "Object name length of 1025 longer than 1024"
    )
    bad_utf8 = raw("PUT", url + "/c/%FF%FE", token, data=b"")
    assert bad_utf8.status_code == 412
    assert bad_utf8.text == swift_fault("Precondition Failed", "Invalid UTF8 or contains NULL")
    nul = raw("PUT", url + "/c/a%00b", token, data=b"")
    assert nul.status_code == 412
    unicode_name = "ünïcødé/名前 with spaces"
    assert raw("PUT", f"{url}/c/{unicode_name}", token, data=b"u").status_code == 201
    assert raw("GET", url + "/c?format=json", token).json()[0]["name"] == unicode_name


def test_metadata_limits(account: tuple[str, str]) -> None:
    url, token = account
    too_long = raw("POST", url + "/c", token, headers={"X-Container-Meta-" + "k" * 129: "v"})
    assert too_long.status_code == 400
    assert too_long.text == swift_fault(
        "Bad Request", f"Metadata name too long: X-Container-Meta-{'k' * 129}"
    )
    value = raw("PUT", url + "/c/o", token, data=b"", headers={"X-Object-Meta-K": "v" * 257})
    assert value.status_code == 400
    assert value.text == swift_fault(
        "Bad Request", "Metadata value longer than 256: X-Object-Meta-k"
    )


def test_missing_object_and_container(account: tuple[str, str]) -> None:
    url, token = account
    gone = raw("GET", url + "/c/none", token)
    assert gone.status_code == 404
    assert gone.text == swift_fault("Not Found", "The resource could not be found.")
    assert raw("DELETE", url + "/c/none", token).status_code == 404
    assert raw("PUT", url + "/nope/o", token, data=b"x").status_code == 404
    assert raw("POST", url + "/c/none", token).status_code == 404


def test_swiftclient_api(alice_conn: swift.Connection) -> None:
    alice_conn.put_container("api", headers={"X-Container-Meta-Team": "red"})
    alice_conn.put_object("api", "x", b"12345", headers={"X-Object-Meta-N": "1"})
    headers = alice_conn.head_container("api")
    assert headers["x-container-meta-team"] == "red"
    assert headers["x-container-object-count"] == "1"
    headers, body = alice_conn.get_object("api", "x", headers={"Range": "bytes=1-2"})
    assert body == b"23"
    alice_conn.post_object("api", "x", headers={"X-Object-Meta-N": "2"})
    assert alice_conn.head_object("api", "x")["x-object-meta-n"] == "2"
    alice_conn.copy_object("api", "x", "/api/y")
    assert alice_conn.get_object("api", "y")[1] == b"12345"
    with pytest.raises(swift.ClientException) as caught:
        alice_conn.delete_container("api")
    assert caught.value.http_status == 409
    assert (
        caught.value.http_response_content
        == swift_fault(
            "Conflict", "There was a conflict when trying to complete your request."
        ).encode()
    )
    for name in ("x", "y"):
        alice_conn.delete_object("api", name)
    alice_conn.delete_container("api")
    assert alice_conn.get_account()[1] == []
