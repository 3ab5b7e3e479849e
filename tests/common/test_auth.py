"""The token verifier every service uses, without a network: forged, foreign, stale tokens."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ocx.common import errors, jws
from ocx.common.auth import TokenVerifier

ISSUER = "http://harvard.example"


class FakeIdentity:
    """What a landlord's identity publishes: a JWKS and revocation events."""

    def __init__(self) -> None:
        self.key = Ed25519PrivateKey.generate()
        self.kid = "k1"
        self.published = {self.kid: self.key}
        self.events: list[dict[str, Any]] = []
        self.fetches = 0

    async def fetch(self, path: str) -> dict[str, Any]:
        self.fetches += 1
        if path.endswith("jwks.json"):
            return {
                "keys": [jws.public_jwk(k.public_key(), kid) for kid, k in self.published.items()]
            }
        return {"events": self.events}

    def token(self, **changes: Any) -> str:
        now = time.time()
        claims = {
            "iss": ISSUER,
            "aud": "harvard",
            "sub": "u1",
            "iat": now,
            "exp": now + 600,
            "jti": "audit1",
            "methods": ["password"],
            "user": {"name": "alice", "domain": {"id": "default", "name": "Default"}},
            "project": {"id": "p1", "name": "p", "domain": {"id": "default", "name": "Default"}},
            "roles": [{"id": "r1", "name": "member"}],
        }
        claims.update(changes)
        return jws.sign(claims, self.key, self.kid)


@pytest.fixture
def idp() -> FakeIdentity:
    return FakeIdentity()


@pytest.fixture
def verifier(idp: FakeIdentity) -> TokenVerifier:
    return TokenVerifier(
        identity_url=ISSUER,
        issuer=ISSUER,
        audience="harvard",
        fetch_json=idp.fetch,
        revocation_interval=0.0,
    )


async def refused(verifier: TokenVerifier, token: str | None) -> str:
    with pytest.raises(errors.Unauthorized) as caught:
        await verifier.verify(token)
    return caught.value.message


async def test_good_token_gives_a_typed_principal(
    verifier: TokenVerifier, idp: FakeIdentity
) -> None:
    p = await verifier.verify(idp.token())
    assert (p.user_id, p.project_id, p.roles, p.user_domain_id) == (
        "u1",
        "p1",
        ("member",),
        "default",
    )


async def test_missing_token(verifier: TokenVerifier) -> None:
    assert await refused(verifier, None) == "The request you have made requires authentication."


async def test_forged_signature(verifier: TokenVerifier, idp: FakeIdentity) -> None:
    header, payload, _sig = idp.token().split(".")
    claims = json.loads(jws.b64url_decode(payload))
    claims["roles"] = [{"id": "r0", "name": "admin"}]
    forged = f"{header}.{jws.b64url(json.dumps(claims).encode())}.{_sig}"
    assert await refused(verifier, forged) == "The token is not valid: token signature is invalid."


async def test_signed_by_a_key_the_landlord_never_published(
    verifier: TokenVerifier, idp: FakeIdentity
) -> None:
    rogue = jws.sign({"sub": "u1"}, Ed25519PrivateKey.generate(), idp.kid)
    assert await refused(verifier, rogue) == "The token is not valid: token signature is invalid."
    unknown = jws.sign({"sub": "u1"}, Ed25519PrivateKey.generate(), "k-unknown")
    assert await refused(verifier, unknown) == (
        "The token is not valid: token is signed with an unknown key."
    )


async def test_alg_none_and_hs256_confusion(verifier: TokenVerifier, idp: FakeIdentity) -> None:
    _h, payload, _s = idp.token().split(".")
    none = jws.b64url(json.dumps({"alg": "none", "kid": idp.kid}).encode())
    assert await refused(verifier, f"{none}.{payload}.") == (
        "The token is not valid: algorithm 'none' is not accepted."
    )
    hs = jws.b64url(json.dumps({"alg": "HS256", "kid": idp.kid}).encode())
    assert await refused(verifier, f"{hs}.{payload}.AAAA") == (
        "The token is not valid: algorithm 'HS256' is not accepted."
    )


async def test_garbage(verifier: TokenVerifier) -> None:
    assert await refused(verifier, "not-a-token") == (
        "The token is not valid: token is not a compact JWS."
    )
    assert await refused(verifier, "a" * 20000) == "The token is not valid: token is too large."


async def test_audience_is_this_landlord_only(verifier: TokenVerifier, idp: FakeIdentity) -> None:
    assert await refused(verifier, idp.token(aud="mit")) == (
        "The token is for another landlord, not 'harvard'."
    )


async def test_issuer_must_match(verifier: TokenVerifier, idp: FakeIdentity) -> None:
    assert await refused(verifier, idp.token(iss="http://evil")) == (
        "The token was issued by another identity service."
    )


async def test_expired(verifier: TokenVerifier, idp: FakeIdentity) -> None:
    assert await refused(verifier, idp.token(exp=time.time() - 1)) == "The token has expired."


async def test_revocation_by_audit_id_and_by_user(
    verifier: TokenVerifier, idp: FakeIdentity
) -> None:
    token = idp.token()
    await verifier.verify(token)
    later = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime(time.time() + 1))
    idp.events = [{"audit_id": "audit1", "issued_before": later}]
    assert await refused(verifier, token) == "The token has been revoked."
    idp.events = [{"user_id": "u1", "project_id": "p1", "issued_before": later}]
    assert await refused(verifier, token) == "The token has been revoked."
    idp.events = [{"user_id": "u1", "project_id": "other", "issued_before": later}]
    await verifier.verify(token)


async def test_domain_revocation_reaches_the_users_own_domain(
    verifier: TokenVerifier, idp: FakeIdentity
) -> None:
    """Issue #17 S3: a user of domain D scoped to another domain's project is D's too."""
    user = {"name": "oz", "domain": {"id": "d-out", "name": "outsiders"}}
    token = idp.token(user=user)
    later = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime(time.time() + 1))
    idp.events = [{"domain_id": "elsewhere", "issued_before": later}]
    await verifier.verify(token)
    idp.events = [{"domain_id": "d-out", "issued_before": later}]
    assert await refused(verifier, token) == "The token has been revoked."
    idp.events = [{"domain_id": "default", "issued_before": later}]  # the project's domain
    assert await refused(verifier, token) == "The token has been revoked."


async def test_tokens_issued_after_a_revocation_still_work(
    verifier: TokenVerifier, idp: FakeIdentity
) -> None:
    earlier = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime(time.time() - 5))
    idp.events = [{"user_id": "u1", "issued_before": earlier}]
    await verifier.verify(idp.token())


async def test_key_rotation_keeps_old_tokens_valid(
    verifier: TokenVerifier, idp: FakeIdentity
) -> None:
    old = idp.token()
    await verifier.verify(old)
    idp.key, idp.kid = Ed25519PrivateKey.generate(), "k2"
    idp.published["k2"] = idp.key
    verifier._jwks_refetch_interval = 0.0
    await verifier.verify(idp.token())
    await verifier.verify(old)


async def test_unknown_kids_do_not_hammer_identity(
    verifier: TokenVerifier, idp: FakeIdentity
) -> None:
    await verifier.verify(idp.token())
    before = idp.fetches
    for n in range(20):
        token = jws.sign({"sub": "x"}, Ed25519PrivateKey.generate(), f"nope{n}")
        await refused(verifier, token)
    jwks_fetches = idp.fetches - before
    assert jwks_fetches <= 1


async def test_an_oidc_access_token_is_not_a_landlord_token(
    verifier: TokenVerifier, idp: FakeIdentity
) -> None:
    now = time.time()
    claims = {"iss": ISSUER, "aud": "harvard", "sub": "u1", "iat": now, "exp": now + 60}
    access = jws.sign(claims, idp.key, idp.kid, typ=jws.TYP_ACCESS)
    assert await refused(verifier, access) == (
        "The token is not valid: a 'at+jwt' token is not accepted here."
    )


async def test_a_token_is_checked_once_while_its_check_is_fresh(
    verifier: TokenVerifier, idp: FakeIdentity, monkeypatch: pytest.MonkeyPatch
) -> None:
    """#17: every request paid an Ed25519 check for the same token; revocation and expiry
    are still checked on every request."""
    checks = 0
    real = jws.verify

    def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal checks
        checks += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(jws, "verify", counted)
    token = idp.token()
    for _ in range(5):
        await verifier.verify(token)
    assert checks == 1
    later = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime(time.time() + 1))
    idp.events = [{"audit_id": "audit1", "issued_before": later}]
    assert await refused(verifier, token) == "The token has been revoked."
    idp.events = []
    short = idp.token(exp=int(time.time()) + 1)
    await verifier.verify(short)
    await asyncio.sleep(1.5)
    assert await refused(verifier, short) == "The token has expired."


async def test_a_forgery_of_a_known_token_is_refused(
    verifier: TokenVerifier, idp: FakeIdentity
) -> None:
    """Verified tokens are remembered by their whole text: another signature is checked."""
    token = idp.token()
    await verifier.verify(token)
    header, payload, signature = token.split(".")
    other = "B" if signature[0] != "B" else "C"  # the first byte of the signature changes
    forged = f"{header}.{payload}.{other}{signature[1:]}"
    assert forged != token
    assert (await refused(verifier, forged)).startswith("The token is not valid")


class SlowIdentity(FakeIdentity):
    """An identity whose revocation list is fetched only when the test lets it."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.gate.set()
        self.asked = asyncio.Event()
        self.lists_asked = 0

    async def fetch(self, path: str) -> dict[str, Any]:
        if "REVOKE" in path:
            self.lists_asked += 1
            self.asked.set()
            await self.gate.wait()
        return await super().fetch(path)


def due_verifier(idp: FakeIdentity, max_stale: float) -> TokenVerifier:
    return TokenVerifier(
        identity_url=ISSUER,
        issuer=ISSUER,
        audience="harvard",
        fetch_json=idp.fetch,
        revocation_interval=1e-6,  # due again at once: no test waits for time to pass
        revocation_max_stale=max_stale,
    )


def revoke_all(idp: FakeIdentity) -> None:
    later = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime(time.time() + 1))
    idp.events = [{"audit_id": "audit1", "issued_before": later}]


async def test_a_due_revocation_list_is_refetched_while_requests_go_on() -> None:
    """#17 load: every request that came while the list was being refetched waited for the
    fetch, through an identity as busy as the service; under 300 clients every service of
    the landlord stalled for up to seconds every interval. The list in hand is used meanwhile,
    and a revocation takes effect once the fetch is in."""
    idp = SlowIdentity()
    verifier = due_verifier(idp, max_stale=60.0)
    token = idp.token()
    await verifier.verify(token)  # the first list: fetched before anything is allowed
    idp.gate.clear()
    idp.asked.clear()
    revoke_all(idp)
    principal = await asyncio.wait_for(verifier.verify(token), 10)  # did not wait for identity
    assert principal.user_id == "u1"
    await asyncio.wait_for(idp.asked.wait(), 10)  # and the list is being fetched meanwhile
    again = await asyncio.wait_for(verifier.verify(token), 10)  # one fetch for everyone
    assert again.user_id == "u1"
    assert idp.lists_asked == 2  # the first list, and one fetch under way for both requests
    idp.gate.set()
    refetch = verifier._refreshing
    assert refetch is not None
    await refetch
    assert await refused(verifier, token) == "The token has been revoked."
    await verifier.aclose()


async def test_a_revocation_list_past_max_stale_is_waited_for() -> None:
    idp = SlowIdentity()
    verifier = due_verifier(idp, max_stale=1e-6)
    token = idp.token()
    await verifier.verify(token)
    idp.gate.clear()
    idp.asked.clear()
    revoke_all(idp)
    waiting = asyncio.create_task(verifier.verify(token))
    await asyncio.wait_for(idp.asked.wait(), 10)
    assert not waiting.done()  # it waits for the list: a stale one is not good enough
    idp.gate.set()
    with pytest.raises(errors.Unauthorized, match="revoked"):
        await waiting
