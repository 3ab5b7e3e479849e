"""Token translation without a network: K2K steps against httpx.MockTransport, and the cache."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from ocx.clients.k2k import Federation, Remote, ServiceProvider, choose_project, identity_base
from ocx.common import errors
from ocx.common.auth import principal_from_claims
from ocx.common.settings import VerifierSettings
from ocx.proxy.errors import Absent, Unreachable
from ocx.proxy.landlords import Caller, Candidate, from_token_body
from ocx.proxy.settings import ProxySettings
from ocx.proxy.tokens import Translator

HOME = "http://harvard"
SP = ServiceProvider(
    "stor",
    "http://stor/v3/OS-FEDERATION/identity_providers/harvard/protocols/saml2/auth",
    "http://stor/ecp",
)
CATALOG = [
    {
        "type": "object-store",
        "endpoints": [
            {"interface": "public", "region": "ocx", "url": "http://proxy/v1/AUTH_p"},
            {"interface": "public", "region": "RegionOne", "url": "http://stor-object/v1/AUTH_s1"},
        ],
    }
]


def iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat().replace("+00:00", "Z")


def landlords(
    *,
    refuse: int | None = None,
    projects: list[Any] | None = None,
    garbage: bool = False,
    expires: float | None = None,
) -> Callable[[httpx.Request], httpx.Response]:
    """A fake harvard (the IdP) and stor (the service provider)."""
    calls: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        calls.append(url)
        if url == HOME + "/v3/auth/OS-FEDERATION/saml2/ecp":
            assert json.loads(request.content)["auth"]["scope"]["service_provider"]["id"] == "stor"
            return httpx.Response(200, content=b"<soap/>")
        if url == SP.sp_url:
            if refuse:
                return httpx.Response(refuse, json={"error": {}})
            return httpx.Response(201, headers={"X-Subject-Token": "unscoped"}, json={"token": {}})
        if url == "http://stor/v3/auth/projects":
            if garbage:
                return httpx.Response(200, content=b"<html>")
            found = [{"id": "s1", "name": "harvard-alice"}] if projects is None else projects
            return httpx.Response(200, json={"projects": found})
        if url == "http://stor/v3/auth/tokens":
            body = {"token": {"catalog": CATALOG, "expires_at": iso(expires or time.time() + 3600)}}
            return httpx.Response(201, headers={"X-Subject-Token": "scoped-at-stor"}, json=body)
        return httpx.Response(404)

    answer.calls = calls  # type: ignore[attr-defined]
    return answer


def federation(handler: Callable[[httpx.Request], httpx.Response]) -> Federation:
    return Federation(httpx.AsyncClient(transport=httpx.MockTransport(handler)), HOME)


async def test_k2k_gets_a_scoped_token_and_the_object_store() -> None:
    remote = await federation(landlords()).token_at("home-token", SP)
    assert (remote.token, remote.storage_url, remote.project_id) == (
        "scoped-at-stor",
        "http://stor-object/v1/AUTH_s1",
        "s1",
    )


@pytest.mark.parametrize(
    ("fake", "kind", "reason"),
    [
        (landlords(refuse=403), Absent, "federation refused (403)"),
        (landlords(refuse=500), Unreachable, "federation failed (500)"),
        (landlords(projects=[]), Absent, "no project there"),
        (landlords(garbage=True), Unreachable, "federation answered garbage"),
    ],
)
async def test_k2k_failures_are_classified(fake: Any, kind: type[Exception], reason: str) -> None:
    with pytest.raises(kind) as failed:
        await federation(fake).token_at("home-token", SP)
    assert failed.value.reason == reason  # type: ignore[attr-defined]


async def test_a_refused_home_token_is_the_callers_401() -> None:
    def home_refuses(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"error": {}})

    with pytest.raises(errors.Unauthorized):
        await federation(home_refuses).token_at("revoked", SP)


async def test_an_unreachable_provider_is_unreachable() -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(Unreachable, match="federation failed: ConnectError"):
        await federation(down).token_at("home-token", SP)


async def test_a_connection_closed_as_it_is_reused_is_tried_again_once() -> None:
    """An identity's kept-alive connection closed just as it is reused (ReadError) costs one
    more try, not the landlord (it was then refused as unreachable for unreachable_ttl)."""
    fake = landlords()
    broken: list[str] = []

    def flaky(request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        if url not in broken and url in (SP.sp_url, HOME + "/v3/auth/OS-FEDERATION/saml2/ecp"):
            broken.append(url)
            raise httpx.ReadError("closed", request=request)
        return fake(request)

    # the first try of the first step fails, then the first try of the second
    remote = await federation(flaky).token_at("home-token", SP)
    assert remote.token == "scoped-at-stor" and len(broken) == 2

    def always(request: httpx.Request) -> httpx.Response:
        raise httpx.RemoteProtocolError("closed", request=request)

    with pytest.raises(Unreachable, match="federation failed: RemoteProtocolError"):
        await federation(always).token_at("home-token", SP)


def test_helpers() -> None:
    assert identity_base(SP.auth_url) == "http://stor"
    assert identity_base("http://x/v3") == "http://x"
    assert choose_project([{"id": "2", "name": "b"}, {"id": "1", "name": "a"}])["id"] == "1"
    assert choose_project([{"id": "1", "name": "a", "enabled": False}]) is None


def test_the_token_body_names_home_then_the_service_providers() -> None:
    body = {
        "catalog": CATALOG,
        "service_providers": [
            {"id": "mit", "auth_url": "http://mit/auth", "sp_url": "http://mit/ecp"},
            {"id": "stor", "auth_url": SP.auth_url, "sp_url": SP.sp_url},
        ],
    }
    found = from_token_body("harvard", body)
    assert [(c.name, c.rank, c.kind) for c in found] == [
        ("harvard", 0, "home"),
        ("mit", 1, "federated"),
        ("stor", 2, "federated"),
    ]
    assert found[0].storage_url == "http://stor-object/v1/AUTH_s1"  # never the proxy's region
    assert [c.name for c in from_token_body("harvard", {})] == []


def caller(expires_in: float, token: str = "home-token", **changes: Any) -> Caller:
    claims = {
        "sub": "u1",
        "user": {"name": "alice", "domain": {"id": "default"}},
        "jti": "a1",
        "iat": time.time(),
        "exp": int(time.time() + expires_in),
        "project": {"id": "p1"},
        "roles": [{"id": "r1", "name": "member"}],
        "methods": ["password"],
    }
    return Caller.of(principal_from_claims({**claims, **changes}), token)


def translator(handler: Callable[[httpx.Request], httpx.Response]) -> Translator:
    settings = ProxySettings(
        landlord="harvard",
        public_url="http://proxy",
        verifier=VerifierSettings(identity_url=HOME, audience="harvard"),
        identity_url=HOME,
        proxy_id="harvard-proxy",
        token_margin=30,
    )
    return Translator(federation(handler), settings)


STOR = Candidate("stor", 2, "federated", sp=SP)


async def test_remote_tokens_are_cached_never_past_the_home_token() -> None:
    fake = landlords(expires=time.time() + 7200)
    translate = translator(fake)
    who = caller(expires_in=600)
    first = await translate.backend(who, STOR)
    assert first.expires_at == pytest.approx(who.principal.expires_at)  # clamped to home's
    assert await translate.backend(who, STOR) is first
    assert len(fake.calls) == 4  # type: ignore[attr-defined]
    translate.forget(who.sign_in)
    await translate.backend(who, STOR)
    assert len(fake.calls) == 8  # type: ignore[attr-defined]


async def test_a_home_token_about_to_expire_is_not_cached() -> None:
    fake = landlords()
    translate = translator(fake)
    who = caller(expires_in=10)  # inside the 30 s margin
    await translate.backend(who, STOR)
    await translate.backend(who, STOR)
    assert len(fake.calls) == 8  # type: ignore[attr-defined]


async def test_absence_is_remembered() -> None:
    fake = landlords(projects=[])
    translate = translator(fake)
    for _ in range(2):
        with pytest.raises(Absent):
            await translate.backend(caller(600), STOR)
    assert len(fake.calls) == 3  # type: ignore[attr-defined]


async def test_home_and_direct_landlords_need_no_federation() -> None:
    translate = translator(landlords())
    who = caller(600)
    home = await translate.backend(
        who, Candidate("harvard", 0, "home", storage_url="http://h/v1/AUTH_p1")
    )
    assert (home.token, home.home) == ("home-token", True)
    direct = await translate.backend(
        who, Candidate("x", 5, "direct", storage_url="http://x", token="t")
    )
    assert direct.token == "t"


async def test_federations_take_turns_each_with_its_whole_timeout() -> None:
    translate = translator(landlords())
    settings = translate.settings.model_copy(update={"max_federations": 3})
    translate = Translator(translate.federation, settings)
    running, peak, release = 0, 0, asyncio.Event()

    async def token_at(home_token: str, sp: ServiceProvider) -> Remote:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await release.wait()
        running -= 1
        return Remote("t", "http://stor/v1/AUTH_s1", time.time() + 3600, "s1")

    translate.federation.token_at = token_at  # type: ignore[method-assign]
    who = caller(600)
    asks = [asyncio.create_task(translate.backend(who, Candidate(f"l{n}", n, "federated", sp=SP)))
            for n in range(10)]  # fmt: skip
    while running < 3:
        await asyncio.sleep(0)
    release.set()
    assert len({(await a).landlord for a in asks}) == 10
    assert peak == 3


async def test_a_token_reissued_from_the_same_sign_in_reuses_the_translation() -> None:
    """Horizon's novaclient trades the session's token for a new one on every page (the
    token method): same user, scope, roles, audit chain and expiry, another token."""
    fake = landlords()
    translate = translator(fake)
    first = caller(600)
    claims = first.principal.claims
    again = caller(600, "reissued", jti="a2", chain="a1", exp=claims["exp"],
                   methods=["password", "token"])  # fmt: skip
    assert again.digest != first.digest
    found = await translate.backend(first, STOR)
    assert await translate.backend(again, STOR) is found
    assert translate.reached(again, STOR)
    assert len(fake.calls) == 4  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "changes",
    [
        {"sub": "u2", "user": {"name": "bob", "domain": {"id": "default"}}},  # another user
        {"chain": "b1"},  # another sign-in of the same user (another audit chain)
        {"project": {"id": "p2"}},  # rescoped to another project
        {"roles": [{"id": "r2", "name": "admin"}]},  # other roles
        {"exp": int(time.time() + 900)},  # another expiry: not a token re-issued from it
    ],
)
async def test_another_user_scope_or_sign_in_never_reuses_a_translation(
    changes: dict[str, Any],
) -> None:
    fake = landlords()
    translate = translator(fake)
    first = caller(600)
    other = caller(600, "other", jti="a2", chain="a1", exp=first.principal.claims["exp"])
    other = caller(600, "other", **{**other.principal.claims, **changes})
    found = await translate.backend(first, STOR)
    assert await translate.backend(other, STOR) is not found
    assert len(fake.calls) == 8  # type: ignore[attr-defined]


async def test_a_forgotten_sign_in_federates_again_for_each_of_its_tokens() -> None:
    fake = landlords()
    translate = translator(fake)
    first = caller(600)
    again = caller(600, "reissued", jti="a2", chain="a1", exp=first.principal.claims["exp"])
    await translate.backend(first, STOR)
    translate.forget(again.sign_in)  # one of its tokens was refused (revoked)
    assert not translate.reached(first, STOR)
    await translate.backend(first, STOR)
    assert len(fake.calls) == 8  # type: ignore[attr-defined]
