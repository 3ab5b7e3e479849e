"""The token endpoint, driven as keystoneauth1's OIDC plugins drive it, and what it issues."""

from __future__ import annotations

import time
import types

import httpx
import pytest
from keystoneauth1 import exceptions as ks_exc
from keystoneauth1.identity.v3 import oidc as ks_oidc

from ocx.common import jws
from ocx.runner import Exchange
from tests.conftest import ExchangeFactory
from tests.identity.conftest import Admin
from tests.identity.oidc.conftest import Oidc, header, ks_access_token, ks_plugin, oauth_error


def test_keystoneauth_password_grant(oidc: Oidc, admin: Admin) -> None:
    project, user = admin.customer("alice")
    client = oidc.client()
    plugin = ks_plugin(
        oidc,
        ks_oidc.OidcPassword,
        client_id=client["client_id"],
        client_secret=client["client_secret"],
        username="alice",
        password="alice-pw",
    )
    token = ks_access_token(plugin)
    assert header(token) == {"alg": "EdDSA", "kid": header(token)["kid"], "typ": "at+jwt"}
    claims = oidc.verify(token)
    assert claims["iss"] == oidc.issuer and claims["aud"] == "stor"
    assert claims["sub"] == user["id"] and claims["client_id"] == client["client_id"]
    assert claims["preferred_username"] == "alice"
    assert claims["domain"] == {"id": "default", "name": "Default"}
    assert claims["projects"] == [project["name"]] and claims["groups"] == []
    assert claims["scope"] == "openid profile"
    assert claims["nbf"] == claims["iat"] and claims["exp"] - claims["iat"] == 3600
    assert len(claims["jti"]) >= 16


def test_keystoneauth_can_ask_for_the_id_token(oidc: Oidc, admin: Admin) -> None:
    _, user = admin.customer("alice")
    client = oidc.client()
    plugin = ks_plugin(
        oidc,
        ks_oidc.OidcPassword,
        client_id=client["client_id"],
        client_secret=client["client_secret"],
        username="alice",
        password="alice-pw",
        access_token_type="id_token",
    )
    token = ks_access_token(plugin)
    assert header(token)["typ"] == "JWT"
    claims = oidc.verify(token, typ=jws.TYP_ID)
    assert claims["aud"] == client["client_id"] and claims["sub"] == user["id"]
    assert abs(claims["auth_time"] - time.time()) < 60


def test_response_carries_everything(oidc: Oidc, admin: Admin) -> None:
    admin.customer("alice")
    client = oidc.client()
    resp = oidc.token(
        client, {"grant_type": "password", "username": "alice", "password": "alice-pw"}
    )
    assert resp.headers["cache-control"] == "no-store" and resp.headers["pragma"] == "no-cache"
    doc = resp.json()
    assert set(doc) == {
        "access_token",
        "token_type",
        "expires_in",
        "scope",
        "id_token",
        "refresh_token",
    }
    assert doc["token_type"] == "Bearer" and doc["expires_in"] == 3600 and doc["scope"] == "openid"


def test_client_secret_post_works_too(oidc: Oidc, admin: Admin) -> None:
    admin.customer("alice")
    client = oidc.client(grant_types=["password"])
    data = {
        "grant_type": "password",
        "username": "alice",
        "password": "alice-pw",
        "client_id": client["client_id"],
        "client_secret": client["client_secret"],
        "scope": "openid email",
    }
    doc = oidc.token(None, data).json()
    assert doc["scope"] == "openid email" and "refresh_token" not in doc


def test_keystoneauth_client_credentials(oidc: Oidc, admin: Admin) -> None:
    service_user = admin.user("backup-bot", "bot-pw")
    group = admin.call("POST", "/groups", {"group": {"name": "robots"}}, ok=201)["group"]
    admin.call("PUT", f"/groups/{group['id']}/users/{service_user['id']}", ok=204)
    client = oidc.client(
        grant_types=["client_credentials"], redirect_uris=[], service_user_id=service_user["id"]
    )
    plugin = ks_plugin(
        oidc,
        ks_oidc.OidcClientCredentials,
        client_id=client["client_id"],
        client_secret=client["client_secret"],
    )
    claims = oidc.verify(ks_access_token(plugin))
    assert claims["sub"] == service_user["id"] and claims["preferred_username"] == "backup-bot"
    assert claims["groups"] == ["robots"]
    doc = oidc.token(client, {"grant_type": "client_credentials"}).json()
    assert "id_token" not in doc and "refresh_token" not in doc


def test_access_token_never_outlives_the_landlords_token_ttl(
    exchange_factory: ExchangeFactory,
) -> None:
    exchange = exchange_factory(token_ttl=600)
    admin = Admin(exchange)
    admin.customer("alice")
    with httpx.Client(timeout=30.0) as http:
        oidc = Oidc(exchange, admin, http)
        doc = oidc.password_grant(oidc.client(), "alice")
        claims = oidc.verify(doc["access_token"])
        assert doc["expires_in"] == 600 and claims["exp"] - claims["iat"] == 600
        assert oidc.verify(doc["id_token"], typ=jws.TYP_ID)["exp"] <= claims["exp"]


def test_tokens_issued_together_expire_together(
    oidc: Oidc, admin: Admin, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The access and ID tokens of one answer share their clock reading: the provider's clock
    here moves a second every time it is read (a run of make test once saw the ID token
    expire a second after its access token)."""
    from ocx.identity.oidc import provider

    ticks = iter(range(10_000))
    clock = types.SimpleNamespace(time=lambda: 1_800_000_000.5 + next(ticks))
    monkeypatch.setattr(provider, "time", clock)
    admin.customer("alice")
    doc = oidc.password_grant(oidc.client(), "alice")
    access = oidc.verify(doc["access_token"])
    identity = oidc.verify(doc["id_token"], typ=jws.TYP_ID)
    assert (identity["iat"], identity["exp"]) == (access["iat"], access["exp"])


def test_user_of_another_domain_signs_in_as_name_at_domain(oidc: Oidc, admin: Admin) -> None:
    domain = admin.call("POST", "/domains", {"domain": {"name": "physics"}}, ok=201)["domain"]
    body = {"name": "bob", "password": "bob-pw", "domain_id": domain["id"], "email": "bob@x.org"}
    bob = admin.call("POST", "/users", {"user": body}, ok=201)["user"]
    client = oidc.client()
    claims = oidc.verify(
        oidc.password_grant(client, "bob@physics", password="bob-pw")["access_token"]
    )
    assert claims["sub"] == bob["id"] and claims["email"] == "bob@x.org"
    assert claims["domain"] == {"id": domain["id"], "name": "physics"}
    resp = oidc.token(client, {"grant_type": "password", "username": "bob", "password": "bob-pw"})
    assert resp.status_code == 400 and oauth_error(resp) == "invalid_grant"


# --- refusals ---------------------------------------------------------------------------------


def test_wrong_client_secret_is_invalid_client(oidc: Oidc, admin: Admin) -> None:
    admin.customer("alice")
    client = oidc.client()
    plugin = ks_plugin(
        oidc,
        ks_oidc.OidcPassword,
        client_id=client["client_id"],
        client_secret="not-the-secret",
        username="alice",
        password="alice-pw",
    )
    with pytest.raises(ks_exc.Unauthorized) as caught:
        ks_access_token(plugin)
    resp = caught.value.response
    assert resp is not None
    assert resp.status_code == 401 and resp.json()["error"] == "invalid_client"
    assert resp.headers["www-authenticate"].startswith("Basic")


def test_unknown_client_and_missing_secret_are_invalid_client(oidc: Oidc) -> None:
    data = {"grant_type": "password", "username": "alice", "password": "alice-pw"}
    unknown = oidc.token({"client_id": "nope", "client_secret": "x"}, data)
    assert unknown.status_code == 401 and oauth_error(unknown) == "invalid_client"
    client = oidc.client()
    no_secret = oidc.token(None, {**data, "client_id": client["client_id"]})
    assert no_secret.status_code == 401 and oauth_error(no_secret) == "invalid_client"
    nobody = oidc.token(None, data)
    assert nobody.status_code == 401 and oauth_error(nobody) == "invalid_client"


def test_wrong_user_password_is_invalid_grant(oidc: Oidc, admin: Admin) -> None:
    admin.customer("alice")
    client = oidc.client()
    plugin = ks_plugin(
        oidc,
        ks_oidc.OidcPassword,
        client_id=client["client_id"],
        client_secret=client["client_secret"],
        username="alice",
        password="wrong",
    )
    with pytest.raises(ks_exc.BadRequest) as caught:
        ks_access_token(plugin)
    resp = caught.value.response
    assert resp is not None
    assert resp.status_code == 400
    assert resp.json() == {
        "error": "invalid_grant",
        "error_description": "The user name or password is wrong.",
    }


def test_disabled_user_gets_nothing(oidc: Oidc, admin: Admin) -> None:
    _, user = admin.customer("alice")
    client = oidc.client()
    refresh = oidc.password_grant(client, "alice")["refresh_token"]
    admin.call("PATCH", f"/users/{user['id']}", {"user": {"enabled": False}}, ok=200)
    data = {"grant_type": "password", "username": "alice", "password": "alice-pw"}
    resp = oidc.token(client, data)
    assert resp.status_code == 400 and oauth_error(resp) == "invalid_grant"
    again = oidc.token(client, {"grant_type": "refresh_token", "refresh_token": refresh})
    assert again.status_code == 400 and oauth_error(again) == "invalid_grant"


def test_unknown_grant_type(oidc: Oidc) -> None:
    client = oidc.client()
    resp = oidc.token(client, {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer"})
    assert resp.status_code == 400 and oauth_error(resp) == "unsupported_grant_type"
    missing = oidc.token(client, {"username": "alice"})
    assert missing.status_code == 400 and oauth_error(missing) == "invalid_request"


def test_grant_type_the_client_was_not_given(oidc: Oidc, admin: Admin) -> None:
    admin.customer("alice")
    client = oidc.client(grant_types=["authorization_code"])
    data = {"grant_type": "password", "username": "alice", "password": "alice-pw"}
    resp = oidc.token(client, data)
    assert resp.status_code == 400 and oauth_error(resp) == "unauthorized_client"


def test_client_credentials_without_a_service_user(oidc: Oidc) -> None:
    client = oidc.client(grant_types=["client_credentials"], redirect_uris=[])
    resp = oidc.token(client, {"grant_type": "client_credentials"})
    assert resp.status_code == 400 and oauth_error(resp) == "unauthorized_client"


def test_client_credentials_with_a_disabled_service_user(oidc: Oidc, admin: Admin) -> None:
    bot = admin.user("bot", "bot-pw")
    client = oidc.client(
        grant_types=["client_credentials"], redirect_uris=[], service_user_id=bot["id"]
    )
    admin.call("PATCH", f"/users/{bot['id']}", {"user": {"enabled": False}}, ok=200)
    resp = oidc.token(client, {"grant_type": "client_credentials"})
    assert resp.status_code == 400 and oauth_error(resp) == "invalid_grant"


def test_malformed_token_requests(oidc: Oidc, admin: Admin) -> None:
    admin.customer("alice")
    client = oidc.client()
    auth = (client["client_id"], client["client_secret"])
    as_json = oidc.http.post(oidc.token_url, json={"grant_type": "password"}, auth=auth)
    assert as_json.status_code == 400 and oauth_error(as_json) == "invalid_request"
    twice = oidc.http.post(
        oidc.token_url,
        content="grant_type=password&grant_type=client_credentials",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        auth=auth,
    )
    assert twice.status_code == 400 and oauth_error(twice) == "invalid_request"
    both = oidc.token(client, {"grant_type": "password", "client_secret": "x"})
    assert both.status_code == 400 and oauth_error(both) == "invalid_request"
    scope = oidc.token(
        client,
        {"grant_type": "password", "username": "alice", "password": "alice-pw", "scope": "x"},
    )
    assert scope.status_code == 400 and oauth_error(scope) == "invalid_scope"
    bad_basic = oidc.http.post(
        oidc.token_url, data={"grant_type": "password"}, headers={"Authorization": "Basic %%%"}
    )
    assert bad_basic.status_code == 401 and oauth_error(bad_basic) == "invalid_client"


def test_access_token_is_not_a_keystone_token(oidc: Oidc, admin: Admin, exchange: Exchange) -> None:
    admin.customer("alice")
    # Even aimed at this very landlord, an OIDC token is not one of its Keystone tokens.
    client = oidc.client(audience="harvard")
    doc = oidc.password_grant(client, "alice")
    for token in (doc["access_token"], doc["id_token"]):
        for url in (oidc.landlord.auth_url + "/users", oidc.landlord.auth_url + "/auth/projects"):
            resp = oidc.http.get(url, headers={"X-Auth-Token": token})
            assert resp.status_code == 401, resp.text
            assert resp.json()["error"]["code"] == 401
        resp = oidc.http.get(
            exchange.landlords["mit"].auth_url + "/auth/projects", headers={"X-Auth-Token": token}
        )
        assert resp.status_code == 401
