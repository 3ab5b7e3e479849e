"""What an administrator registers that others depend on is refused when it cannot work (#17 R3).

A service provider is followed by every client taking a token there (and by the proxy), an
endpoint is in every catalog, an identity provider's keys decide who gets in: a bad one is a
clear 400 that names the field, and nothing is stored.
"""

from __future__ import annotations

import pytest

from tests.identity.conftest import Admin

FED = "/OS-FEDERATION"
GOOD = "https://stor.example/v3/OS-FEDERATION/identity_providers/harvard/protocols/saml2/auth"
BAD_URLS = ["not a url", "ftp://stor.example/x", "http://", "/relative/path", "http://h:99999/x"]


def message(admin: Admin, method: str, path: str, body: dict[str, object]) -> tuple[int, str]:
    resp = admin.session.request(admin.url + path, method, json=body, raise_exc=False)
    return resp.status_code, str(resp.json()["error"]["message"]) if resp.content else ""


@pytest.mark.parametrize("bad", BAD_URLS)
@pytest.mark.parametrize("field", ["auth_url", "sp_url"])
def test_service_provider_urls_must_work(admin: Admin, field: str, bad: str) -> None:
    body = {"auth_url": GOOD, "sp_url": GOOD, field: bad}
    status, text = message(admin, "PUT", f"{FED}/service_providers/s1", {"service_provider": body})
    assert status == 400
    assert text.startswith(f"Invalid {field} {bad!r}: ")
    assert admin.call("GET", f"{FED}/service_providers", ok=200)["service_providers"] == []


def test_service_provider_update_is_checked_too(admin: Admin) -> None:
    body = {"service_provider": {"auth_url": GOOD, "sp_url": GOOD}}
    admin.call("PUT", f"{FED}/service_providers/s1", body, ok=201)
    status, text = message(
        admin, "PATCH", f"{FED}/service_providers/s1", {"service_provider": {"sp_url": "x y"}}
    )
    assert (status, text) == (
        400,
        "Invalid sp_url 'x y': it contains white space or control characters.",
    )
    kept = admin.call("GET", f"{FED}/service_providers/s1", ok=200)["service_provider"]
    assert kept["sp_url"] == GOOD


def test_identity_provider_keys_must_be_usable(admin: Admin) -> None:
    path = f"{FED}/identity_providers/idp1"
    status, text = message(admin, "PUT", path, {"identity_provider": {"jwks_uri": "nowhere"}})
    assert (status, text) == (
        400,
        "Invalid jwks_uri 'nowhere': it must be an absolute http:// or https:// URL.",
    )
    body = {"identity_provider": {"saml_certificate": "-----BEGIN CERTIFICATE-----\nxx"}}
    status, text = message(admin, "PUT", path, body)
    assert status == 400 and text.startswith("Invalid saml_certificate")
    status, text = message(admin, "PUT", path, {"identity_provider": {"remote_ids": [" "]}})
    assert (status, text) == (400, "An identity provider's remote ids must not be empty.")
    assert admin.call("GET", f"{FED}/identity_providers", ok=200)["identity_providers"] == []


def test_endpoint_url_must_work(admin: Admin) -> None:
    service = admin.call("POST", "/services", {"service": {"type": "thing"}}, ok=201)["service"]
    body = {"endpoint": {"service_id": service["id"], "interface": "public", "url": "not a url"}}
    status, text = message(admin, "POST", "/endpoints", body)
    assert (status, text) == (
        400,
        "Invalid endpoint url 'not a url': it contains white space or control characters.",
    )
    body["endpoint"]["url"] = "http://thing.example/v1/AUTH_$(project_id)s"
    made = admin.call("POST", "/endpoints", body, ok=201)["endpoint"]
    status, _ = message(admin, "PATCH", f"/endpoints/{made['id']}", {"endpoint": {"url": "x:"}})
    assert status == 400
    kept = admin.call("GET", f"/endpoints/{made['id']}", ok=200)["endpoint"]
    assert kept["url"] == "http://thing.example/v1/AUTH_$(project_id)s"


def test_identity_providers_are_listed_by_enabled(admin: Admin) -> None:
    admin.call("PUT", f"{FED}/identity_providers/on", {"identity_provider": {}}, ok=201)
    off = {"identity_provider": {"enabled": False}}
    admin.call("PUT", f"{FED}/identity_providers/off", off, ok=201)

    def listed(query: str) -> list[str]:
        found = admin.call("GET", f"{FED}/identity_providers{query}", ok=200)
        return [idp["id"] for idp in found["identity_providers"]]

    assert listed("") == ["off", "on"]
    assert (listed("?enabled=false"), listed("?enabled=true")) == (["off"], ["on"])
    status, text = message(admin, "GET", f"{FED}/identity_providers?enabled=maybe", {})
    assert (status, text) == (400, "Expected a boolean, not 'maybe'.")
