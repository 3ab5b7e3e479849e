"""keystoneauth1's OpenID Connect plugins take a harvard user to a scoped token at stor."""

from __future__ import annotations

from typing import Any

import httpx
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

from ocx.runner import Exchange
from tests.identity.federation.test_attacks import _admin_token

SCOPE = {"project_name": "harvard-alice", "project_domain_name": "harvard-federated"}


def common(exchange: Exchange) -> dict[str, Any]:
    harvard, stor = exchange.landlords["harvard"], exchange.landlords["stor"]
    client = exchange.oidc_clients[("harvard", "stor")]
    return {
        "auth_url": stor.auth_url,
        "identity_provider": "harvard",
        "protocol": "openid",
        "client_id": client["client_id"],
        "client_secret": client["client_secret"],
        "discovery_endpoint": harvard.identity_url + "/.well-known/openid-configuration",
        **SCOPE,
    }


def scoped(plugin: v3.FederationBaseAuth) -> Any:
    sess = ks_session.Session(auth=plugin)
    return sess.auth.get_access(sess)


def test_v3oidcpassword(federated: Exchange) -> None:
    password = federated.landlords["harvard"].demo_passwords["alice"]
    access = scoped(v3.OidcPassword(username="alice", password=password, **common(federated)))
    assert access.project_name == "harvard-alice"
    assert access.role_names == ["member", "reader"]


def test_v3oidcaccesstoken(federated: Exchange) -> None:
    args = common(federated)
    harvard = federated.landlords["harvard"]
    resp = httpx.post(
        harvard.identity_url + "/oidc/token",
        auth=(args["client_id"], args["client_secret"]),
        data={
            "grant_type": "password",
            "username": "alice",
            "scope": "openid",
            "password": harvard.demo_passwords["alice"],
        },
    )
    assert resp.status_code == 200, resp.text
    access = scoped(
        v3.OidcAccessToken(
            auth_url=args["auth_url"],
            identity_provider="harvard",
            protocol="openid",
            access_token=resp.json()["access_token"],
            **SCOPE,
        )
    )
    assert access.project_name == "harvard-alice"


def test_v3oidcclientcredentials(federated: Exchange) -> None:
    harvard = federated.landlords["harvard"]
    admin = {"X-Auth-Token": _admin_token(federated, "harvard")}
    alice = httpx.get(harvard.auth_url + "/users?name=alice", headers=admin).json()["users"][0]
    body = {
        "client": {
            "client_id": "alice-robot",
            "name": "alice's robot",
            "audience": "stor",
            "grant_types": ["client_credentials"],
            "service_user_id": alice["id"],
        }
    }
    resp = httpx.post(harvard.auth_url + "/OS-OCX/oidc/clients", json=body, headers=admin)
    assert resp.status_code == 201, resp.text
    secret = resp.json()["client"]["client_secret"]
    args = {**common(federated), "client_id": "alice-robot", "client_secret": secret}
    access = scoped(v3.OidcClientCredentials(**args))
    assert access.project_name == "harvard-alice"
