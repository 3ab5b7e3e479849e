"""keystoneauth1's plugins against a live landlord, and the token lifecycle."""

from __future__ import annotations

import time

import pytest
from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

from ocx.runner import Exchange
from tests.identity.conftest import Admin


def test_password_plugin_gets_a_project_scoped_token(exchange: Exchange, admin: Admin) -> None:
    project, user = admin.customer("alice")
    sess = admin.user_session("alice", project["id"])
    assert sess.get_project_id() == project["id"]
    assert sess.get_user_id() == user["id"]
    access = sess.auth.get_access(sess)
    assert access.role_names == ["member", "reader"]
    assert access.project_domain_id == "default"
    identity = access.service_catalog.url_for(service_type="identity", interface="public")
    assert identity == exchange.landlords["harvard"].auth_url


def test_unscoped_token_then_rescope_with_token_plugin(admin: Admin) -> None:
    project, _ = admin.customer("bob")
    unscoped = ks_session.Session(
        auth=v3.Password(
            auth_url=admin.url,
            username="bob",
            password="bob-pw",
            user_domain_name="Default",
            unscoped=True,
        )
    )
    token = unscoped.get_token()
    assert unscoped.auth.get_access(unscoped).project_id is None
    rescoped = ks_session.Session(
        auth=v3.Token(auth_url=admin.url, token=token, project_id=project["id"])
    )
    access = rescoped.auth.get_access(rescoped)
    assert access.project_id == project["id"]
    assert access._data["token"]["methods"] == ["password", "token"]
    # The rescoped token keeps the audit chain and cannot outlive the original.
    original = unscoped.auth.get_access(unscoped)
    assert access.audit_chain_id == original.audit_id
    assert access.expires <= original.expires


def test_application_credential_plugin(admin: Admin) -> None:
    project, user = admin.customer("carol")
    sess = admin.user_session("carol", project["id"])
    resp = sess.post(
        f"{admin.url}/users/{user['id']}/application_credentials",
        json={"application_credential": {"name": "ci", "roles": [{"name": "reader"}]}},
    )
    cred = resp.json()["application_credential"]
    assert resp.status_code == 201 and cred["secret"]
    app = ks_session.Session(
        auth=v3.ApplicationCredential(
            auth_url=admin.url,
            application_credential_id=cred["id"],
            application_credential_secret=cred["secret"],
        )
    )
    access = app.auth.get_access(app)
    assert access.project_id == project["id"]
    assert access.role_names == ["reader"]
    by_name = ks_session.Session(
        auth=v3.ApplicationCredential(
            auth_url=admin.url,
            application_credential_name="ci",
            username="carol",
            user_domain_id="default",
            application_credential_secret=cred["secret"],
        )
    )
    assert by_name.get_project_id() == project["id"]


def test_wrong_application_credential_secret_is_refused(admin: Admin) -> None:
    project, user = admin.customer("dave")
    sess = admin.user_session("dave", project["id"])
    cred = sess.post(
        f"{admin.url}/users/{user['id']}/application_credentials",
        json={"application_credential": {"name": "x"}},
    ).json()
    bad = ks_session.Session(
        auth=v3.ApplicationCredential(
            auth_url=admin.url,
            application_credential_id=cred["application_credential"]["id"],
            application_credential_secret="not-the-secret",
        )
    )
    with pytest.raises(ks_exc.Unauthorized):
        bad.get_token()


def _validate(admin: Admin, token: str) -> int:
    resp = admin.session.get(
        admin.url + "/auth/tokens", headers={"X-Subject-Token": token}, raise_exc=False
    )
    return int(resp.status_code)


def test_revoked_token_is_refused(admin: Admin) -> None:
    project, _ = admin.customer("erin")
    sess = admin.user_session("erin", project["id"])
    token = sess.get_token()
    assert _validate(admin, token) == 200
    admin.session.delete(admin.url + "/auth/tokens", headers={"X-Subject-Token": token})
    assert _validate(admin, token) == 404
    resp = sess.get(
        admin.url + f"/projects/{project['id']}",
        raise_exc=False,
        headers={"X-Auth-Token": token},
        authenticated=False,
    )
    assert resp.status_code == 401
    assert resp.json()["error"]["message"] == "The token has been revoked."


def test_expired_token_is_refused(exchange_factory) -> None:  # type: ignore[no-untyped-def]
    exchange = exchange_factory(token_ttl=60)
    admin = Admin(exchange)
    identity = next(r.service for r in exchange.running if r.part == "identity")
    svc = identity.service  # type: ignore[attr-defined]
    # A token that expired a second ago, signed with the landlord's real key.
    token = admin.session.get_token()
    access_claims = _claims(token)
    access_claims["exp"] = int(time.time()) - 1
    expired = svc.keys.sign(access_claims)
    assert _validate(admin, expired) == 404
    resp = admin.session.get(
        admin.url + "/auth/tokens", headers={"X-Subject-Token": expired}, raise_exc=False
    )
    assert resp.json()["error"]["message"] == "The token has expired."


def _claims(token: str) -> dict:  # type: ignore[type-arg]
    import base64
    import json

    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


def test_token_of_one_landlord_is_refused_by_another(exchange: Exchange) -> None:
    harvard, mit = Admin(exchange, "harvard"), Admin(exchange, "mit")
    token = harvard.session.get_token()
    resp = mit.session.get(
        mit.url + "/projects", headers={"X-Auth-Token": token}, authenticated=False, raise_exc=False
    )
    assert resp.status_code == 401
    # mit has never seen harvard's keys; the audience check (tests/common) is the second wall.
    assert resp.json()["error"]["message"] == (
        "The token is not valid: token is signed with an unknown key."
    )
