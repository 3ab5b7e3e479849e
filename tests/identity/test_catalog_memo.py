"""The catalog and service providers in token documents are remembered between requests
(ocx.identity.service), and a change to them is in the very next token document."""

from __future__ import annotations

from typing import Any

from tests.identity.conftest import Admin


def _validated(admin: Admin) -> dict[str, Any]:
    token = admin.session.get_token()
    resp = admin.session.get(admin.url + "/auth/tokens", headers={"X-Subject-Token": token})
    return dict(resp.json()["token"])


def _urls(doc: dict[str, Any], type_: str) -> list[str]:
    return [e["url"] for s in doc["catalog"] if s["type"] == type_ for e in s["endpoints"]]


def test_catalog_changes_are_in_the_next_token_document(admin: Admin) -> None:
    assert _urls(_validated(admin), "image") == []  # remembered from here on
    service = admin.call(
        "POST", "/services", {"service": {"type": "image", "name": "glance"}}, ok=201
    )["service"]
    body = {"service_id": service["id"], "interface": "public", "url": "http://img/$(project_id)s"}
    endpoint = admin.call("POST", "/endpoints", {"endpoint": body}, ok=201)["endpoint"]
    doc = _validated(admin)
    assert _urls(doc, "image") == [f"http://img/{doc['project']['id']}"]
    admin.call("PATCH", f"/endpoints/{endpoint['id']}", {"endpoint": {"url": "http://b"}}, ok=200)
    assert _urls(_validated(admin), "image") == ["http://b"]
    admin.call("DELETE", f"/endpoints/{endpoint['id']}", ok=204)
    assert _urls(_validated(admin), "image") == []
    admin.call("PATCH", f"/services/{service['id']}", {"service": {"enabled": False}}, ok=200)
    assert "image" not in [s["type"] for s in _validated(admin)["catalog"]]


def test_service_provider_changes_are_in_the_next_token_document(admin: Admin) -> None:
    assert "service_providers" not in _validated(admin)
    sp = {"auth_url": "http://sp/v3/auth", "sp_url": "http://sp/ecp", "enabled": True}
    admin.call("PUT", "/OS-FEDERATION/service_providers/far", {"service_provider": sp}, ok=201)
    assert [p["id"] for p in _validated(admin)["service_providers"]] == ["far"]
    admin.call("DELETE", "/OS-FEDERATION/service_providers/far", ok=204)
    assert "service_providers" not in _validated(admin)
