"""What a temp URL or a name in an ACL may reach, and no further (issue #17, S1 and S2)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import requests
from swiftclient import client as swift

from ocx.swift import tempurl
from tests.object.conftest import Customer, Landlord, raw


class Drop:
    """Alice's ``drop`` container with a container temp-URL key, and her private ``a-priv``."""

    def __init__(self, alice: Customer):
        self.url, self.token = alice.token()
        self.account = "AUTH_" + alice.project_id
        for name in ("drop", "a-priv"):
            assert raw("PUT", f"{self.url}/{name}", self.token).status_code in (201, 202)
        raw("POST", self.url + "/drop", self.token, headers={"X-Container-Meta-Temp-URL-Key": "k"})
        assert raw("PUT", self.url + "/a-priv/secret.txt", self.token, data=b"s3cr3t").ok
        assert raw("PUT", self.url + "/a-priv/p/1", self.token, data=b"s3").ok

    def signed(self, method: str, path: str, key: str = "k") -> str:
        expires = int(time.time()) + 300
        sig = tempurl.sign(key, method, expires, f"/v1/{self.account}/{path}")
        return f"{self.url}/{path}?temp_url_sig={sig}&temp_url_expires={expires}"

    def send(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return requests.request(method, self.signed(method, path), timeout=30, **kwargs)


@pytest.fixture
def drop(alice: Customer) -> Drop:
    return Drop(alice)


def test_container_key_copies_only_from_its_container(drop: Drop) -> None:
    resp = drop.send("PUT", "drop/upload.bin", headers={"X-Copy-From": "a-priv/secret.txt"})
    assert resp.status_code == 401
    assert drop.send("GET", "drop/upload.bin").status_code == 404
    # Within its own container a copy is fine.
    assert drop.send("PUT", "drop/orig", data=b"mine").status_code == 201
    resp = drop.send("PUT", "drop/upload.bin", headers={"X-Copy-From": "drop/orig"})
    assert resp.status_code == 201
    assert drop.send("GET", "drop/upload.bin").content == b"mine"


def test_container_key_manifests_stay_in_their_container(drop: Drop) -> None:
    manifest = json.dumps([{"path": "/a-priv/secret.txt"}])
    resp = requests.put(
        drop.signed("PUT", "drop/upload.bin") + "&multipart-manifest=put",
        data=manifest,
        timeout=30,
    )
    assert resp.status_code == 401
    assert drop.send("GET", "drop/upload.bin").status_code == 404


def test_container_key_dlo_cannot_read_elsewhere(drop: Drop) -> None:
    resp = drop.send("PUT", "drop/upload.bin", headers={"X-Object-Manifest": "a-priv/"}, data=b"")
    assert resp.status_code == 201  # stored as the holder asked; reading it is what counts
    got = drop.send("GET", "drop/upload.bin")
    assert got.status_code == 401
    assert b"s3" not in got.content


def test_container_key_names_no_other_container(drop: Drop) -> None:
    # A COPY (not a temp-URL method) and a signature for another container both fail.
    assert drop.send("COPY", "drop/x", headers={"Destination": "a-priv/y"}).status_code == 401
    assert drop.send("GET", "a-priv/secret.txt").status_code == 401


def test_account_key_reaches_the_account(drop: Drop) -> None:
    raw("POST", drop.url, drop.token, headers={"X-Account-Meta-Temp-URL-Key": "acct"})
    expires = int(time.time()) + 300
    path = f"/v1/{drop.account}/drop/upload.bin"
    sig = tempurl.sign("acct", "PUT", expires, path)
    resp = requests.put(
        f"{drop.url}/drop/upload.bin?temp_url_sig={sig}&temp_url_expires={expires}",
        headers={"X-Copy-From": "a-priv/secret.txt"},
        timeout=30,
    )
    assert resp.status_code == 201


def test_names_in_acls_only_match_the_default_domain(landlord: Landlord, alice: Customer) -> None:
    url, token = alice.token()
    raw("PUT", url + "/shared", token)
    raw("PUT", url + "/shared/doc", token, data=b"for bob only")
    bob = landlord.customer("bob")
    raw("POST", url + "/shared", token, headers={"X-Container-Read": "bob-project:bob"})
    # The real bob (default domain) is granted by name.
    assert raw("GET", url + "/shared/doc", bob.token()[1]).content == b"for bob only"
    # The same names in another domain are not him.
    admin = landlord.admin
    domain = admin.call("POST", "/domains", {"domain": {"name": "elsewhere"}}, ok=201)["domain"]
    project = admin.call(
        "POST", "/projects", {"project": {"name": "bob-project", "domain_id": domain["id"]}}, ok=201
    )["project"]
    user = admin.call(
        "POST",
        "/users",
        {"user": {"name": "bob", "password": "imp-pw", "domain_id": domain["id"]}},
        ok=201,
    )["user"]
    admin.grant(project["id"], user["id"], "member")
    conn = swift.Connection(
        authurl=landlord.auth_url,
        user="bob",
        key="imp-pw",
        auth_version="3",
        os_options={"project_id": project["id"], "user_domain_id": domain["id"]},
    )
    _, imp_token = conn.get_auth()
    assert raw("GET", url + "/shared/doc", imp_token).status_code == 403
    # By id it is granted, whatever the domain.
    raw(
        "POST",
        url + "/shared",
        token,
        headers={"X-Container-Read": f"{project['id']}:{user['id']}"},
    )
    assert raw("GET", url + "/shared/doc", imp_token).content == b"for bob only"
