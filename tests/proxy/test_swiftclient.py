"""python-swiftclient through the proxy (region ``ocx``): one account over three landlords."""

from __future__ import annotations

import hashlib
import hmac
import os
import time
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from swiftclient import client as swift
from swiftclient.exceptions import ClientException
from swiftclient.utils import generate_temp_url

from ocx.common import splice
from ocx.proxy.wire import READ_SIZE
from tests.proxy.conftest import Mixed, placed

MIB = 1024 * 1024


def names_at(conn: swift.Connection) -> dict[str, list[str]]:
    """Every container of the account and its object names."""
    return {
        c["name"]: [o["name"] for o in conn.get_container(c["name"])[1]]
        for c in conn.get_account()[1]
    }


def test_upload_list_download_delete_across_three_landlords(
    mixed: Mixed, alice: swift.Connection
) -> None:
    for container, landlord in (("notes", "harvard"), ("data", "mit"), ("archive", "stor")):
        assert placed(alice, container, landlord)["x-ocx-landlord"] == landlord
        alice.put_object(container, "readme.txt", f"at {landlord}".encode())
        alice.put_object(container, "dir/deep.bin", bytes(range(256)) * 40)
    headers, listing = alice.get_account()
    assert [(c["name"], c["landlord"], c["count"]) for c in listing] == [
        ("archive", "stor", 2),
        ("data", "mit", 2),
        ("notes", "harvard", 2),
    ]
    assert headers["x-account-container-count"] == "3"
    assert headers["x-account-object-count"] == "6"
    assert headers["x-ocx-landlords"] == "harvard, mit, stor"
    assert "x-ocx-missing-landlords" not in headers
    assert alice.get_object("data", "readme.txt")[1] == b"at mit"
    assert alice.get_object("archive", "dir/deep.bin")[1] == bytes(range(256)) * 40
    # Directly at each landlord: exactly what the proxy placed there.
    assert names_at(mixed.direct("harvard")) == {"notes": ["dir/deep.bin", "readme.txt"]}
    assert names_at(mixed.direct("mit")) == {"data": ["dir/deep.bin", "readme.txt"]}
    assert names_at(mixed.direct("stor")) == {"archive": ["dir/deep.bin", "readme.txt"]}
    for container in ("notes", "data", "archive"):
        for obj in ("readme.txt", "dir/deep.bin"):
            alice.delete_object(container, obj)
        alice.delete_container(container)
    assert alice.get_account()[1] == []
    assert all(names_at(mixed.direct(landlord)) == {} for landlord in ("harvard", "mit", "stor"))


@pytest.mark.skipif(not splice.AVAILABLE, reason="splice(2) is Linux only")
def test_big_downloads_are_spliced_whole_and_the_landlord_connection_kept(
    mixed: Mixed, alice: swift.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    spliced: list[int] = []
    relay = splice.relay

    async def counted(source: int, sink: int, count: int, idle: float | None) -> None:
        spliced.append(count)  # first: the client may have it all before the relay returns
        await relay(source, sink, count, idle)

    monkeypatch.setattr(splice, "relay", counted)
    placed(alice, "m", "mit")
    body = os.urandom(3 * MIB + 5)
    alice.put_object("m", "big", body)
    assert alice.get_object("m", "big")[1] == body
    opened = set(mixed.proxy.data.open)
    assert alice.get_object("m", "big")[1] == body
    assert set(mixed.proxy.data.open) == opened  # the landlord's connection, kept alive
    assert sum(spliced) >= 2 * (len(body) - READ_SIZE)  # all but the first read, per GET
    assert alice.get_object("m", "big", headers={"Range": "bytes=5-"})[1] == body[5:]


def test_listings_page_and_filter_like_swift(alice: swift.Connection) -> None:
    for index, landlord in enumerate(("harvard", "mit", "stor", "mit", "harvard")):
        placed(alice, f"c{index}", landlord)
    names = [c["name"] for c in alice.get_account(limit=2, marker="c0")[1]]
    assert names == ["c1", "c2"]
    assert [c["name"] for c in alice.get_account(prefix="c3")[1]] == ["c3"]
    assert [c["name"] for c in alice.get_account(end_marker="c2")[1]] == ["c0", "c1"]
    everything = [c["name"] for c in alice.get_account(full_listing=True, limit=2)[1]]
    assert everything == ["c0", "c1", "c2", "c3", "c4"]
    url, token = alice.get_auth()
    text = requests.get(url, headers={"X-Auth-Token": token}, params={"reverse": "on"}, timeout=10)
    assert text.text == "c4\nc3\nc2\nc1\nc0\n"
    xml = requests.get(url + "?format=xml&limit=1", headers={"X-Auth-Token": token}, timeout=10)
    assert (
        "<name>c0</name><count>0</count>" in xml.text and "<landlord>harvard</landlord>" in xml.text
    )


def test_placement_reports_its_choice(mixed: Mixed, alice: swift.Connection) -> None:
    assert placed(alice, "default")["x-ocx-placement"] == "home"
    first = placed(alice, "by-policy", **{"X-OCX-Placement": "first"})
    assert (first["x-ocx-landlord"], first["x-ocx-placement"]) == ("harvard", "first")
    named = placed(alice, "named@stor")
    assert (named["x-ocx-landlord"], named["x-ocx-placement"]) == ("stor", "explicit")
    again = placed(alice, "named")  # PUT of an existing name goes where it is
    assert (again["x-ocx-landlord"], again["x-ocx-placement"]) == ("stor", "existing")
    segments = placed(alice, "named_segments")
    assert (segments["x-ocx-landlord"], segments["x-ocx-placement"]) == ("stor", "with named")
    # The customer's own policy, kept in the home account's metadata.
    alice.post_account({"X-Account-Meta-Ocx-Placement": "most-free"})
    mit = mixed.direct("mit")
    assert mit.head_account()["x-account-meta-ocx-placement"] == "most-free"
    alice.put_object("default", "big", b"x" * 5000)  # harvard now holds the most
    chosen = placed(alice, "spread")
    assert (chosen["x-ocx-landlord"], chosen["x-ocx-placement"]) == ("mit", "most-free")
    with pytest.raises(ClientException) as bad:
        placed(alice, "x", **{"X-OCX-Placement": "nearest"})
    assert bad.value.http_status == 400


def test_a_name_at_two_landlords_is_seen_and_addressed_qualified(
    mixed: Mixed, alice: swift.Connection
) -> None:
    for landlord in ("mit", "stor"):
        direct = mixed.direct(landlord)
        direct.put_container("shared")
        direct.put_object("shared", "who", landlord.encode())
    listing = alice.get_account()[1]
    assert [(c["name"], c["landlord"]) for c in listing] == [
        ("shared@mit", "mit"),
        ("shared@stor", "stor"),
    ]
    assert [c["name"] for c in alice.get_account(limit=1, marker="shared@mit")[1]] == [
        "shared@stor"
    ]
    with pytest.raises(ClientException) as conflict:
        alice.get_object("shared", "who")
    assert conflict.value.http_status == 409
    assert (
        "address it as 'shared@mit' or 'shared@stor'"
        in conflict.value.http_response_content.decode()
    )
    assert alice.get_object("shared@stor", "who")[1] == b"stor"
    assert alice.get_object("shared", "who", headers={"X-OCX-Landlord": "mit"})[1] == b"mit"
    with pytest.raises(ClientException) as unknown:
        alice.get_object("shared", "who", headers={"X-OCX-Landlord": "nowhere"})
    assert unknown.value.http_status == 404


def test_ranges_conditions_and_metadata_pass_through(alice: swift.Connection) -> None:
    placed(alice, "c", "mit")
    body = bytes(range(256)) * 4
    etag = alice.put_object("c", "o", body, headers={"X-Object-Meta-Color": "blue"})
    headers, part = alice.get_object("c", "o", headers={"Range": "bytes=10-19"})
    assert part == body[10:20] and headers["content-range"] == "bytes 10-19/1024"
    assert alice.head_object("c", "o")["x-object-meta-color"] == "blue"
    answer: dict[str, Any] = {}
    with pytest.raises(ClientException) as unchanged:
        alice.get_object("c", "o", headers={"If-None-Match": etag}, response_dict=answer)
    assert unchanged.value.http_status == 304
    with pytest.raises(ClientException) as failed:
        alice.get_object("c", "o", headers={"If-Match": "nope"})
    assert failed.value.http_status == 412
    alice.post_object("c", "o", {"X-Object-Meta-Color": "red"})
    assert alice.head_object("c", "o")["x-object-meta-color"] == "red"
    alice.post_container("c", {"X-Container-Read": ".r:*", "X-Container-Meta-Tag": "t"})
    head = alice.head_container("c")
    assert head["x-container-read"] == ".r:*" and head["x-container-meta-tag"] == "t"
    assert head["x-ocx-landlord"] == "mit"
    public = requests.get(f"{head['x-ocx-storage-url']}/c/o", timeout=10)
    assert public.content == body  # the ACL holds at the landlord itself


def test_copies_within_and_between_landlords(mixed: Mixed, alice: swift.Connection) -> None:
    placed(alice, "here", "mit")
    placed(alice, "also-here", "mit")
    placed(alice, "there", "stor")
    alice.put_object("here", "src", b"payload", headers={"X-Object-Meta-Kind": "k"})
    alice.copy_object("here", "src", "/also-here/same")
    alice.copy_object("here", "src", "/there/moved", headers={"X-Object-Meta-Extra": "e"})
    alice.put_object("there", "pulled", None, headers={"X-Copy-From": "/here/src"})
    for container, name in (("also-here", "same"), ("there", "moved"), ("there", "pulled")):
        headers, body = alice.get_object(container, name)
        assert body == b"payload" and headers["x-object-meta-kind"] == "k"
    assert alice.head_object("there", "moved")["x-object-meta-extra"] == "e"
    assert [o["name"] for o in mixed.direct("stor").get_container("there")[1]] == [
        "moved",
        "pulled",
    ]
    url, token = alice.get_auth()
    other = requests.request(
        "COPY",
        url + "/here/src",
        headers={
            "X-Auth-Token": token,
            "Destination": "there/x",
            "Destination-Account": "AUTH_other",
        },
        timeout=10,
    )
    assert other.status_code == 403


def test_large_objects_keep_their_segments_with_the_manifest(
    mixed: Mixed, alice: swift.Connection
) -> None:
    placed(alice, "big", "stor")
    placed(alice, "big_segments")
    parts = [bytes([i]) * 100_000 for i in range(3)]
    for i, part in enumerate(parts):
        alice.put_object("big_segments", f"f/{i:03d}", part)
    manifest = [
        {
            "path": f"/big_segments/f/{i:03d}",
            "etag": hashlib.md5(p).hexdigest(),
            "size_bytes": len(p),
        }
        for i, p in enumerate(parts)
    ]
    alice.put_object("big", "slo", _json(manifest), query_string="multipart-manifest=put")
    alice.put_object("big", "dlo", b"", headers={"X-Object-Manifest": "big_segments/f/"})
    whole = b"".join(parts)
    assert alice.get_object("big", "slo")[1] == whole
    assert alice.get_object("big", "dlo")[1] == whole
    assert (
        alice.get_object("big", "slo", headers={"Range": "bytes=99990-100009"})[1]
        == whole[99990:100010]
    )
    assert sorted(names_at(mixed.direct("stor"))) == ["big", "big_segments"]


def _json(doc: Any) -> bytes:
    import json

    return json.dumps(doc).encode()


def test_temp_urls_for_home_containers_work_at_the_proxy(
    mixed: Mixed, alice: swift.Connection
) -> None:
    placed(alice, "pub", "harvard")
    placed(alice, "far", "mit")
    alice.put_object("pub", "o", b"home bytes")
    alice.put_object("far", "o", b"far bytes")
    alice.post_account({"X-Account-Meta-Temp-URL-Key": "secret"})  # every landlord gets it
    url, _ = alice.get_auth()
    expires = int(time.time() + 60)
    path = url[url.index("/v1/") :] + "/pub/o"
    sig = hmac.new(b"secret", f"GET\n{expires}\n{path}".encode(), hashlib.sha256).hexdigest()
    got = requests.get(
        f"{url}/pub/o", params={"temp_url_sig": sig, "temp_url_expires": expires}, timeout=10
    )
    assert got.content == b"home bytes"
    # For a container elsewhere, sign the landlord's own URL, which the proxy reports.
    storage = alice.head_container("far")["x-ocx-storage-url"]
    path = storage[storage.index("/v1/") :] + "/far/o"
    sig = hmac.new(b"secret", f"GET\n{expires}\n{path}".encode(), hashlib.sha256).hexdigest()
    got = requests.get(
        f"{storage}/far/o", params={"temp_url_sig": sig, "temp_url_expires": expires}, timeout=10
    )
    assert got.content == b"far bytes"
    anonymous = requests.get(f"{url}/far/o", timeout=10)
    assert anonymous.status_code == 401


def test_temp_urls_for_containers_elsewhere_work_at_the_proxy(
    mixed: Mixed, alice: swift.Connection
) -> None:
    """A temp URL made with swiftclient for the proxy's path reaches a container at mit (it
    went home and failed there): the proxy finds mit and re-signs for mit's own path."""
    placed(alice, "far", "mit")
    placed(alice, "drop", "stor", **{"X-Container-Meta-Temp-URL-Key": "drop-key"})
    alice.put_object("far", "o", b"far bytes")
    alice.put_object("far", "logs/1", b"one")
    alice.post_account({"X-Account-Meta-Temp-URL-Key": "secret"})  # every landlord gets it
    account = urlsplit(alice.get_auth()[0]).path
    proxy = mixed.proxy_url

    get = proxy + generate_temp_url(f"{account}/far/o", 60, "secret", "GET")
    answer = requests.get(get, timeout=30)
    assert (answer.status_code, answer.content) == (200, b"far bytes")
    assert answer.headers["x-ocx-landlord"] == "mit"
    assert requests.head(get, timeout=30).headers["content-length"] == "9"
    sha512 = generate_temp_url(f"{account}/far/o", 60, "secret", "GET", digest="sha512")
    assert requests.get(proxy + sha512, timeout=30).content == b"far bytes"
    prefixed = generate_temp_url(f"{account}/far/logs/", 60, "secret", "GET", prefix=True)
    assert requests.get(proxy + prefixed.replace("/logs/?", "/logs/1?"), timeout=30).ok
    # A PUT temp URL with the container's own key, at stor.
    put = proxy + generate_temp_url(f"{account}/drop/up.bin", 60, "drop-key", "PUT")
    assert requests.put(put, data=b"uploaded", timeout=30).status_code == 201
    assert alice.get_object("drop", "up.bin")[1] == b"uploaded"
    # ...which reaches only its own container (#17 S1), at stor as anywhere.
    copy = requests.put(put, headers={"X-Copy-From": "far/o"}, timeout=30)
    assert copy.status_code in (401, 403), copy.status_code

    # Still no way in without the key, or past the expiry, or for another method.
    forged = proxy + generate_temp_url(f"{account}/far/o", 60, "not the key", "GET")
    assert requests.get(forged, timeout=30).status_code == 401
    assert requests.delete(get, timeout=30).status_code == 401
    past = proxy + generate_temp_url(
        f"{account}/far/o", int(time.time()) - 10, "secret", "GET", absolute=True
    )
    assert requests.get(past, timeout=30).status_code == 401
    assert requests.get(f"{proxy}{account}/far/o", timeout=30).status_code == 401

    # The routing table forgotten (entries last 5 minutes; temp URLs longer), it is found by
    # asking the landlords where the proxy holds the customer's token.
    mixed.proxy.routes.clear()
    assert requests.get(get, timeout=30).content == b"far bytes"


def test_the_routing_cache_is_corrected_on_404(mixed: Mixed, alice: swift.Connection) -> None:
    placed(alice, "moving", "mit")
    alice.put_object("moving", "o", b"first home")  # found at mit, and cached
    mit, stor = mixed.direct("mit"), mixed.direct("stor")
    mit.delete_object("moving", "o")
    mit.delete_container("moving")
    stor.put_container("moving")
    stor.put_object("moving", "o", b"second home")
    headers, body = alice.get_object("moving", "o")
    assert body == b"second home" and headers["x-ocx-landlord"] == "stor"
    assert mixed.proxy.routes.get(_account(mixed), "object-store", "moving") == "stor"
    with pytest.raises(ClientException) as missing:
        alice.get_object("moving", "nothing")  # the object's 404, not the container's
    assert missing.value.http_status == 404
    assert mixed.proxy.routes.get(_account(mixed), "object-store", "moving") == "stor"


def _account(mixed: Mixed) -> tuple[str, str]:
    access = mixed.session().auth.get_access(mixed.session())
    return (access.user_id, access.project_id)


def test_info_advertises_what_the_proxy_offers(mixed: Mixed) -> None:
    info = requests.get(mixed.proxy_url + "/info", timeout=10).json()
    assert "slo" in info and "bulk_delete" not in info
    assert info["ocx_proxy"]["id"] == "harvard-proxy"
    # Swift's implicit default policy, which every landlord's containers are in.
    assert info["swift"]["policies"] == [
        {"name": "Policy-0", "aliases": "Policy-0", "default": True}
    ]
