"""Keystone-to-Keystone: a harvard user gets a scoped token at stor with keystoneauth1's plugin."""

from __future__ import annotations

from keystoneauth1 import session as ks_session
from keystoneauth1.identity.v3 import Keystone2Keystone

from ocx.runner import Exchange
from tests.identity.federation.conftest import home_session


def k2k_session(exchange: Exchange, home: str, user: str, **scope: str) -> ks_session.Session:
    base = home_session(exchange, home, user)
    return ks_session.Session(auth=Keystone2Keystone(base.auth, "stor", **scope))


def test_harvard_user_gets_a_scoped_token_at_stor(federated: Exchange) -> None:
    home = home_session(federated, "harvard", "alice")
    providers = home.auth.get_access(home).service_providers
    assert providers is not None and providers.get_sp_url("stor").endswith("/protocols/saml2/ecp")
    sess = k2k_session(
        federated,
        "harvard",
        "alice",
        project_name="harvard-alice",
        project_domain_name="harvard-federated",
    )
    access = sess.auth.get_access(sess)
    assert access.project_name == "harvard-alice"
    assert access.role_names == ["member", "reader"]
    assert access.is_federated
    assert access.user_domain_name == "harvard-federated"
    stor = federated.landlords["stor"]
    assert access.service_catalog.url_for(service_type="identity") == stor.auth_url
    # The token is stor's own: stor's services verify it, harvard's do not.
    projects = sess.get(stor.auth_url + "/auth/projects").json()["projects"]
    assert [p["name"] for p in projects] == ["harvard-alice"]
