"""Account and container listings: formats, prefix, delimiter, markers, limit, reverse."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from tests.object.conftest import Customer, raw, swift_fault

NAMES = ["a", "a/1", "a/2", "a/b/3", "b", "b/1", "c.txt", "é"]


@pytest.fixture
def filled(alice: Customer) -> tuple[str, str]:
    url, token = alice.token()
    raw("PUT", url + "/list", token)
    raw("PUT", url + "/other", token)
    for name in NAMES:
        raw("PUT", f"{url}/list/{name}", token, data=name.encode())
    return url, token


def names(url: str, token: str, query: str) -> list[str]:
    resp = raw("GET", f"{url}/list?format=json&{query}", token)
    assert resp.status_code == 200
    return [item.get("name", item.get("subdir")) for item in resp.json()]


def test_container_listing_queries(filled: tuple[str, str]) -> None:
    url, token = filled
    assert names(url, token, "") == NAMES
    assert names(url, token, "prefix=a/") == ["a/1", "a/2", "a/b/3"]
    assert names(url, token, "delimiter=/") == ["a", "a/", "b", "b/", "c.txt", "é"]
    assert names(url, token, "prefix=a/&delimiter=/") == ["a/1", "a/2", "a/b/"]
    assert names(url, token, "marker=a/2") == ["a/b/3", "b", "b/1", "c.txt", "é"]
    assert names(url, token, "end_marker=b") == ["a", "a/1", "a/2", "a/b/3"]
    assert names(url, token, "limit=2") == ["a", "a/1"]
    assert names(url, token, "reverse=true&limit=3") == ["é", "c.txt", "b/1"]
    assert names(url, token, "reverse=on&delimiter=/") == ["é", "c.txt", "b/", "b", "a/", "a"]
    assert names(url, token, "delimiter=/&marker=a/") == ["b", "b/", "c.txt", "é"]


def test_listing_formats(filled: tuple[str, str]) -> None:
    url, token = filled
    text = raw("GET", url + "/list?prefix=a/", token)
    assert text.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert text.text == "a/1\na/2\na/b/3\n"
    item = raw("GET", url + "/list?format=json&prefix=c", token).json()[0]
    assert set(item) == {"name", "hash", "bytes", "content_type", "last_modified"}
    assert item["bytes"] == 5
    assert item["content_type"] == "text/plain"
    xml = raw("GET", url + "/list?format=xml&delimiter=/&prefix=b", token)
    root = ET.fromstring(xml.content)
    assert root.tag == "container"
    assert root.attrib["name"] == "list"
    assert [e.findtext("name") for e in root] == ["b", "b/"]
    assert raw("GET", url + "/list", token, headers={"Accept": "application/json"}).json()
    empty = raw("GET", url + "/list?prefix=zzz", token)
    assert empty.status_code == 204
    assert raw("GET", url + "/list?prefix=zzz&format=json", token).json() == []


def test_limits(filled: tuple[str, str]) -> None:
    url, token = filled
    over = raw("GET", url + "/list?limit=10001", token)
    assert over.status_code == 412
    assert over.text == swift_fault("Precondition Failed", "Maximum limit is 10000")
    bad = raw("GET", url + "/list?delimiter=ab", token)
    assert bad.status_code == 412
    assert bad.text == swift_fault("Precondition Failed", "Bad delimiter")


def test_account_listing_and_headers(filled: tuple[str, str]) -> None:
    url, token = filled
    resp = raw("GET", url + "?format=json", token)
    assert [c["name"] for c in resp.json()] == ["list", "other"]
    assert resp.json()[0]["count"] == len(NAMES)
    assert resp.headers["X-Account-Container-Count"] == "2"
    assert resp.headers["X-Account-Object-Count"] == str(len(NAMES))
    assert resp.headers["X-Account-Bytes-Used"] == str(sum(len(n.encode()) for n in NAMES))
    assert raw("GET", url + "?prefix=o", token).text == "other\n"
    assert raw("GET", url + "?marker=list", token).text == "other\n"
    xml = ET.fromstring(raw("GET", url + "?format=xml", token).content)
    assert xml.tag == "account"
    assert [c.findtext("name") for c in xml] == ["list", "other"]
    assert json.loads(raw("GET", url + "?format=json&reverse=1", token).text)[0]["name"] == "other"
