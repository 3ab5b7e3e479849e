"""A landlord's administrator reads the landlord's settlement at the exchange with a token of
the exchange's identity, reached through federation from the landlord's own identity (K2K,
keystoneauth1's plugin) — and no other landlord's."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

from ocx.exchange.client import LandlordAgent, MarketClient, password_token
from ocx.runner import Exchange
from tests.conftest import ExchangeFactory

TOPOLOGY: dict[str, Any] = {
    "harvard": {"parts": ["identity"], "demo_users": ["alice"]},
    "stor": {"parts": ["identity"], "trusts": ["harvard"]},
    "market": {"parts": ["identity", "exchange"], "trusts": ["harvard", "stor"]},
}
PERIOD = time.strftime("%Y-%m", time.gmtime())
REFUSED = "Only the exchange's operator or the landlord reads this."


@pytest.fixture
def world(exchange_factory: ExchangeFactory) -> Exchange:
    exchange = exchange_factory(TOPOLOGY)
    url = exchange.landlords["market"].base_urls["exchange"]
    market = exchange.landlords["market"]
    operator = MarketClient(url, password_token(market.auth_url, "admin", market.admin_password))
    for name in ("harvard", "stor"):
        lord = exchange.landlords[name]
        token = password_token(lord.auth_url, "admin", lord.admin_password)
        agent = LandlordAgent(name, lord.identity_url, token, url, "market")
        operator.post("/v1/landlords", {"statement": agent.enrolment(f"{name} inc")})
    return exchange


def home(exchange: Exchange, landlord: str, user: str, project: str) -> v3.Password:
    lord = exchange.landlords[landlord]
    password = lord.admin_password if user == "admin" else lord.demo_passwords[user]
    return v3.Password(
        auth_url=lord.auth_url,
        username=user,
        password=password,
        user_domain_id="default",
        project_name=project,
        project_domain_id="default",
    )


def at_market(exchange: Exchange, base: v3.Password, project: str) -> ks_session.Session:
    """K2K from the home identity to market's, scoped to ``project`` there."""
    unscoped = ks_session.Session(auth=v3.Keystone2Keystone(base, "market"))
    auth_url = exchange.landlords["market"].auth_url
    found = unscoped.get(auth_url + "/auth/projects").json()["projects"]
    names = {p["name"]: p["id"] for p in found}
    assert project in names, names
    return ks_session.Session(auth=v3.Keystone2Keystone(base, "market", project_id=names[project]))


def settlement(exchange: Exchange, sess: ks_session.Session, landlord: str) -> httpx.Response:
    url = exchange.landlords["market"].base_urls["exchange"]
    return httpx.get(
        f"{url}/v1/landlords/{landlord}/settlements/{PERIOD}",
        headers={"X-Auth-Token": sess.get_token()},
    )


def test_a_landlords_admin_reads_its_own_settlement_only(world: Exchange) -> None:
    stor_admin = at_market(world, home(world, "stor", "admin", "admin"), "landlord-stor")
    access = stor_admin.auth.get_access(stor_admin)
    assert access.is_federated and access.role_names == ["reader"]
    own = settlement(world, stor_admin, "stor")
    assert own.status_code == 200, own.text
    assert own.json()["settlement"]["landlord"] == "stor"
    other = settlement(world, stor_admin, "harvard")
    assert other.status_code == 403
    assert other.json()["error"]["message"] == REFUSED
    # harvard's administrator is admitted to harvard's landlord project, never to stor's.
    harvard_admin = at_market(world, home(world, "harvard", "admin", "admin"), "landlord-harvard")
    assert settlement(world, harvard_admin, "harvard").status_code == 200
    assert settlement(world, harvard_admin, "stor").status_code == 403


def test_a_landlords_ordinary_user_is_no_landlord_admin(world: Exchange) -> None:
    alice_base = home(world, "harvard", "alice", "alice-project")
    unscoped = ks_session.Session(auth=v3.Keystone2Keystone(alice_base, "market"))
    projects = unscoped.get(world.landlords["market"].auth_url + "/auth/projects").json()
    assert [p["name"] for p in projects["projects"]] == ["harvard-alice"]
    alice = at_market(world, alice_base, "harvard-alice")
    answer = settlement(world, alice, "harvard")
    assert answer.status_code == 403
    assert answer.json()["error"]["message"] == REFUSED
