"""Keystone v3, fuzzed: the identity service of a live landlord.

Token requests get auth bodies of Keystone's shape whose every leaf may be of the wrong type,
lone surrogates, huge numbers or deep nesting; the admin API gets its collections and
members (with ids of real things and random text) with random bodies, queries and headers,
as the landlord's admin, as a customer, and without a token. Rule: no 5xx, and the process
still answers.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import ExchangeFactory
from tests.fuzz.helpers import (
    Request,
    Target,
    bodies,
    budget,
    dumps,
    encode_path,
    headers_of,
    json_values,
    nasty_text,
    query_of,
)
from tests.identity.conftest import Admin

pytestmark = pytest.mark.fuzz

HEADERS = [
    "X-Subject-Token",
    "Content-Type",
    "OpenStack-API-Version",
    "X-Auth-Token",
    "Accept",
    "X-Forwarded-For",
    "X-OCX-Proxy-Hops",
]
QUERY_KEYS = [
    "name",
    "enabled",
    "domain_id",
    "limit",
    "marker",
    "parent_id",
    "user.id",
    "scope.project.id",
    "effective",
    "include_names",
    "nocatalog",
    "allow_expired",
    "since",
    "interface",
    "service_id",
    "is_domain",
]
MEMBERS = [
    "users",
    "projects",
    "domains",
    "roles",
    "regions",
    "services",
    "endpoints",
    "groups",
    "credentials",
    "OS-FEDERATION/identity_providers",
    "OS-FEDERATION/service_providers",
    "OS-FEDERATION/mappings",
]
PATHS = [
    "/v3",
    "/v3/auth/tokens",
    "/v3/auth/catalog",
    "/v3/auth/projects",
    "/v3/auth/domains",
    "/v3/auth/system",
    "/v3/role_assignments",
    "/v3/auth/OS-FEDERATION/saml2",
    "/v3/auth/OS-FEDERATION/saml2/ecp",
    "/v3/OS-REVOKE/events",
    "/v3/limits",
    "/.well-known/jwks.json",
    "/.well-known/openid-configuration",
]
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]


def auth_bodies(ids: list[str]) -> st.SearchStrategy[bytes]:
    leaf = st.one_of(st.sampled_from(ids), nasty_text, json_values())
    user = st.fixed_dictionaries(
        {},
        optional={
            "id": leaf,
            "name": leaf,
            "password": leaf,
            "domain": st.fixed_dictionaries({}, optional={"id": leaf, "name": leaf}) | leaf,
        },
    )
    identity = st.fixed_dictionaries(
        {"methods": st.one_of(st.lists(st.sampled_from(["password", "token"])), leaf)},
        optional={
            "password": st.fixed_dictionaries({"user": user}) | leaf,
            "token": st.fixed_dictionaries({"id": leaf}) | leaf,
            "application_credential": st.fixed_dictionaries(
                {}, optional={"id": leaf, "secret": leaf, "name": leaf, "user": user}
            ),
        },
    )
    scope = st.one_of(
        st.fixed_dictionaries({"project": st.fixed_dictionaries({}, optional={"id": leaf})}),
        st.fixed_dictionaries({"domain": st.fixed_dictionaries({}, optional={"id": leaf})}),
        st.fixed_dictionaries({"system": st.fixed_dictionaries({"all": leaf})}),
        st.fixed_dictionaries({"service_provider": st.fixed_dictionaries({"id": leaf})}),
        leaf,
    )
    auth = st.fixed_dictionaries({"identity": identity | leaf}, optional={"scope": scope})
    return st.one_of(st.fixed_dictionaries({"auth": auth}), json_values()).map(dumps)


def member_bodies(key: str) -> st.SearchStrategy[bytes]:
    return st.one_of(
        st.dictionaries(st.just(key), json_values()).map(dumps),
        st.fixed_dictionaries({key: st.dictionaries(nasty_text, json_values())}).map(dumps),
    )


def keystone_requests(ids: list[str]) -> st.SearchStrategy[Request]:
    member = st.tuples(st.sampled_from(MEMBERS), st.one_of(st.sampled_from(ids), nasty_text))
    path = st.one_of(
        st.sampled_from(PATHS),
        st.sampled_from(MEMBERS).map(lambda m: f"/v3/{m}"),
        member.map(lambda mi: f"/v3/{mi[0]}/{encode_path(mi[1])}"),
        st.tuples(st.sampled_from(ids), st.sampled_from(ids), st.sampled_from(ids)).map(
            lambda t: f"/v3/projects/{t[0]}/users/{t[1]}/roles/{t[2]}"
        ),
        nasty_text.map(lambda t: "/v3/" + encode_path(t)),
    )
    body = st.one_of(
        bodies,
        auth_bodies(ids),
        st.sampled_from(["user", "project", "domain"]).flatmap(member_bodies),
    )
    return st.builds(
        Request,
        st.sampled_from(METHODS),
        st.tuples(path, query_of(QUERY_KEYS)).map(lambda pq: pq[0] + pq[1]),
        headers_of(HEADERS).map(lambda h: [("Content-Type", "application/json"), *h]),
        body,
    )


def fuzz(target: Target, ids: list[str], tokens: list[str | None], long: bool) -> None:
    @budget(long)
    @given(keystone_requests(ids), st.sampled_from(tokens))
    def one(req: Request, token: str | None) -> None:
        if token is not None:
            req.headers.append(("X-Auth-Token", token))
        target.check(req)

    one()
    target.still_answers()


def setup(exchange_factory: ExchangeFactory) -> tuple[Target, list[str], list[str | None]]:
    exchange = exchange_factory({"harvard": ["identity"]})
    admin = Admin(exchange)
    project, user = admin.customer("fuzzer")
    customer = admin.user_session("fuzzer", project["id"]).get_token()
    ids = [project["id"], user["id"], admin.role_id("reader"), "x", "0" * 32]
    tokens: list[str | None] = [admin.session.get_token(), customer, None, "garbage"]
    target = Target(exchange.landlords["harvard"].identity_url, "/v3")
    return target, ids, tokens


def test_keystone_fuzz(exchange_factory: ExchangeFactory) -> None:
    target, ids, tokens = setup(exchange_factory)
    fuzz(target, ids, tokens, long=False)
    assert target.sent >= 100


@pytest.mark.slow
def test_keystone_fuzz_long(exchange_factory: ExchangeFactory) -> None:
    target, ids, tokens = setup(exchange_factory)
    fuzz(target, ids, tokens, long=True)
