"""When federated access ends, and what keeps working: the documented policy, tested.

- stor's token for a harvard user never outlives the harvard token it came from;
- harvard disabling the user stops new logins at stor at once (the IdP refuses to assert);
- stor deleting its mapping (or disabling the IdP) revokes the stor tokens at once;
- an application credential a federated user makes at stor keeps working while the user still
  holds its roles there: roles from provisioned projects are persistent grants; roles that came
  through mapped groups last ``authorization_ttl`` after the last login, then lapse.
"""

from __future__ import annotations

import time

import httpx
import pytest
from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

from ocx.identity.federation.models import ExpiringMembership
from ocx.runner import Exchange
from tests.identity.federation.conftest import home_session, identity_of
from tests.identity.federation.test_attacks import _admin_token
from tests.identity.federation.test_k2k import k2k_session

SCOPE = {"project_name": "harvard-alice", "project_domain_name": "harvard-federated"}


def status(exchange: Exchange, landlord: str, token: str) -> int:
    url = exchange.landlords[landlord].auth_url + "/auth/projects"
    return httpx.get(url, headers={"X-Auth-Token": token}).status_code


def test_stor_token_never_outlives_the_home_token(federated: Exchange) -> None:
    home = home_session(federated, "harvard", "alice")
    sess = ks_session.Session(auth=v3.Keystone2Keystone(home.auth, "stor", **SCOPE))
    remote = sess.auth.get_access(sess)
    assert remote.expires <= home.auth.get_access(home).expires


def test_disabling_the_user_at_home_stops_new_logins(federated: Exchange) -> None:
    sess = k2k_session(federated, "harvard", "alice", **SCOPE)
    assert sess.get_token()
    harvard = federated.landlords["harvard"]
    admin = {"X-Auth-Token": _admin_token(federated, "harvard")}
    users = httpx.get(harvard.auth_url + "/users?name=alice", headers=admin).json()["users"]
    httpx.patch(
        harvard.auth_url + f"/users/{users[0]['id']}",
        json={"user": {"enabled": False}},
        headers=admin,
    ).raise_for_status()
    with pytest.raises(ks_exc.Unauthorized):
        k2k_session(federated, "harvard", "alice", **SCOPE).get_token()


def test_deleting_the_mapping_ends_access_at_once(federated: Exchange) -> None:
    token = k2k_session(federated, "harvard", "alice", **SCOPE).get_token()
    assert status(federated, "stor", token) == 200
    stor = federated.landlords["stor"]
    admin = {"X-Auth-Token": _admin_token(federated, "stor")}
    resp = httpx.delete(stor.auth_url + "/OS-FEDERATION/mappings/harvard-saml2", headers=admin)
    assert resp.status_code == 204
    assert status(federated, "stor", token) == 401
    with pytest.raises(ks_exc.http.NotFound):
        k2k_session(federated, "harvard", "alice", **SCOPE).get_token()


def test_app_credential_of_a_federated_user(federated: Exchange) -> None:
    sess = k2k_session(federated, "harvard", "alice", **SCOPE)
    stor = federated.landlords["stor"]
    user_id = sess.get_user_id()
    cred = sess.post(
        stor.auth_url + f"/users/{user_id}/application_credentials",
        json={"application_credential": {"name": "backup"}},
    ).json()["application_credential"]
    app = ks_session.Session(
        auth=v3.ApplicationCredential(
            auth_url=stor.auth_url,
            application_credential_id=cred["id"],
            application_credential_secret=cred["secret"],
        )
    )
    assert app.get_project_id() == sess.get_project_id()
    assert app.auth.get_access(app).role_names == ["member", "reader"]


def test_group_roles_lapse_after_the_authorization_ttl(federated: Exchange) -> None:
    stor = federated.landlords["stor"]
    admin = {"X-Auth-Token": _admin_token(federated, "stor")}

    def call(method: str, path: str, json: object = None) -> httpx.Response:
        resp = httpx.request(method, stor.auth_url + path, json=json, headers=admin)
        assert resp.status_code < 400, resp.text
        return resp

    group = call("POST", "/groups", {"group": {"name": "researchers"}}).json()["group"]
    project = call("POST", "/projects", {"project": {"name": "shared"}}).json()["project"]
    reader = call("GET", "/roles?name=reader").json()["roles"][0]
    call("PUT", f"/projects/{project['id']}/groups/{group['id']}/roles/{reader['id']}")
    rules = [
        {
            "local": [{"user": {"name": "{0}", "id": "{1}"}}, {"group": {"id": group["id"]}}],
            "remote": [{"type": "openstack_user"}, {"type": "openstack_user_id"}],
        }
    ]
    call("PATCH", "/OS-FEDERATION/mappings/harvard-saml2", {"mapping": {"rules": rules}})

    sess = k2k_session(federated, "harvard", "alice", project_id=project["id"])
    user_id = sess.get_user_id()
    cred = sess.post(
        stor.auth_url + f"/users/{user_id}/application_credentials",
        json={"application_credential": {"name": "ci"}},
    ).json()["application_credential"]

    def app_token() -> str:
        return ks_session.Session(
            auth=v3.ApplicationCredential(
                auth_url=stor.auth_url,
                application_credential_id=cred["id"],
                application_credential_secret=cred["secret"],
            )
        ).get_token()

    assert app_token()
    # Time passes beyond the membership's life, with no new login from harvard.
    svc = identity_of(federated, "stor")

    async def lapse() -> None:
        async with svc.db.session() as session:
            row = await session.get(ExpiringMembership, (user_id, group["id"]))
            assert row is not None
            row.expires_at = time.time() - 1

    federated.background.call(lapse())  # type: ignore[attr-defined]
    with pytest.raises(ks_exc.Unauthorized):
        app_token()
    # Logging in again through harvard renews the membership, and the credential works again.
    k2k_session(federated, "harvard", "alice", project_id=project["id"]).get_token()
    assert app_token()
