"""Who may do what: owners, readers, other projects, ACLs, public read, other landlords."""

from __future__ import annotations

import pytest

from ocx.runner import Exchange
from tests.conftest import ExchangeFactory
from tests.object.conftest import Customer, Landlord, raw, swift_fault

DENIED = swift_fault("Forbidden", "Access was denied to this resource.")
UNAUTHORIZED = swift_fault(
    "Unauthorized",
    "This server could not verify that you are authorized to access the document you requested.",
)


@pytest.fixture
def shared(landlord: Landlord, alice: Customer) -> tuple[str, str]:
    url, token = alice.token()
    raw("PUT", url + "/box", token)
    raw("PUT", url + "/box/doc", token, data=b"secret")
    return url, token


def test_other_project_is_forbidden(landlord: Landlord, shared: tuple[str, str]) -> None:
    url, _ = shared
    _, bob_token = landlord.customer("bob").token()
    for method, path in [
        ("GET", ""),
        ("HEAD", ""),
        ("POST", ""),
        ("GET", "/box"),
        ("PUT", "/box2"),
        ("GET", "/box/doc"),
        ("PUT", "/box/doc"),
        ("DELETE", "/box/doc"),
        ("GET", "/missing"),
    ]:
        resp = raw(method, url + path, bob_token, data=b"x" if method == "PUT" else None)
        assert resp.status_code == 403, (method, path)
        if method != "HEAD":
            assert resp.text == DENIED


def test_anonymous_is_unauthorized(shared: tuple[str, str]) -> None:
    url, _ = shared
    resp = raw("GET", url + "/box/doc")
    assert resp.status_code == 401
    assert resp.text == UNAUTHORIZED
    assert raw("GET", url, "not-a-token").status_code == 401


def test_reader_reads_but_cannot_write(
    landlord: Landlord, alice: Customer, shared: tuple[str, str]
) -> None:
    url, _ = shared
    reader = landlord.customer("rita", role="reader", project_id=alice.project_id)
    _, token = reader.token()
    assert raw("GET", url, token).status_code == 200
    assert raw("GET", url + "/box/doc", token).content == b"secret"
    for method, path in [
        ("PUT", "/box/new"),
        ("DELETE", "/box/doc"),
        ("POST", "/box/doc"),
        ("PUT", "/box2"),
        ("POST", ""),
        ("DELETE", "/box"),
    ]:
        resp = raw(method, url + path, token, data=b"x" if method == "PUT" else None)
        assert resp.status_code == 403, (method, path)
        assert resp.text == DENIED


def test_read_and_write_acls(landlord: Landlord, shared: tuple[str, str]) -> None:
    url, token = shared
    bob = landlord.customer("bob")
    _, bob_token = bob.token()
    grant = raw("POST", url + "/box", token, headers={"X-Container-Read": f"{bob.project_id}:*"})
    assert grant.status_code == 204
    assert raw("GET", url + "/box/doc", bob_token).content == b"secret"
    assert raw("GET", url + "/box", bob_token).text == "doc\n"
    assert raw("PUT", url + "/box/doc", bob_token, data=b"no").status_code == 403
    assert raw("GET", url, bob_token).status_code == 403  # the account stays private
    assert "X-Container-Read" not in raw("HEAD", url + "/box", bob_token).headers
    raw("POST", url + "/box", token, headers={"X-Container-Write": f"*:{bob.user_id}"})
    assert raw("PUT", url + "/box/from-bob", bob_token, data=b"hi").status_code == 201
    assert (
        raw("POST", url + "/box", bob_token, headers={"X-Container-Read": ".r:*"}).status_code
        == 403
    )
    raw("POST", url + "/box", token, headers={"X-Remove-Container-Read": "x"})
    assert raw("GET", url + "/box/doc", bob_token).status_code == 403


def test_public_read_only_with_dot_r_star(shared: tuple[str, str]) -> None:
    url, token = shared
    raw("POST", url + "/box", token, headers={"X-Container-Read": ".rlistings"})
    assert raw("GET", url + "/box/doc").status_code == 401
    raw("POST", url + "/box", token, headers={"X-Container-Read": ".r:*"})
    assert raw("GET", url + "/box/doc").content == b"secret"
    assert raw("HEAD", url + "/box/doc").status_code == 200
    assert raw("GET", url + "/box").status_code == 401  # no listing without .rlistings
    assert raw("PUT", url + "/box/doc", data=b"x").status_code == 401
    raw("POST", url + "/box", token, headers={"X-Container-Read": ".r:*,.rlistings"})
    assert raw("GET", url + "/box").text == "doc\n"
    assert raw("GET", url).status_code == 401


def test_bad_acl_is_rejected(shared: tuple[str, str]) -> None:
    url, token = shared
    resp = raw("POST", url + "/box", token, headers={"X-Container-Write": ".r:*"})
    assert resp.status_code == 400
    assert resp.text == swift_fault("Bad Request", "Referrers not allowed in write ACL: '.r:*'")


def test_another_landlords_token_is_refused(exchange_factory: ExchangeFactory) -> None:
    exchange: Exchange = exchange_factory(
        {"harvard": ["identity", "object"], "mit": ["identity", "object"]}
    )
    harvard, mit = Landlord(exchange, "harvard"), Landlord(exchange, "mit")
    alice = harvard.customer("alice")
    url, token = alice.token()
    mit_url = mit.account_url(alice.project_id)
    resp = raw("GET", mit_url, token)
    assert resp.status_code == 401
    assert raw("GET", url, token).status_code == 204


def test_container_quotas(shared: tuple[str, str]) -> None:
    url, token = shared
    bad = raw("POST", url + "/box", token, headers={"X-Container-Meta-Quota-Bytes": "lots"})
    assert bad.status_code == 400
    assert bad.text == swift_fault("Bad Request", "Invalid bytes quota.")
    raw("POST", url + "/box", token, headers={"X-Container-Meta-Quota-Bytes": "10"})
    over = raw("PUT", url + "/box/big", token, data=b"x" * 5)
    assert over.status_code == 413
    assert over.text == swift_fault("Request Entity Too Large", "Upload exceeds quota.")
    chunked = raw("PUT", url + "/box/big", token, data=iter([b"x" * 5]))
    assert chunked.status_code == 413
    raw(
        "POST",
        url + "/box",
        token,
        headers={"X-Container-Meta-Quota-Bytes": "", "X-Container-Meta-Quota-Count": "1"},
    )
    assert raw("PUT", url + "/box/more", token, data=b"x").status_code == 413
    assert raw("PUT", url + "/box/doc", token, data=b"replaced").status_code == 201
