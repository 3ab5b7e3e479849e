"""OIDC provider test helpers: client registration, raw OAuth calls, keystoneauth's way in."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from keystoneauth1 import session as ks_session
from keystoneauth1.identity.v3 import oidc as ks_oidc

from ocx.common import jws
from ocx.landlord import Landlord
from ocx.runner import Exchange
from tests.identity.conftest import Admin

REDIRECT = "https://app.example/callback"
DISCOVERY = "/.well-known/openid-configuration"
USER_GRANTS = ["password", "authorization_code", "refresh_token"]


class Oidc:
    """One landlord's OIDC provider, driven the way its clients drive it."""

    def __init__(
        self, exchange: Exchange, admin: Admin, http: httpx.Client, landlord: str = "harvard"
    ):
        self.landlord: Landlord = exchange.landlords[landlord]
        self.admin = admin
        self.http = http
        self.issuer = self.landlord.identity_url
        self.discovery_url = self.issuer + DISCOVERY
        self.token_url = self.issuer + "/oidc/token"
        self.authorize_url = self.issuer + "/oidc/authorize"
        self.userinfo_url = self.issuer + "/oidc/userinfo"

    def client(self, **fields: Any) -> dict[str, Any]:
        """Register a client as the landlord's admin; the answer holds its secret once."""
        body = {
            "name": "app",
            "redirect_uris": [REDIRECT],
            "grant_types": USER_GRANTS,
            "audience": "stor",
            **fields,
        }
        doc: dict[str, Any] = self.admin.call(
            "POST", "/OS-OCX/oidc/clients", {"client": body}, ok=201
        )["client"]
        return doc

    def token(
        self, client: dict[str, Any] | None, data: dict[str, str], **kwargs: Any
    ) -> httpx.Response:
        """A token request with HTTP Basic client authentication (what keystoneauth sends)."""
        if client is None:
            return self.http.post(self.token_url, data=data, **kwargs)
        auth = (client["client_id"], client["client_secret"])
        return self.http.post(self.token_url, data=data, auth=auth, **kwargs)

    def password_grant(self, client: dict[str, Any], user: str, **extra: str) -> dict[str, Any]:
        data = {"grant_type": "password", "username": user, "password": user + "-pw", **extra}
        resp = self.token(client, data)
        assert resp.status_code == 200, resp.text
        doc: dict[str, Any] = resp.json()
        return doc

    def user_token(self, user: str) -> str:
        """A landlord (Keystone) token of ``user``, as the authorization endpoint accepts it."""
        token = self.admin.user_session(user, None).get_token()
        assert token is not None
        return token

    def authorize(self, user_token: str | None, **params: str) -> httpx.Response:
        headers = {"X-Auth-Token": user_token} if user_token else {}
        return self.http.get(self.authorize_url, params=params, headers=headers)

    def code(self, client: dict[str, Any], user: str, **params: str) -> str:
        """An authorization code for ``user``, signed in with their landlord token."""
        query = {"response_type": "code", "client_id": client["client_id"], **params}
        query.setdefault("redirect_uri", REDIRECT)
        resp = self.authorize(self.user_token(user), **query)
        assert resp.status_code == 302, resp.text
        return redirected(resp, query["redirect_uri"])["code"]

    def keys(self) -> dict[str, Any]:
        return jws.keys_from_jwks(self.http.get(self.issuer + "/.well-known/jwks.json").json())

    def verify(self, token: str, typ: str = jws.TYP_ACCESS) -> dict[str, Any]:
        return jws.verify(jws.split(token), self.keys(), typ=typ)


def redirected(resp: httpx.Response, to: str = REDIRECT) -> dict[str, str]:
    """The query parameters of a redirect's Location (each given once)."""
    location = urlsplit(resp.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == to
    return {k: v[0] for k, v in parse_qs(location.query).items()}


def header(token: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(jws.b64url_decode(token.split(".")[0]))
    return doc


def oauth_error(resp: httpx.Response) -> str:
    assert resp.headers["content-type"].startswith("application/json")
    assert resp.headers["cache-control"] == "no-store"
    assert set(resp.json()) == {"error", "error_description"}
    error: str = resp.json()["error"]
    return error


def ks_plugin(oidc: Oidc, cls: type[ks_oidc._OidcBase], **kwargs: Any) -> Any:
    """A keystoneauth OIDC plugin whose OpenID provider is ``oidc`` (found by discovery)."""
    return cls(
        auth_url=oidc.landlord.auth_url,
        identity_provider="unused",
        protocol="openid",
        discovery_endpoint=oidc.discovery_url,
        **kwargs,
    )


def ks_access_token(plugin: Any, **extra: str) -> str:
    """What a keystoneauth OIDC plugin does before it presents the token to a landlord:
    the grant-type check against discovery, its payload (plus ``extra``, such as a PKCE
    verifier the plugin does not know of), then the token endpoint call."""
    sess = ks_session.Session()
    supported = plugin._get_discovery_document(sess)["grant_types_supported"]
    assert plugin.grant_type in supported
    payload = {**plugin.get_payload(sess), **extra}
    payload.setdefault("grant_type", plugin.grant_type)
    token: str = plugin._get_access_token(sess, payload)
    return token


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30.0, follow_redirects=False) as client:
        yield client


@pytest.fixture
def oidc(exchange: Exchange, admin: Admin, http: httpx.Client) -> Oidc:
    return Oidc(exchange, admin, http)
