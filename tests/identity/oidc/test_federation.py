"""End to end: keystoneauth1's OidcPassword takes a harvard access token to stor, which trusts
harvard as an identity provider, and comes back with a stor token."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

from ocx.runner import Exchange
from tests.conftest import ExchangeFactory
from tests.identity.conftest import Admin
from tests.identity.federation.conftest import FEDERATED
from tests.identity.oidc.conftest import DISCOVERY, Oidc


@pytest.fixture
def federated(exchange_factory: ExchangeFactory) -> Exchange:
    return exchange_factory(FEDERATED)


@pytest.fixture
def harvard(federated: Exchange) -> Iterator[Oidc]:
    with httpx.Client(timeout=30.0) as http:
        yield Oidc(federated, Admin(federated, "harvard"), http)


def stor_plugin(federated: Exchange, client: dict[str, str]) -> v3.OidcPassword:
    home = federated.landlords["harvard"]
    return v3.OidcPassword(
        auth_url=federated.landlords["stor"].auth_url,
        identity_provider="harvard",
        protocol="openid",
        client_id=client["client_id"],
        client_secret=client["client_secret"],
        discovery_endpoint=home.identity_url + DISCOVERY,
        username="alice",
        password=home.demo_passwords["alice"],
        project_name="harvard-alice",
        project_domain_name="harvard-federated",
    )


def test_harvard_user_reaches_stor_with_oidc(federated: Exchange, harvard: Oidc) -> None:
    client = harvard.client(grant_types=["password"], audience="stor")
    plugin = stor_plugin(federated, client)
    access = plugin.get_access(ks_session.Session(auth=plugin))
    assert access.project_name == "harvard-alice" and access.is_federated
    assert access.user_domain_name == "harvard-federated"


def test_stor_refuses_a_token_meant_for_another_landlord(
    federated: Exchange, harvard: Oidc
) -> None:
    client = harvard.client(grant_types=["password"], audience="mit")
    plugin = stor_plugin(federated, client)
    with pytest.raises(ks_exc.Unauthorized):
        plugin.get_access(ks_session.Session(auth=plugin))
