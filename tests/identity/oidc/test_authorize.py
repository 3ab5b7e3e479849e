"""The authorization endpoint and the authorization_code grant with PKCE."""

from __future__ import annotations

import base64
import hashlib
import secrets
from typing import Any

import pytest
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3
from keystoneauth1.identity.v3 import oidc as ks_oidc

from ocx.common import jws
from ocx.identity.oidc import grants
from tests.identity.conftest import Admin
from tests.identity.oidc.conftest import (
    REDIRECT,
    Oidc,
    ks_access_token,
    ks_plugin,
    oauth_error,
    redirected,
)


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def exchange_code(
    oidc: Oidc, client: dict[str, Any], code: str, verifier: str | None = None
) -> Any:
    """keystoneauth's OidcAuthorizationCode token call, plus the PKCE verifier when given."""
    plugin = ks_plugin(
        oidc,
        ks_oidc.OidcAuthorizationCode,
        client_id=client["client_id"],
        client_secret=client.get("client_secret"),
        code=code,
        redirect_uri=REDIRECT,
    )
    payload = plugin.get_payload(None)
    payload["grant_type"] = plugin.grant_type
    if verifier is not None:
        payload["code_verifier"] = verifier
    if not plugin.client_secret:
        payload["client_id"] = plugin.client_id
    endpoint = plugin._get_access_token_endpoint(ks_session.Session())
    if not plugin.client_secret:
        return oidc.http.post(endpoint, data=payload)
    return oidc.http.post(endpoint, data=payload, auth=(plugin.client_id, plugin.client_secret))


def test_code_flow_with_a_landlord_token(oidc: Oidc, admin: Admin) -> None:
    _, user = admin.customer("alice")
    client = oidc.client()
    resp = oidc.authorize(
        oidc.user_token("alice"),
        response_type="code",
        client_id=client["client_id"],
        redirect_uri=REDIRECT,
        scope="openid profile",
        state="s-123",
        nonce="n-456",
    )
    assert resp.status_code == 302
    back = redirected(resp)
    assert back["state"] == "s-123" and back["iss"] == oidc.issuer
    doc = exchange_code(oidc, client, back["code"]).json()
    assert oidc.verify(doc["access_token"])["sub"] == user["id"]
    id_claims = oidc.verify(doc["id_token"], typ=jws.TYP_ID)
    assert id_claims["nonce"] == "n-456" and id_claims["aud"] == client["client_id"]
    assert doc["scope"] == "openid profile" and doc["refresh_token"]


def test_code_flow_for_a_public_client_with_pkce(oidc: Oidc, admin: Admin) -> None:
    admin.customer("alice")
    client = oidc.client(public=True, grant_types=["authorization_code"])
    verifier, challenge = pkce_pair()
    code = oidc.code(client, "alice", code_challenge=challenge, code_challenge_method="S256")
    plugin = ks_plugin(
        oidc,
        ks_oidc.OidcAuthorizationCode,
        client_id=client["client_id"],
        client_secret=None,
        code=code,
        redirect_uri=REDIRECT,
    )
    token = ks_access_token(plugin, code_verifier=verifier)
    assert oidc.verify(token)["client_id"] == client["client_id"]


def test_code_flow_through_the_login_form(oidc: Oidc, admin: Admin) -> None:
    admin.customer("alice")
    client = oidc.client()
    params = {
        "response_type": "code",
        "client_id": client["client_id"],
        "redirect_uri": REDIRECT,
        "state": "<b>",
    }
    page = oidc.authorize(None, **params)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert 'value="&lt;b&gt;"' in page.text and page.headers["x-frame-options"] == "DENY"
    wrong = oidc.http.post(
        oidc.authorize_url, data={**params, "username": "alice", "password": "x"}
    )
    assert wrong.status_code == 401 and "wrong" in wrong.text
    resp = oidc.http.post(
        oidc.authorize_url, data={**params, "username": "alice", "password": "alice-pw"}
    )
    assert resp.status_code == 303
    back = redirected(resp)
    assert back["state"] == "<b>"
    assert exchange_code(oidc, client, back["code"]).status_code == 200


def test_code_is_single_use_and_reuse_revokes_the_sign_in(oidc: Oidc, admin: Admin) -> None:
    admin.customer("alice")
    client = oidc.client()
    code = oidc.code(client, "alice")
    first = exchange_code(oidc, client, code)
    assert first.status_code == 200
    again = exchange_code(oidc, client, code)
    assert again.status_code == 400 and oauth_error(again) == "invalid_grant"
    assert "already used" in again.json()["error_description"]
    refresh = {"grant_type": "refresh_token", "refresh_token": first.json()["refresh_token"]}
    dead = oidc.token(client, refresh)
    assert dead.status_code == 400 and "revoked" in dead.json()["error_description"]


def test_pkce_mismatch_and_missing_verifier(oidc: Oidc, admin: Admin) -> None:
    admin.customer("alice")
    client = oidc.client()
    _, challenge = pkce_pair()
    other, _ = pkce_pair()
    for verifier in (other, None):
        code = oidc.code(client, "alice", code_challenge=challenge, code_challenge_method="S256")
        resp = exchange_code(oidc, client, code, verifier)
        assert resp.status_code == 400 and oauth_error(resp) == "invalid_grant"
    # A verifier for a code issued without PKCE: a code injected into a PKCE client.
    code = oidc.code(client, "alice")
    resp = exchange_code(oidc, client, code, other)
    assert resp.status_code == 400 and oauth_error(resp) == "invalid_grant"


def test_redirect_uri_must_match_at_the_token_endpoint(oidc: Oidc, admin: Admin) -> None:
    admin.customer("alice")
    other = "https://app.example/other"
    client = oidc.client(redirect_uris=[REDIRECT, other])
    code = oidc.code(client, "alice", redirect_uri=other)
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    resp = oidc.token(client, data)
    assert resp.status_code == 400 and oauth_error(resp) == "invalid_grant"
    assert "redirect_uri" in resp.json()["error_description"]


def test_code_of_another_client_is_refused(oidc: Oidc, admin: Admin) -> None:
    admin.customer("alice")
    mine, theirs = oidc.client(), oidc.client()
    code = oidc.code(mine, "alice")
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    resp = oidc.token(theirs, data)
    assert resp.status_code == 400 and oauth_error(resp) == "invalid_grant"
    assert oidc.token(mine, data).status_code == 200


def test_expired_code(oidc: Oidc, admin: Admin, monkeypatch: pytest.MonkeyPatch) -> None:
    admin.customer("alice")
    client = oidc.client()
    monkeypatch.setattr(grants, "CODE_TTL", 0)
    code = oidc.code(client, "alice")
    resp = exchange_code(oidc, client, code)
    assert resp.status_code == 400 and oauth_error(resp) == "invalid_grant"
    assert resp.json()["error_description"] == "The authorization code has expired."


def test_unregistered_redirect_uri_is_never_redirected_to(oidc: Oidc, admin: Admin) -> None:
    admin.customer("alice")
    client = oidc.client()
    token = oidc.user_token("alice")
    for uri in ("https://evil.example/callback", REDIRECT + "/", REDIRECT + "?x=1", None):
        params = {"response_type": "code", "client_id": client["client_id"]}
        if uri is not None:
            params["redirect_uri"] = uri
        resp = oidc.authorize(token, **params)
        assert resp.status_code == 400 and "location" not in resp.headers
        assert oauth_error(resp) == "invalid_request"
    unknown = oidc.authorize(token, response_type="code", client_id="nope", redirect_uri=REDIRECT)
    assert unknown.status_code == 400 and "location" not in unknown.headers


@pytest.mark.parametrize(
    ("params", "public", "error"),
    [
        ({"response_type": "token"}, False, "unsupported_response_type"),
        ({"code_challenge_method": "S256"}, False, "invalid_request"),
        ({"code_challenge": "x" * 43, "code_challenge_method": "plain"}, False, "invalid_request"),
        ({}, True, "invalid_request"),  # a public client without PKCE
        ({"scope": "admin"}, False, "invalid_scope"),
    ],
)
def test_authorization_errors_go_back_to_the_client(
    oidc: Oidc, admin: Admin, params: dict[str, str], public: bool, error: str
) -> None:
    admin.customer("alice")
    client = oidc.client(public=public, grant_types=["authorization_code"])
    query = {"response_type": "code", "client_id": client["client_id"], "redirect_uri": REDIRECT}
    resp = oidc.authorize(oidc.user_token("alice"), **{**query, "state": "st", **params})
    assert resp.status_code == 302
    back = redirected(resp)
    assert back["error"] == error and back["state"] == "st" and "code" not in back


def test_client_without_authorization_code(oidc: Oidc) -> None:
    client = oidc.client(grant_types=["password"])
    query = {"response_type": "code", "client_id": client["client_id"], "redirect_uri": REDIRECT}
    resp = oidc.authorize(None, **query)
    assert redirected(resp)["error"] == "unauthorized_client"


def test_prompt_none_without_a_sign_in(oidc: Oidc) -> None:
    client = oidc.client()
    query = {"response_type": "code", "client_id": client["client_id"], "redirect_uri": REDIRECT}
    resp = oidc.authorize(None, **query, prompt="none")
    assert redirected(resp)["error"] == "login_required"


def test_bad_or_disabled_sign_ins_get_no_code(oidc: Oidc, admin: Admin) -> None:
    project, user = admin.customer("alice")
    client = oidc.client()
    query = {"response_type": "code", "client_id": client["client_id"], "redirect_uri": REDIRECT}
    forged = oidc.authorize("not-a-token", **query)
    assert forged.status_code == 401 and oauth_error(forged) == "access_denied"
    sess = admin.user_session("alice", project["id"])
    cred = sess.post(
        f"{admin.url}/users/{user['id']}/application_credentials",
        json={"application_credential": {"name": "ci"}},
    ).json()["application_credential"]
    app = ks_session.Session(
        auth=v3.ApplicationCredential(
            auth_url=admin.url,
            application_credential_id=cred["id"],
            application_credential_secret=cred["secret"],
        )
    )
    narrow = oidc.authorize(app.get_token(), **query)
    assert narrow.status_code == 401 and oauth_error(narrow) == "access_denied"
    admin.call("PATCH", f"/users/{user['id']}", {"user": {"enabled": False}}, ok=200)
    form = oidc.http.post(
        oidc.authorize_url, data={**query, "username": "alice", "password": "alice-pw"}
    )
    assert form.status_code == 401 and "location" not in form.headers
