"""The OIDC provider's pure pieces, without a server: PKCE, scopes, redirects, client auth."""

from __future__ import annotations

import base64

import pytest

from ocx.identity.oidc import clients, pkce
from ocx.identity.oidc.errors import InvalidClient, OAuthError
from ocx.identity.oidc.provider import narrow_scope, parse_scope, with_query

# The example of RFC 7636, appendix B.
VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_s256_matches_rfc_7636() -> None:
    assert pkce.challenge_of(VERIFIER) == CHALLENGE
    pkce.check_verifier(CHALLENGE, VERIFIER)
    assert pkce.check_challenge(CHALLENGE, "S256", required=True) == CHALLENGE
    assert pkce.check_challenge(None, None, required=False) is None


@pytest.mark.parametrize(
    ("challenge", "method", "required"),
    [
        (None, None, True),
        (None, "S256", False),
        (CHALLENGE, "plain", False),
        ("short", "S256", False),
    ],
)
def test_unusable_challenges(challenge: str | None, method: str | None, required: bool) -> None:
    with pytest.raises(OAuthError) as caught:
        pkce.check_challenge(challenge, method, required=required)
    assert caught.value.error == "invalid_request"


@pytest.mark.parametrize(
    ("challenge", "verifier"),
    [(CHALLENGE, None), (CHALLENGE, "x" * 42), (CHALLENGE, VERIFIER[:-1] + "a"), (None, VERIFIER)],
)
def test_wrong_verifiers(challenge: str | None, verifier: str | None) -> None:
    with pytest.raises(OAuthError) as caught:
        pkce.check_verifier(challenge, verifier)
    assert caught.value.error == "invalid_grant"


def test_scopes() -> None:
    assert parse_scope(None) == ["openid"]
    assert parse_scope("openid  profile openid offline_access") == ["openid", "profile"]
    assert narrow_scope(["openid", "email"], None) == ["openid", "email"]
    assert narrow_scope(["openid", "email"], "email") == ["email"]
    for bad in ("", "admin"):
        with pytest.raises(OAuthError):
            parse_scope(bad)
    with pytest.raises(OAuthError):
        narrow_scope(["openid"], "openid email")


def test_with_query_keeps_the_registered_query() -> None:
    assert with_query("https://a.example/cb", {"code": "c d", "state": None}) == (
        "https://a.example/cb?code=c+d"
    )
    assert with_query("https://a.example/cb?tenant=1", {"code": "x"}) == (
        "https://a.example/cb?tenant=1&code=x"
    )


def basic(user: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()


def test_client_credentials_from_basic_or_form() -> None:
    form = {"grant_type": "password", "client_id": "app"}
    auth = clients.credentials(basic("app", "s3:cret"), form)
    assert auth == clients.ClientAuth("app", "s3:cret", basic=True)
    assert "client_id" not in form
    posted = clients.credentials(None, {"client_id": "app", "client_secret": "s"})
    assert posted == clients.ClientAuth("app", "s", basic=False)
    public = clients.credentials(None, {"client_id": "cli"})
    assert public == clients.ClientAuth("cli", None, basic=False)


@pytest.mark.parametrize(
    ("authorization", "form", "error"),
    [
        (None, {}, "invalid_client"),
        ("Bearer x", {}, "invalid_client"),
        ("Basic !!!", {}, "invalid_client"),
        ("Basic " + base64.b64encode(b"nocolon").decode(), {}, "invalid_client"),
        (basic("app", "s"), {"client_secret": "s"}, "invalid_request"),
        (basic("app", "s"), {"client_id": "other"}, "invalid_request"),
    ],
)
def test_bad_client_credentials(
    authorization: str | None, form: dict[str, str], error: str
) -> None:
    with pytest.raises(OAuthError) as caught:
        clients.credentials(authorization, dict(form))
    assert caught.value.error == error
    if isinstance(caught.value, InvalidClient) and authorization:
        assert caught.value.headers["WWW-Authenticate"].startswith("Basic")
