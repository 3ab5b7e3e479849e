"""Refresh tokens: rotated on every use; a replay revokes the sign-in; sign-ins end with the
user's password, roles or groups changing."""

from __future__ import annotations

from typing import Any

from ocx.common import jws
from tests.identity.conftest import Admin
from tests.identity.oidc.conftest import Oidc, oauth_error


def refresh(oidc: Oidc, client: dict[str, Any], token: str, **extra: str) -> Any:
    return oidc.token(client, {"grant_type": "refresh_token", "refresh_token": token, **extra})


def test_refresh_rotates_and_keeps_the_sign_in(oidc: Oidc, admin: Admin) -> None:
    admin.customer("alice")
    client = oidc.client()
    first = oidc.password_grant(client, "alice", scope="openid profile email")
    second = refresh(oidc, client, first["refresh_token"])
    assert second.status_code == 200, second.text
    doc = second.json()
    assert doc["refresh_token"] != first["refresh_token"]
    assert doc["scope"] == "openid profile email"
    before = oidc.verify(first["id_token"], typ=jws.TYP_ID)
    after = oidc.verify(doc["id_token"], typ=jws.TYP_ID)
    assert after["auth_time"] == before["auth_time"]
    assert oidc.verify(doc["access_token"])["jti"] != oidc.verify(first["access_token"])["jti"]
    third = refresh(oidc, client, doc["refresh_token"], scope="openid")
    assert third.status_code == 200 and third.json()["scope"] == "openid"


def test_refresh_cannot_widen_the_scope(oidc: Oidc, admin: Admin) -> None:
    admin.customer("alice")
    client = oidc.client()
    first = oidc.password_grant(client, "alice", scope="openid")
    resp = refresh(oidc, client, first["refresh_token"], scope="openid email")
    assert resp.status_code == 400 and oauth_error(resp) == "invalid_scope"


def test_reused_refresh_token_revokes_the_whole_family(oidc: Oidc, admin: Admin) -> None:
    admin.customer("alice")
    client = oidc.client()
    stolen = oidc.password_grant(client, "alice")["refresh_token"]
    rotated = refresh(oidc, client, stolen).json()["refresh_token"]
    replay = refresh(oidc, client, stolen)
    assert replay.status_code == 400 and oauth_error(replay) == "invalid_grant"
    assert "already used" in replay.json()["error_description"]
    # The legitimate holder's newer token died with it: nobody can tell who is who.
    after = refresh(oidc, client, rotated)
    assert after.status_code == 400 and oauth_error(after) == "invalid_grant"
    assert "revoked" in after.json()["error_description"]
    # Another sign-in of the same user is untouched.
    other = oidc.password_grant(client, "alice")["refresh_token"]
    assert refresh(oidc, client, other).status_code == 200


def test_refresh_token_is_bound_to_its_client(oidc: Oidc, admin: Admin) -> None:
    admin.customer("alice")
    mine, theirs = oidc.client(), oidc.client()
    token = oidc.password_grant(mine, "alice")["refresh_token"]
    resp = refresh(oidc, theirs, token)
    assert resp.status_code == 400 and oauth_error(resp) == "invalid_grant"
    assert refresh(oidc, mine, token).status_code == 200


def test_forged_or_unknown_refresh_tokens(oidc: Oidc, admin: Admin) -> None:
    admin.customer("alice")
    client = oidc.client()
    real = oidc.password_grant(client, "alice")["refresh_token"]
    family, _, secret = real.partition(".")
    for token in ("nope", f"{family}.forged", f"other.{secret}", real + "x"):
        resp = refresh(oidc, client, token)
        assert resp.status_code == 400 and oauth_error(resp) == "invalid_grant"
    assert refresh(oidc, client, real).status_code == 200


def test_password_change_ends_the_sign_in(oidc: Oidc, admin: Admin) -> None:
    _, user = admin.customer("alice")
    client = oidc.client()
    token = oidc.password_grant(client, "alice")["refresh_token"]
    admin.call("PATCH", f"/users/{user['id']}", {"user": {"password": "new-pw"}}, ok=200)
    resp = refresh(oidc, client, token)
    assert resp.status_code == 400 and oauth_error(resp) == "invalid_grant"
    assert "changed" in resp.json()["error_description"]


def test_refreshed_claims_follow_the_landlord(oidc: Oidc, admin: Admin) -> None:
    _, user = admin.customer("alice")
    client = oidc.client()
    token = oidc.password_grant(client, "alice")["refresh_token"]
    group = admin.call("POST", "/groups", {"group": {"name": "physics"}}, ok=201)["group"]
    admin.call("PUT", f"/groups/{group['id']}/users/{user['id']}", ok=204)
    doc = refresh(oidc, client, token).json()
    assert oidc.verify(doc["access_token"])["groups"] == ["physics"]


def test_no_refresh_token_without_the_grant(oidc: Oidc, admin: Admin) -> None:
    admin.customer("alice")
    client = oidc.client(grant_types=["password"])
    assert "refresh_token" not in oidc.password_grant(client, "alice")


def test_disabling_the_domain_ends_the_sign_in(oidc: Oidc, admin: Admin) -> None:
    domain = admin.call("POST", "/domains", {"domain": {"name": "physics"}}, ok=201)["domain"]
    body = {"name": "bob", "password": "bob@physics-pw", "domain_id": domain["id"]}
    admin.call("POST", "/users", {"user": body}, ok=201)
    client = oidc.client()
    token = oidc.password_grant(client, "bob@physics")["refresh_token"]
    for enabled in (False, True):
        admin.call("PATCH", f"/domains/{domain['id']}", {"domain": {"enabled": enabled}}, ok=200)
    # The domain is enabled again, but what it ended stays ended (as for its users' tokens).
    resp = refresh(oidc, client, token)
    assert resp.status_code == 400 and oauth_error(resp) == "invalid_grant"
    assert "revoked" in resp.json()["error_description"]
    fresh = oidc.password_grant(client, "bob@physics")["refresh_token"]
    assert refresh(oidc, client, fresh).status_code == 200
