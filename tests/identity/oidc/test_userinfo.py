"""The userinfo endpoint: our access tokens only, and the user as they are now."""

from __future__ import annotations

from ocx.runner import Exchange
from tests.identity.conftest import Admin
from tests.identity.oidc.conftest import Oidc, oauth_error


def test_userinfo_with_the_access_token(oidc: Oidc, admin: Admin) -> None:
    project, user = admin.customer("alice")
    admin.call("PATCH", f"/users/{user['id']}", {"user": {"email": "alice@h.edu"}}, ok=200)
    token = oidc.password_grant(oidc.client(), "alice")["access_token"]
    for method in ("GET", "POST"):
        resp = oidc.http.request(
            method, oidc.userinfo_url, headers={"Authorization": f"Bearer {token}"}
        )
        assert resp.status_code == 200, resp.text
        assert resp.json() == {
            "sub": user["id"],
            "preferred_username": "alice",
            "email": "alice@h.edu",
            "domain": {"id": "default", "name": "Default"},
            "groups": [],
            "projects": [project["name"]],
        }


def test_userinfo_refuses_anything_else(oidc: Oidc, admin: Admin) -> None:
    _, user = admin.customer("alice")
    doc = oidc.password_grant(oidc.client(), "alice")
    keystone = oidc.user_token("alice")
    for value in (
        None,
        "Basic YTpi",
        "Bearer",
        f"Bearer {doc['id_token']}",
        f"Bearer {keystone}",
        f"Bearer {doc['access_token']}x",
    ):
        headers = {"Authorization": value} if value else {}
        resp = oidc.http.get(oidc.userinfo_url, headers=headers)
        assert resp.status_code == 401 and oauth_error(resp) == "invalid_token"
        assert resp.headers["www-authenticate"].startswith("Bearer")
    admin.call("PATCH", f"/users/{user['id']}", {"user": {"enabled": False}}, ok=200)
    gone = oidc.http.get(
        oidc.userinfo_url, headers={"Authorization": f"Bearer {doc['access_token']}"}
    )
    assert gone.status_code == 401 and oauth_error(gone) == "invalid_token"


def test_userinfo_refuses_another_landlords_token(oidc: Oidc, exchange: Exchange) -> None:
    mit = Oidc(exchange, Admin(exchange, "mit"), oidc.http, "mit")
    mit.admin.customer("alice")
    token = mit.password_grant(mit.client(), "alice")["access_token"]
    resp = oidc.http.get(oidc.userinfo_url, headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 401 and oauth_error(resp) == "invalid_token"
    assert "unknown key" in resp.json()["error_description"]
