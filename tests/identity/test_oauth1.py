"""OS-OAUTH1 with the real clients: python-keystoneclient's oauth1 managers for consumers,
request and access tokens, and keystoneauth1's ``extras.oauth1`` plugin to authenticate
(both sign with oauthlib), against a live identity. Issue #10."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import requests
from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import session as ks_session
from keystoneauth1.extras.oauth1 import v3 as ks_oauth1
from keystoneclient.v3 import client as ks_client
from oauthlib import oauth1 as oauthlib1

from ocx.runner import Exchange
from tests.identity.conftest import Admin
from tests.identity.oidc.conftest import REDIRECT, Oidc, oauth_error


@dataclass
class Delegation:
    consumer_id: str
    consumer_secret: str
    access_key: str
    access_secret: str
    user: dict[str, Any]
    project: dict[str, Any]


def _kc(session: ks_session.Session) -> Any:
    return ks_client.Client(session=session)


def _consumer(admin: Admin) -> tuple[str, str]:
    consumer = _kc(admin.session).oauth1.consumers.create(description="a photo printer")
    return consumer.id, consumer.secret


def _delegate(admin: Admin, name: str, roles: list[str], held: tuple[str, ...]) -> Delegation:
    """``name`` holds ``held`` on a new project and lets a new consumer act with ``roles``."""
    project, user = admin.customer(name, held[0])
    for extra in held[1:]:
        admin.grant(project["id"], user["id"], extra)
    consumer_id, consumer_secret = _consumer(admin)
    consumer_kc = _kc(admin.session)  # anyone reaching identity; the request is signed
    request_token = consumer_kc.oauth1.request_tokens.create(
        consumer_id, consumer_secret, project["id"]
    )
    user_kc = _kc(admin.user_session(name, project["id"]))
    authorized = user_kc.oauth1.request_tokens.authorize(
        request_token.key, [admin.role_id(r) for r in roles]
    )
    access = consumer_kc.oauth1.access_tokens.create(
        consumer_id,
        consumer_secret,
        request_token.key,
        request_token.secret,
        authorized.oauth_verifier,
    )
    return Delegation(consumer_id, consumer_secret, access.key, access.secret, user, project)


def _oauth_session(admin: Admin, d: Delegation, **wrong: str) -> ks_session.Session:
    keys = {
        "consumer_key": d.consumer_id,
        "consumer_secret": d.consumer_secret,
        "access_key": d.access_key,
        "access_secret": d.access_secret,
        **wrong,
    }
    return ks_session.Session(auth=ks_oauth1.OAuth1(admin.url, **keys))


def _token(session: ks_session.Session) -> dict[str, Any]:
    access = session.auth.get_access(session)  # type: ignore[union-attr]
    return dict(access._data["token"])


def _valid(admin: Admin, token_id: str) -> int:
    resp = admin.session.get(
        admin.url + "/auth/tokens", headers={"X-Subject-Token": token_id}, raise_exc=False
    )
    return int(resp.status_code)


def test_consumer_secret_is_shown_only_at_creation(admin: Admin) -> None:
    kc = _kc(admin.session)
    consumer = kc.oauth1.consumers.create(description="first")
    assert consumer.secret
    shown = kc.oauth1.consumers.get(consumer.id)
    assert shown.description == "first" and not hasattr(shown, "secret")
    assert "secret" not in str(kc.oauth1.consumers.list())
    assert kc.oauth1.consumers.update(consumer.id, description="second").description == "second"
    kc.oauth1.consumers.delete(consumer.id)
    with pytest.raises(ks_exc.NotFound):
        kc.oauth1.consumers.get(consumer.id)


def test_customer_cannot_register_a_consumer(admin: Admin) -> None:
    project, _user = admin.customer("mallory", "admin")
    kc = _kc(admin.user_session("mallory", project["id"]))
    with pytest.raises(ks_exc.Forbidden):
        kc.oauth1.consumers.create(description="admin on a customer project is no landlord admin")


def test_delegated_token_has_the_project_and_only_the_authorized_roles(admin: Admin) -> None:
    d = _delegate(admin, "olga", ["reader"], held=("member", "admin"))
    session = _oauth_session(admin, d)
    token = _token(session)
    assert token["methods"] == ["oauth1"]
    assert token["user"]["id"] == d.user["id"]
    assert token["project"]["id"] == d.project["id"]
    assert [r["name"] for r in token["roles"]] == ["reader"]  # not member, not admin
    assert token["OS-OAUTH1"]["consumer_id"] == d.consumer_id
    assert token["OS-OAUTH1"]["access_token_id"] == d.access_key
    # The token works for reads the user allows on the project.
    resp = session.get(admin.url + f"/projects/{d.project['id']}", raise_exc=False)
    assert resp.status_code == 200


def test_authorizing_a_role_not_held_is_refused(admin: Admin) -> None:
    project, _user = admin.customer("pavel", "member")
    consumer_id, secret = _consumer(admin)
    kc = _kc(admin.session)
    request_token = kc.oauth1.request_tokens.create(consumer_id, secret, project["id"])
    user_kc = _kc(admin.user_session("pavel", project["id"]))
    with pytest.raises(ks_exc.Forbidden):
        user_kc.oauth1.request_tokens.authorize(request_token.key, [admin.role_id("admin")])


def test_delegated_token_cannot_reach_beyond_its_roles(admin: Admin) -> None:
    d = _delegate(admin, "quinn", ["member"], held=("member", "admin"))
    session = _oauth_session(admin, d)
    token_id = session.get_token()
    assert token_id
    # No rescoping, no application credential with the user's other roles, no new delegation.
    rescope = {"auth": {"identity": {"methods": ["token"], "token": {"id": token_id}}}}
    resp = requests.post(admin.url + "/auth/tokens", json=rescope, timeout=30)
    assert resp.status_code == 403
    body = {"application_credential": {"name": "wider", "roles": [{"name": "admin"}]}}
    resp = session.post(
        admin.url + f"/users/{d.user['id']}/application_credentials", json=body, raise_exc=False
    )
    assert resp.status_code == 403
    consumer_id, secret = _consumer(admin)
    other = _kc(admin.session).oauth1.request_tokens.create(consumer_id, secret, d.project["id"])
    resp = session.put(
        admin.url + f"/OS-OAUTH1/authorize/{other.key}",
        json={"roles": [{"name": "admin"}]},
        raise_exc=False,
    )
    assert resp.status_code == 403
    resp = session.get(
        admin.url + f"/users/{d.user['id']}/OS-OAUTH1/access_tokens", raise_exc=False
    )
    assert resp.status_code == 403


def test_bad_signature_is_refused(admin: Admin) -> None:
    d = _delegate(admin, "rita", ["member"], held=("member",))
    for wrong in ({"access_secret": "x" * 30}, {"consumer_secret": "y" * 32}):
        with pytest.raises(ks_exc.Unauthorized):
            _oauth_session(admin, d, **wrong).get_token()
    # An access token shown by another consumer is refused too.
    other_id, other_secret = _consumer(admin)
    with pytest.raises(ks_exc.Unauthorized):
        _oauth_session(admin, d, consumer_key=other_id, consumer_secret=other_secret).get_token()


def test_replayed_nonce_and_stale_timestamp_are_refused(admin: Admin) -> None:
    d = _delegate(admin, "sven", ["member"], held=("member",))
    url = admin.url + "/auth/tokens"
    body = {"auth": {"identity": {"methods": ["oauth1"], "oauth1": {}}}}

    def signed(**fixed: str) -> dict[str, str]:
        client = oauthlib1.Client(
            d.consumer_id,
            client_secret=d.consumer_secret,
            resource_owner_key=d.access_key,
            resource_owner_secret=d.access_secret,
            signature_method=oauthlib1.SIGNATURE_HMAC,
            **fixed,
        )
        _url, headers, _body = client.sign(url, http_method="POST")
        return dict(headers)

    headers = signed()
    first = requests.post(url, json=body, headers=headers, timeout=30)
    assert first.status_code == 201, first.text
    replay = requests.post(url, json=body, headers=headers, timeout=30)
    assert replay.status_code == 401
    stale = signed(timestamp="1000000000", nonce="a-fresh-nonce-0123456789")
    assert requests.post(url, json=body, headers=stale, timeout=30).status_code == 401
    assert requests.post(url, json=body, timeout=30).status_code in (400, 401)


def test_user_lists_and_revokes_access_token(admin: Admin) -> None:
    d = _delegate(admin, "tara", ["member"], held=("member",))
    consumer = _oauth_session(admin, d)
    token_id = consumer.get_token()
    assert token_id and _valid(admin, token_id) == 200
    user_kc = _kc(admin.user_session("tara", d.project["id"]))
    base = f"/users/{d.user['id']}/OS-OAUTH1/access_tokens"
    listed = user_kc.session.get(admin.url + base).json()["access_tokens"]
    assert [t["id"] for t in listed] == [d.access_key]
    assert listed[0]["consumer_id"] == d.consumer_id and "secret" not in listed[0]
    roles = user_kc.session.get(admin.url + f"{base}/{d.access_key}/roles").json()["roles"]
    assert [r["name"] for r in roles] == ["member"]
    one = f"{admin.url}{base}/{d.access_key}"
    assert user_kc.session.get(one).json()["access_token"] == listed[0]
    role = user_kc.session.get(f"{one}/roles/{roles[0]['id']}").json()["role"]
    assert role == roles[0]
    missing = user_kc.session.get(f"{one}/roles/nope", raise_exc=False)
    assert missing.status_code == 404
    assert missing.json()["error"]["message"] == "Could not find role: nope."
    # Another customer cannot see them.
    other_project, _other = admin.customer("ursula")
    other = admin.user_session("ursula", other_project["id"])
    assert other.get(admin.url + base, raise_exc=False).status_code == 403
    assert user_kc.session.delete(admin.url + f"{base}/{d.access_key}").status_code == 204
    assert _valid(admin, token_id) == 404  # the token made from it ended
    with pytest.raises(ks_exc.Unauthorized):
        _oauth_session(admin, d).get_token()


def test_deleting_the_consumer_ends_its_delegations(admin: Admin) -> None:
    d = _delegate(admin, "vera", ["member"], held=("member",))
    token_id = _oauth_session(admin, d).get_token()
    assert token_id and _valid(admin, token_id) == 200
    _kc(admin.session).oauth1.consumers.delete(d.consumer_id)
    assert _valid(admin, token_id) == 404
    with pytest.raises(ks_exc.Unauthorized):
        _oauth_session(admin, d).get_token()


def test_losing_the_role_ends_the_delegation(admin: Admin) -> None:
    d = _delegate(admin, "wanda", ["member"], held=("member",))
    token_id = _oauth_session(admin, d).get_token()
    assert token_id and _valid(admin, token_id) == 200
    member = admin.role_id("member")
    admin.call("DELETE", f"/projects/{d.project['id']}/users/{d.user['id']}/roles/{member}", ok=204)
    assert _valid(admin, token_id) == 404
    with pytest.raises(ks_exc.Unauthorized):
        _oauth_session(admin, d).get_token()


def test_request_token_is_spent_once(admin: Admin, exchange: Exchange) -> None:
    project, _user = admin.customer("xena", "member")
    consumer_id, secret = _consumer(admin)
    kc = _kc(admin.session)
    request_token = kc.oauth1.request_tokens.create(consumer_id, secret, project["id"])
    # Not yet authorised: no access token.
    with pytest.raises(ks_exc.Unauthorized):
        kc.oauth1.access_tokens.create(
            consumer_id, secret, request_token.key, request_token.secret, "v" * 24
        )
    user_kc = _kc(admin.user_session("xena", project["id"]))
    verifier = user_kc.oauth1.request_tokens.authorize(
        request_token.key, [admin.role_id("member")]
    ).oauth_verifier
    with pytest.raises(ks_exc.Unauthorized):  # a wrong verifier
        kc.oauth1.access_tokens.create(
            consumer_id, secret, request_token.key, request_token.secret, "w" * 24
        )
    kc.oauth1.access_tokens.create(
        consumer_id, secret, request_token.key, request_token.secret, verifier
    )
    with pytest.raises(ks_exc.Unauthorized):
        kc.oauth1.access_tokens.create(
            consumer_id, secret, request_token.key, request_token.secret, verifier
        )


MALFORMED = [
    None,
    "Bearer abc",
    "OAuth ",
    'OAuth oauth_consumer_key="%ZZ", oauth_nonce=',
    'OAuth oauth_consumer_key="' + "k" * 5000 + '", oauth_signature_method="PLAINTEXT"',
    'OAuth oauth_consumer_key="abc", oauth_timestamp="not-a-number", oauth_nonce="n"',
]


def test_malformed_oauth_requests_are_refused_not_crashes(admin: Admin) -> None:
    auth_body = {"auth": {"identity": {"methods": ["oauth1"], "oauth1": {}}}}
    for authorization in MALFORMED:
        headers = {"Requested-Project-Id": "default"}
        if authorization is not None:
            headers["Authorization"] = authorization
        for path, body in (
            ("/OS-OAUTH1/request_token", None),
            ("/OS-OAUTH1/access_token", None),
            ("/auth/tokens", auth_body),
        ):
            resp = requests.post(admin.url + path, json=body, headers=headers, timeout=30)
            assert resp.status_code in (400, 401, 404), (path, resp.status_code, resp.text)


def test_delegated_token_stays_at_this_landlord_and_signs_in_nowhere(
    admin: Admin, exchange: Exchange
) -> None:
    d = _delegate(admin, "zeno", ["member"], held=("member",))
    token_id = _oauth_session(admin, d).get_token()
    assert token_id
    # No K2K assertion (it would take the user and their groups to another landlord); refused
    # before the service provider is even looked up (else this would be 404).
    body = {
        "auth": {
            "identity": {"methods": ["token"], "token": {"id": token_id}},
            "scope": {"service_provider": {"id": "no-such-provider"}},
        }
    }
    resp = requests.post(admin.url + "/auth/OS-FEDERATION/saml2", json=body, timeout=30)
    assert resp.status_code == 403, resp.text
    # No OIDC sign-in as the whole user.
    with httpx.Client(timeout=30.0, follow_redirects=False) as http:
        oidc = Oidc(exchange, admin, http)
        client = oidc.client()
        query = {
            "response_type": "code",
            "client_id": client["client_id"],
            "redirect_uri": REDIRECT,
        }
        resp = oidc.authorize(token_id, **query)
        assert resp.status_code == 401 and oauth_error(resp) == "access_denied"
        # The user's own token signs in (the refusal is about the delegation).
        own = oidc.authorize(oidc.user_token("zeno"), **query)
        assert own.status_code == 302
