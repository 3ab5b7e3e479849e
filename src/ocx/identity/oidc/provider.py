"""The OpenID Connect provider of one landlord: grants, codes, tokens; no HTTP in here.

What it issues:

- access token: a JWS of media type ``at+jwt`` (RFC 9068) for the client's ``audience``, the
  landlord that consumes it (which trusts this one as an IdP and checks the token against our
  JWKS). Its ``typ`` keeps it from ever passing as this landlord's own Keystone token.
- ID token: a JWS of type ``JWT`` for the client itself (``aud`` is the client_id).
- authorization codes and refresh tokens: opaque ``<sign-in id>.<secret>``, stored as SHA-256
  hashes, single use. A refresh token is rotated on every use; a code or refresh token that
  comes back after use revokes its whole sign-in (the family of everything it led to).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from sqlalchemy.ext.asyncio import AsyncSession

from ocx.common import errors, jws
from ocx.identity.federation.models import OidcClient
from ocx.identity.keys import KeyRing
from ocx.identity.oidc import claims, clients, grants, pkce
from ocx.identity.oidc.claims import Subject
from ocx.identity.oidc.errors import (
    InvalidToken,
    LoginFailed,
    OAuthError,
    Redirected,
    Replayed,
    invalid_grant,
    invalid_request,
)
from ocx.identity.oidc.models import OidcSession
from ocx.identity.passwords import Hasher
from ocx.identity.service import IdentityService

ACCESS_TTL = 3600
SCOPES = ("openid", "profile", "email")

DISCOVERY_PATH = "/.well-known/openid-configuration"
JWKS_PATH = "/.well-known/jwks.json"
AUTHORIZE_PATH = "/oidc/authorize"
TOKEN_PATH = "/oidc/token"
USERINFO_PATH = "/oidc/userinfo"


@dataclass
class Issue:
    """What a grant established, ready to become tokens."""

    client: OidcClient
    subject: Subject
    scope: list[str]
    auth_time: float | None = None  # None: no end user signed in, so no ID token
    nonce: str | None = None
    family: OidcSession | None = None  # None: no refresh token


@dataclass(frozen=True)
class AuthorizationRequest:
    client_id: str
    redirect_uri: str
    scope: list[str]
    state: str | None
    nonce: str | None
    code_challenge: str | None
    prompt: str | None


@dataclass(frozen=True)
class Login:
    user_id: str
    auth_time: float


Grant = Callable[[AsyncSession, OidcClient, Mapping[str, str]], Awaitable[Issue]]


class Provider:
    def __init__(self, svc: IdentityService):
        self.svc = svc
        self.issuer = svc.settings.issuer
        self.grants: dict[str, Grant] = {
            clients.PASSWORD: self._password,
            clients.CLIENT_CREDENTIALS: self._client_credentials,
            clients.AUTHORIZATION_CODE: self._authorization_code,
            clients.REFRESH_TOKEN: self._refresh,
        }

    # --- discovery --------------------------------------------------------------------------

    def discovery(self) -> dict[str, Any]:
        iss = self.issuer
        return {
            "issuer": iss,
            "authorization_endpoint": iss + AUTHORIZE_PATH,
            "token_endpoint": iss + TOKEN_PATH,
            "userinfo_endpoint": iss + USERINFO_PATH,
            "jwks_uri": iss + JWKS_PATH,
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": list(clients.GRANT_TYPES),
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": [jws.ALG],
            "scopes_supported": list(SCOPES),
            "claims_supported": [
                *("iss", "sub", "aud", "exp", "iat", "auth_time", "nonce"),
                *("preferred_username", "email", "domain", "groups", "projects"),
            ],
            "code_challenge_methods_supported": [pkce.S256],
            "token_endpoint_auth_methods_supported": [
                "client_secret_basic",
                "client_secret_post",
                "none",
            ],
            "authorization_response_iss_parameter_supported": True,
        }

    # --- the token endpoint -----------------------------------------------------------------

    async def token(self, auth: clients.ClientAuth, form: Mapping[str, str]) -> dict[str, Any]:
        try:
            async with self.svc.db.session() as session:
                client = await clients.authenticate(session, self.svc.hasher, auth)
                grant = self._grant_for(client, form.get("grant_type"))
                issue = await grant(session, client, form)
                refresh = self._refresh_token(session, issue)
        except Replayed as exc:
            async with self.svc.db.session() as session:
                await grants.revoke(session, exc.session_id)
            raise
        return self._response(issue, refresh)

    def _grant_for(self, client: OidcClient, grant_type: str | None) -> Grant:
        if not grant_type:
            raise invalid_request("grant_type is required.")
        grant = self.grants.get(grant_type)
        if grant is None:
            raise OAuthError("unsupported_grant_type", f"Grant type {grant_type!r} is unknown.")
        if grant_type not in client.grant_types:
            raise OAuthError("unauthorized_client", f"This client may not use {grant_type}.")
        return grant

    async def _password(
        self, session: AsyncSession, client: OidcClient, form: Mapping[str, str]
    ) -> Issue:
        username, password = _required(form, "username"), _required(form, "password")
        subject = await check_password(session, self.svc.hasher, username, password)
        if subject is None:
            raise invalid_grant("The user name or password is wrong.")
        now = time.time()
        family = None
        if clients.REFRESH_TOKEN in client.grant_types:
            family = await grants.open_session(session, client.client_id, subject.user.id, now)
        scope = parse_scope(form.get("scope"))
        return Issue(client, subject, scope, auth_time=now, family=family)

    async def _client_credentials(
        self, session: AsyncSession, client: OidcClient, form: Mapping[str, str]
    ) -> Issue:
        if clients.is_public(client) or client.service_user_id is None:
            raise OAuthError("unauthorized_client", "This client has no service user to act as.")
        subject = await claims.load_subject(session, client.service_user_id)
        if subject is None:
            raise invalid_grant("The client's service user is disabled.")
        return Issue(client, subject, parse_scope(form.get("scope")))

    async def _authorization_code(
        self, session: AsyncSession, client: OidcClient, form: Mapping[str, str]
    ) -> Issue:
        code, redirect_uri = _required(form, "code"), _required(form, "redirect_uri")
        row, family = await grants.redeem(session, grants.CODE, code, client)
        if row.redirect_uri != redirect_uri:
            raise invalid_grant("redirect_uri differs from the one the code was issued for.")
        pkce.check_verifier(row.code_challenge, form.get("code_verifier"))
        subject = await _live_subject(session, row.user_id)
        return Issue(
            client,
            subject,
            row.scope.split(),
            auth_time=family.auth_time,
            nonce=row.nonce,
            family=family,
        )

    async def _refresh(
        self, session: AsyncSession, client: OidcClient, form: Mapping[str, str]
    ) -> Issue:
        token = _required(form, "refresh_token")
        row, family = await grants.redeem(session, grants.REFRESH, token, client)
        subject = await _live_subject(session, row.user_id)
        scope = narrow_scope(row.scope.split(), form.get("scope"))
        return Issue(client, subject, scope, auth_time=family.auth_time, family=family)

    def _refresh_token(self, session: AsyncSession, issue: Issue) -> str | None:
        if issue.family is None or clients.REFRESH_TOKEN not in issue.client.grant_types:
            return None
        return grants.add_refresh_token(session, issue.family, issue.scope)

    # --- tokens -----------------------------------------------------------------------------

    @property
    def ttl(self) -> int:
        return min(ACCESS_TTL, self.svc.settings.token_ttl)

    def _response(self, issue: Issue, refresh: str | None) -> dict[str, Any]:
        # One clock reading for both tokens: read twice, a second could pass between them
        # and the ID token outlive the access token it came with.
        now = int(time.time())
        doc: dict[str, Any] = {
            "access_token": self.access_token(issue, now),
            "token_type": "Bearer",
            "expires_in": self.ttl,
            "scope": " ".join(issue.scope),
        }
        if issue.auth_time is not None and "openid" in issue.scope:
            doc["id_token"] = self.id_token(issue, now)
        if refresh is not None:
            doc["refresh_token"] = refresh
        return doc

    def access_token(self, issue: Issue, now: int) -> str:
        doc = {
            **issue.subject.claims(),
            "iss": self.issuer,
            "sub": issue.subject.user.id,
            "aud": issue.client.audience,
            "iat": now,
            "nbf": now,
            "exp": now + self.ttl,
            "jti": secrets.token_urlsafe(16),
            "client_id": issue.client.client_id,
            "scope": " ".join(issue.scope),
        }
        return self._keys().sign(doc, typ=jws.TYP_ACCESS)

    def id_token(self, issue: Issue, now: int) -> str:
        assert issue.auth_time is not None
        doc = {
            **issue.subject.claims(),
            "iss": self.issuer,
            "sub": issue.subject.user.id,
            "aud": issue.client.client_id,
            "azp": issue.client.client_id,
            "iat": now,
            "exp": now + self.ttl,
            "auth_time": int(issue.auth_time),
        }
        if issue.nonce:
            doc["nonce"] = issue.nonce
        return self._keys().sign(doc, typ=jws.TYP_ID)

    def _keys(self) -> KeyRing:
        assert self.svc.keys is not None, "the identity service is not started"
        return self.svc.keys

    # --- the authorization endpoint ---------------------------------------------------------

    async def authorization_request(self, params: Mapping[str, str]) -> AuthorizationRequest:
        """The checked request. Errors before the redirect_uri is known good are shown to the
        user (never redirected to an unregistered URI); later ones go back to the client."""
        client = await self._client(params.get("client_id"))
        redirect_uri = params.get("redirect_uri")
        if not redirect_uri or redirect_uri not in client.redirect_uris:
            raise invalid_request("redirect_uri is missing or not registered for this client.")
        try:
            return _check_authorization(client, redirect_uri, params)
        except OAuthError as exc:
            raise self.redirect_error(
                redirect_uri, params.get("state"), exc.error, exc.description
            ) from None

    def redirect_error(
        self, redirect_uri: str, state: str | None, error: str, description: str
    ) -> Redirected:
        params = {"error": error, "error_description": description, "state": state}
        location = with_query(redirect_uri, {**params, "iss": self.issuer})
        return Redirected(error, description, location)

    async def _client(self, client_id: str | None) -> OidcClient:
        async with self.svc.db.session() as session:
            client = await session.get(OidcClient, client_id) if client_id else None
        if client is None:
            raise invalid_request("client_id is missing or unknown.")
        return client

    async def login_with_password(self, username: str, password: str) -> Login:
        async with self.svc.db.session() as session:
            subject = await check_password(session, self.svc.hasher, username, password)
        if subject is None:
            raise LoginFailed()
        return Login(subject.user.id, time.time())

    async def login_with_token(self, token: str) -> Login:
        try:
            who = await self.svc.verify(token)
        except errors.Unauthorized as exc:
            raise LoginFailed(f"The X-Auth-Token is refused: {exc.message}") from None
        if who.app_cred_id is not None or "OS-OAUTH1" in who.claims:
            # An application credential or an OAuth1 access token is a narrow delegation; an
            # OIDC sign-in is the whole user.
            raise LoginFailed("A token from a delegation cannot sign in here.")
        async with self.svc.db.session() as session:
            subject = await claims.load_subject(session, who.user_id)
        if subject is None:
            raise LoginFailed("The user is disabled.")
        return Login(who.user_id, who.issued_at)

    async def issue_code(self, req: AuthorizationRequest, login: Login) -> str:
        """Where to send the user agent: the redirect_uri with a fresh code and the state."""
        async with self.svc.db.session() as session:
            family = await grants.open_session(
                session, req.client_id, login.user_id, login.auth_time
            )
            code = grants.add_code(
                session,
                family,
                scope=req.scope,
                redirect_uri=req.redirect_uri,
                code_challenge=req.code_challenge,
                nonce=req.nonce,
            )
        return with_query(req.redirect_uri, {"code": code, "state": req.state, "iss": self.issuer})

    # --- userinfo ---------------------------------------------------------------------------

    async def userinfo(self, token: str) -> dict[str, Any]:
        found = self.verify_access_token(token)
        async with self.svc.db.session() as session:
            subject = await claims.load_subject(session, str(found.get("sub")))
        if subject is None:
            raise InvalidToken("The user is disabled or no longer exists.")
        return {"sub": subject.user.id, **subject.claims()}

    def verify_access_token(self, token: str) -> dict[str, Any]:
        """Claims of one of our access tokens: signature, ``typ``, issuer, validity period.

        The key ring holds the staged key too, so a token another process signed after a
        rotation still verifies here without reloading.
        """
        try:
            found = jws.verify(jws.split(token), self._keys().public, typ=jws.TYP_ACCESS)
        except jws.JWSError as exc:
            raise InvalidToken(f"The access token is not valid: {exc}.") from None
        now = time.time()
        exp, nbf = found.get("exp"), found.get("nbf", 0)
        if found.get("iss") != self.issuer:
            raise InvalidToken("The access token was issued by another provider.")
        if not isinstance(exp, int | float) or exp <= now:
            raise InvalidToken("The access token has expired.")
        if not isinstance(nbf, int | float) or nbf > now + 60:
            raise InvalidToken("The access token is not valid yet.")
        return found


# --- helpers, pure or on one session ----------------------------------------------------------


def _check_authorization(
    client: OidcClient, redirect_uri: str, params: Mapping[str, str]
) -> AuthorizationRequest:
    if params.get("response_type") != "code":
        raise OAuthError("unsupported_response_type", "Only response_type=code is supported.")
    if clients.AUTHORIZATION_CODE not in client.grant_types:
        raise OAuthError("unauthorized_client", "This client may not use authorization_code.")
    nonce = params.get("nonce")
    if nonce is not None and len(nonce) > 512:
        raise invalid_request("nonce is longer than 512 characters.")
    challenge = pkce.check_challenge(
        params.get("code_challenge"),
        params.get("code_challenge_method"),
        required=clients.is_public(client),
    )
    return AuthorizationRequest(
        client_id=client.client_id,
        redirect_uri=redirect_uri,
        scope=parse_scope(params.get("scope")),
        state=params.get("state"),
        nonce=nonce,
        code_challenge=challenge,
        prompt=params.get("prompt"),
    )


def parse_scope(requested: str | None) -> list[str]:
    """The scopes granted: the supported ones among those asked for (``openid`` if none)."""
    if requested is None:
        return ["openid"]
    granted = [s for s in dict.fromkeys(requested.split()) if s in SCOPES]
    if not granted:
        raise OAuthError("invalid_scope", f"Supported scopes: {' '.join(SCOPES)}.")
    return granted


def narrow_scope(original: list[str], requested: str | None) -> list[str]:
    """A refresh may keep or narrow the scope of the sign-in, never widen it (RFC 6749 §6)."""
    if requested is None:
        return original
    wanted = list(dict.fromkeys(requested.split()))
    if not wanted or any(s not in original for s in wanted):
        raise OAuthError("invalid_scope", "A refresh may only narrow the scope of the sign-in.")
    return wanted


def with_query(uri: str, params: Mapping[str, str | None]) -> str:
    """``uri`` with ``params`` appended to whatever query it already has."""
    parts = urlsplit(uri)
    extra = urlencode({k: v for k, v in params.items() if v is not None})
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit(parts._replace(query=query))


def _required(form: Mapping[str, str], name: str) -> str:
    value = form.get(name)
    if not value:
        raise invalid_request(f"{name} is required.")
    return value


async def check_password(
    session: AsyncSession, hasher: Hasher, username: str, password: str
) -> Subject | None:
    """The enabled user ``username`` names, if ``password`` is theirs."""
    user = await claims.find_user(session, username)
    if user is None or not await hasher.verify(user.password_hash, password):
        return None
    return await claims.load_subject(session, user.id)


async def _live_subject(session: AsyncSession, user_id: str) -> Subject:
    subject = await claims.load_subject(session, user_id)
    if subject is None:
        raise invalid_grant("The user is disabled or no longer exists.")
    return subject
