"""Discovery and the client admin API (Keystone style, admins only)."""

from __future__ import annotations

from tests.identity.conftest import Admin
from tests.identity.oidc.conftest import REDIRECT, Oidc

CLIENTS = "/OS-OCX/oidc/clients"


def test_discovery_names_our_endpoints_and_keys(oidc: Oidc) -> None:
    doc = oidc.http.get(oidc.discovery_url).json()
    assert doc["issuer"] == oidc.issuer
    assert doc["jwks_uri"] == oidc.issuer + "/.well-known/jwks.json"
    assert doc["token_endpoint"] == oidc.token_url
    assert doc["authorization_endpoint"] == oidc.authorize_url
    assert doc["userinfo_endpoint"] == oidc.userinfo_url
    assert set(doc["grant_types_supported"]) == {
        "password",
        "client_credentials",
        "authorization_code",
        "refresh_token",
    }
    assert doc["id_token_signing_alg_values_supported"] == ["EdDSA"]
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert {"client_secret_basic", "client_secret_post"} <= set(
        doc["token_endpoint_auth_methods_supported"]
    )
    assert oidc.http.get(doc["jwks_uri"]).json()["keys"]


def test_register_shows_the_secret_once(oidc: Oidc, admin: Admin) -> None:
    client = oidc.client(client_id="cli.app", name="the CLI")
    assert client["client_id"] == client["id"] == "cli.app"
    assert client["public"] is False and len(client["client_secret"]) >= 40
    assert client["audience"] == "stor" and client["redirect_uris"] == [REDIRECT]
    shown = admin.call("GET", f"{CLIENTS}/cli.app", ok=200)["client"]
    assert "client_secret" not in shown and shown["name"] == "the CLI"
    listed = admin.call("GET", CLIENTS, ok=200)["clients"]
    assert [c["client_id"] for c in listed] == ["cli.app"]
    assert all("client_secret" not in c for c in listed)


def test_public_client_has_no_secret(oidc: Oidc) -> None:
    client = oidc.client(public=True, grant_types=["authorization_code"])
    assert client["public"] is True and "client_secret" not in client


def test_delete_client_ends_its_grants(oidc: Oidc, admin: Admin) -> None:
    admin.customer("alice")
    client = oidc.client()
    refresh = oidc.password_grant(client, "alice")["refresh_token"]
    admin.call("DELETE", f"{CLIENTS}/{client['client_id']}", ok=204)
    err = admin.call("GET", f"{CLIENTS}/{client['client_id']}", ok=404)["error"]
    assert err["message"] == f"Could not find OIDC client: {client['client_id']}."
    resp = oidc.token(client, {"grant_type": "refresh_token", "refresh_token": refresh})
    assert resp.status_code == 401 and resp.json()["error"] == "invalid_client"


def test_non_admin_cannot_register_or_list(oidc: Oidc, admin: Admin) -> None:
    project, _ = admin.customer("alice", role="admin")  # admin of her own project only
    sess = admin.user_session("alice", project["id"])
    body = {"client": {"name": "x", "grant_types": ["password"], "audience": "stor"}}
    for method, json in (("POST", body), ("GET", None)):
        resp = sess.request(admin.url + CLIENTS, method, json=json, raise_exc=False)
        assert resp.status_code == 403
        assert resp.json()["error"]["code"] == 403
        assert resp.json()["error"]["title"] == "Forbidden"


def test_bad_registrations_are_refused_keystone_style(oidc: Oidc, admin: Admin) -> None:
    def refused(status: int, **fields: object) -> str:
        base = {"name": "x", "grant_types": ["password"], "audience": "stor"}
        doc = admin.call("POST", CLIENTS, {"client": {**base, **fields}}, ok=status)
        message: str = doc["error"]["message"]
        return message

    assert "no client_credentials" in refused(400, public=True, grant_types=["client_credentials"])
    assert "redirect_uri" in refused(400, grant_types=["authorization_code"])
    assert "absolute http(s)" in refused(
        400, grant_types=["authorization_code"], redirect_uris=["javascript:alert(1)"]
    )
    assert "absolute http(s)" in refused(
        400, grant_types=["authorization_code"], redirect_uris=["https://a.example/#frag"]
    )
    assert "grant_types" in refused(400, grant_types=["implicit"])
    assert "client_id" in refused(400, client_id="has space")
    assert "Could not find user" in refused(404, service_user_id="nobody")
    assert "Invalid input" in refused(400, secret="mine")
    oidc.client(client_id="twice")
    assert "Conflict" in refused(409, client_id="twice")
