"""The attack suite: every forged, foreign, stale or replayed credential is refused at stor
with the exact reason, and nothing is created there."""

from __future__ import annotations

import base64
import copy
import datetime as dt
import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from lxml import etree

from ocx.common import jws
from ocx.identity.federation import saml
from ocx.identity.federation.idp import entity_id, signing_key
from ocx.runner import Exchange
from tests.identity.federation.conftest import home_session, identity_of

ECP = "/v3/OS-FEDERATION/identity_providers/{idp}/protocols/saml2/ecp"
OIDC = "/v3/OS-FEDERATION/identity_providers/{idp}/protocols/openid/auth"


def stor_url(exchange: Exchange, path: str, idp: str = "harvard") -> str:
    return exchange.landlords["stor"].identity_url + path.format(idp=idp)


def refused(resp: httpx.Response, status: int = 401) -> str:
    assert resp.status_code == status, resp.text
    assert "X-Subject-Token" not in resp.headers
    return str(resp.json()["error"]["message"])


def stor_users(exchange: Exchange) -> list[str]:
    stor = identity_of(exchange, "stor")
    token = _admin_token(exchange, "stor")
    resp = httpx.get(stor.settings.issuer + "/v3/users", headers={"X-Auth-Token": token})
    return sorted(u["name"] for u in resp.json()["users"])


def _admin_token(exchange: Exchange, landlord: str) -> str:
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {
                        "name": "admin",
                        "domain": {"id": "default"},
                        "password": exchange.landlords[landlord].admin_password,
                    }
                },
            },
            "scope": {"project": {"name": "admin", "domain": {"id": "default"}}},
        }
    }
    resp = httpx.post(exchange.landlords[landlord].auth_url + "/auth/tokens", json=body)
    return str(resp.headers["X-Subject-Token"])


# --- SAML ----------------------------------------------------------------------------------


def harvard_key(exchange: Exchange) -> saml.SigningKey:
    svc = identity_of(exchange, "harvard")

    async def load() -> saml.SigningKey:
        async with svc.db.session() as session:
            return await signing_key(session, "harvard")

    key: saml.SigningKey = exchange.background.call(load())  # type: ignore[attr-defined]
    return key


def assertion_req(exchange: Exchange, **changes: Any) -> saml.AssertionRequest:
    issuer = entity_id(exchange.landlords["harvard"].identity_url)
    attrs = {
        "openstack_user": ["mallory"],
        "openstack_user_id": ["m1"],
        "openstack_roles": ["member"],
        "openstack_project": ["x"],
    }
    fields: dict[str, Any] = {
        "issuer": issuer,
        "audience": "stor",
        "recipient": "sp",
        "subject": "mallory",
        "attributes": attrs,
    }
    fields.update(changes)
    return saml.AssertionRequest(**fields)


def envelope(req: saml.AssertionRequest, key: saml.SigningKey) -> bytes:
    return saml.ecp_envelope(saml.response(saml.build_assertion(req, key), req), "ss:mem:")


def post_ecp(exchange: Exchange, body: bytes, idp: str = "harvard") -> httpx.Response:
    return httpx.post(
        stor_url(exchange, ECP, idp),
        content=body,
        headers={"Content-Type": "application/vnd.paos+xml"},
    )


def test_a_genuine_assertion_is_accepted_once(federated: Exchange) -> None:
    body = envelope(assertion_req(federated), harvard_key(federated))
    first = post_ecp(federated, body)
    assert first.status_code == 201, first.text
    assert first.json()["token"]["methods"] == ["mapped"]
    assert refused(post_ecp(federated, body)) == "This assertion has been used already."


def test_forged_attribute_breaks_the_signature(federated: Exchange) -> None:
    body = envelope(assertion_req(federated), harvard_key(federated))
    forged = body.replace(b">member<", b">admin<")
    assert refused(post_ecp(federated, forged)).startswith(
        "The SAML assertion's signature is not valid"
    )
    assert stor_users(federated) == ["admin"]


def test_signed_by_a_stranger(federated: Exchange) -> None:
    body = envelope(assertion_req(federated), saml.new_signing_key("evil"))
    assert refused(post_ecp(federated, body)).startswith(
        "The SAML assertion's signature is not valid"
    )


def test_wrong_issuer(federated: Exchange) -> None:
    mit = entity_id(federated.landlords["mit"].identity_url)
    body = envelope(assertion_req(federated, issuer=mit), harvard_key(federated))
    assert refused(post_ecp(federated, body)) == (
        "The issuer is not one of identity provider harvard's remote ids."
    )


def test_assertion_for_another_landlord(federated: Exchange) -> None:
    body = envelope(assertion_req(federated, audience="mit"), harvard_key(federated))
    assert refused(post_ecp(federated, body)) == (
        "The SAML assertion is for another audience, not 'stor'."
    )


def _shifted(exchange: Exchange, start: dt.timedelta, life: dt.timedelta) -> bytes:
    """An assertion valid from now+start for ``life``, signed with harvard's real key."""
    req = assertion_req(exchange, lifetime=life)
    now = dt.datetime.now(dt.UTC) + start
    signed = saml.build_assertion(req, harvard_key(exchange), now=now)
    return saml.ecp_envelope(saml.response(signed, req), "ss:mem:")


def test_expired_not_yet_valid_and_too_long(federated: Exchange) -> None:
    minute = dt.timedelta(minutes=1)
    assert refused(post_ecp(federated, _shifted(federated, -10 * minute, 2 * minute))) == (
        "The SAML assertion has expired."
    )
    assert refused(post_ecp(federated, _shifted(federated, 5 * minute, 2 * minute))) == (
        "The SAML assertion is not valid yet."
    )
    assert refused(post_ecp(federated, _shifted(federated, -minute, 60 * minute))) == (
        "The SAML assertion lives longer than five minutes."
    )


def test_signature_wrapping_and_unsigned(federated: Exchange) -> None:
    good = etree.fromstring(envelope(assertion_req(federated), harvard_key(federated)))
    evil = etree.fromstring(envelope(assertion_req(federated), harvard_key(federated)))
    evil_assertion = evil.find(".//saml:Assertion", saml.NS)
    assert evil_assertion is not None
    sig = evil_assertion.find("ds:Signature", saml.NS)
    assert sig is not None
    evil_assertion.remove(sig)
    for value in evil_assertion.iter(f"{{{saml.SAML}}}AttributeValue"):
        if value.text == "mallory":
            value.text = "admin"
    response = good.find(".//samlp:Response", saml.NS)
    assert response is not None
    response.append(copy.deepcopy(evil_assertion))  # two: one signed, one not
    assert refused(post_ecp(federated, etree.tostring(good))) == (
        "Expected exactly one SAML assertion."
    )
    unsigned = etree.tostring(evil)
    assert refused(post_ecp(federated, unsigned)).startswith(
        "The SAML assertion's signature is not valid"
    )
    assert stor_users(federated) == ["admin"]


def test_partly_signed_response_with_unsigned_assertion(federated: Exchange) -> None:
    """A signature over the Response's other parts never vouches for an unsigned assertion."""
    req = assertion_req(federated)
    plain = etree.Element(f"{{{saml.SAML}}}Assertion", {"ID": "_plain", "Version": "2.0"})
    etree.SubElement(plain, f"{{{saml.SAML}}}Issuer").text = req.issuer
    key = harvard_key(federated)
    signed_other = saml.build_assertion(assertion_req(federated), key)
    other_holder = etree.Element(f"{{{saml.SAMLP}}}Extensions")
    other_holder.append(signed_other)
    doc = saml.response(plain, req)
    doc.append(other_holder)
    assert refused(post_ecp(federated, saml.ecp_envelope(doc, "x"))) == (
        "Expected exactly one SAML assertion."
    )


def test_entity_expansion_and_oversize(federated: Exchange) -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        b"<lolz>&lol2;</lolz>"
    )
    assert refused(post_ecp(federated, bomb)) == "The SAML document declares a DTD or entities."
    huge = b"<a>" + b"x" * (300 * 1024) + b"</a>"
    assert refused(post_ecp(federated, huge), 413) == "The SAML document is too large."


def test_claims_cannot_grant_admin(federated: Exchange) -> None:
    req = assertion_req(
        federated,
        attributes={
            "openstack_user": ["mallory"],
            "openstack_user_id": ["m2"],
            "openstack_roles": ["admin"],
            "openstack_project": ["admin"],
        },
    )
    resp = post_ecp(federated, envelope(req, harvard_key(federated)))
    assert resp.status_code == 201
    token = resp.headers["X-Subject-Token"]
    projects = httpx.get(
        stor_url(federated, "/v3/auth/projects"), headers={"X-Auth-Token": token}
    ).json()["projects"]
    assert [p["name"] for p in projects] == ["harvard-mallory"]
    scoped = httpx.post(
        stor_url(federated, "/v3/auth/tokens"),
        json={
            "auth": {
                "identity": {"methods": ["token"], "token": {"id": token}},
                "scope": {"project": {"id": projects[0]["id"]}},
            }
        },
    )
    assert [r["name"] for r in scoped.json()["token"]["roles"]] == ["member", "reader"]
    admin_project = httpx.post(
        stor_url(federated, "/v3/auth/tokens"),
        json={
            "auth": {
                "identity": {"methods": ["token"], "token": {"id": token}},
                "scope": {"project": {"name": "admin", "domain": {"id": "default"}}},
            }
        },
    )
    assert admin_project.status_code == 401


def test_disabled_or_unknown_idp_and_protocol(federated: Exchange) -> None:
    admin = {"X-Auth-Token": _admin_token(federated, "stor")}
    base = stor_url(federated, "/v3/OS-FEDERATION/identity_providers/harvard")
    body = envelope(assertion_req(federated), harvard_key(federated))
    httpx.patch(base + "/protocols/saml2", json={"protocol": {"enabled": False}}, headers=admin)
    assert refused(post_ecp(federated, body), 403) == "Protocol saml2 of harvard is disabled."
    httpx.patch(base + "/protocols/saml2", json={"protocol": {"enabled": True}}, headers=admin)
    httpx.patch(base, json={"identity_provider": {"enabled": False}}, headers=admin)
    assert refused(post_ecp(federated, body), 403) == "Identity provider harvard is disabled."
    assert refused(post_ecp(federated, body, idp="nobody"), 404) == (
        "Could not find Identity Provider: nobody."
    )


# --- OpenID Connect ------------------------------------------------------------------------


def oidc_claims(exchange: Exchange, **changes: Any) -> dict[str, Any]:
    now = time.time()
    claims = {
        "iss": exchange.landlords["harvard"].identity_url,
        "aud": "stor",
        "sub": "u-9",
        "preferred_username": "oscar",
        "iat": now,
        "nbf": now,
        "exp": now + 300,
        "jti": f"j-{now}",
    }
    claims.update(changes)
    return claims


def bearer(exchange: Exchange, token: str, idp: str = "harvard") -> httpx.Response:
    return httpx.post(stor_url(exchange, OIDC, idp), headers={"Authorization": f"Bearer {token}"})


def harvard_signed(exchange: Exchange, claims: dict[str, Any], typ: str = jws.TYP_ACCESS) -> str:
    keys = identity_of(exchange, "harvard").keys
    assert keys is not None
    return keys.sign(claims, typ=typ)


def test_genuine_access_token_once(federated: Exchange) -> None:
    token = harvard_signed(federated, oidc_claims(federated))
    assert bearer(federated, token).status_code == 201
    assert refused(bearer(federated, token)) == "This assertion has been used already."


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (lambda now: {"aud": "mit"}, "The access token is for another audience, not 'stor'."),
        (lambda now: {"exp": now - 120}, "The access token has expired."),
        (
            lambda now: {"nbf": now + 600, "exp": now + 900},
            "The access token is not valid yet.",
        ),
        (
            lambda now: {"iss": "http://evil"},
            "The issuer is not one of identity provider harvard's remote ids.",
        ),
        (lambda now: {"jti": ""}, "The access token has no jti."),
    ],
)
def test_bad_access_tokens(
    federated: Exchange, changes: Callable[[float], dict[str, Any]], message: str
) -> None:
    # The times are taken when the test runs: taken when it was collected, the token "not
    # valid yet" had expired by the time a slow run reached it.
    token = harvard_signed(federated, oidc_claims(federated, **changes(time.time())))
    assert refused(bearer(federated, token)) == message


def test_forged_unknown_key_none_and_hmac(federated: Exchange) -> None:
    good = harvard_signed(federated, oidc_claims(federated))
    header, payload, sig = good.split(".")
    claims = json.loads(jws.b64url_decode(payload))
    claims["preferred_username"] = "admin"
    forged = f"{header}.{jws.b64url(json.dumps(claims).encode())}.{sig}"
    assert refused(bearer(federated, forged)) == (
        "The access token is not valid: token signature is invalid."
    )
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    stranger = jws.sign(
        oidc_claims(federated), Ed25519PrivateKey.generate(), "kid-x", typ=jws.TYP_ACCESS
    )
    assert refused(bearer(federated, stranger)) == (
        "The access token is not valid: token is signed with an unknown key."
    )
    none = jws.b64url(json.dumps({"alg": "none", "typ": "at+jwt"}).encode())
    assert refused(bearer(federated, f"{none}.{payload}.")) == (
        "The access token is not valid: algorithm 'none' is not accepted."
    )
    import hashlib
    import hmac

    jwks = httpx.get(federated.landlords["harvard"].identity_url + "/.well-known/jwks.json")
    public = base64.urlsafe_b64decode(jwks.json()["keys"][0]["x"] + "==")
    hs = jws.b64url(
        json.dumps({"alg": "HS256", "typ": "at+jwt", "kid": jwks.json()["keys"][0]["kid"]}).encode()
    )
    mac = hmac.new(public, f"{hs}.{payload}".encode(), hashlib.sha256).digest()
    assert refused(bearer(federated, f"{hs}.{payload}.{jws.b64url(mac)}")) == (
        "The access token is not valid: algorithm 'HS256' is not accepted."
    )


def test_a_landlord_token_or_id_token_is_not_an_access_token(federated: Exchange) -> None:
    home = home_session(federated, "harvard", "alice").get_token()
    assert refused(bearer(federated, home)) == (
        "The access token is not valid: a 'ocx-token+jwt' token is not accepted here."
    )
    id_token = harvard_signed(federated, oidc_claims(federated), typ=jws.TYP_ID)
    assert refused(bearer(federated, id_token)) == (
        "The access token is not valid: a 'JWT' token is not accepted here."
    )


def test_mit_federated_token_is_refused_elsewhere(federated: Exchange) -> None:
    """alice of harvard federates into mit; the token mit gives her works at mit only."""
    from keystoneauth1 import session as ks_session
    from keystoneauth1.identity.v3 import Keystone2Keystone

    home = home_session(federated, "harvard", "alice")
    at_mit = ks_session.Session(
        auth=Keystone2Keystone(
            home.auth, "mit", project_name="harvard-alice", project_domain_name="harvard-federated"
        )
    )
    mit_token = at_mit.get_token()
    assert status_at(federated, "mit", mit_token) == 200
    for landlord in ("harvard", "stor"):
        assert status_at(federated, landlord, mit_token) == 401


def status_at(exchange: Exchange, landlord: str, token: str) -> int:
    url = exchange.landlords[landlord].auth_url + "/auth/projects"
    return httpx.get(url, headers={"X-Auth-Token": token}).status_code
