"""OIDC clients: what the landlord's admins register, and how a client proves who it is.

A confidential client has a secret (generated, shown once, stored as an Argon2id hash); a
public client (a CLI, a single-page app) has none and must use PKCE. Client ids are limited to
URL-unreserved characters, and generated secrets are URL-safe, so the form-encoding RFC 6749
§2.3.1 asks for inside HTTP Basic changes nothing whether a client applies it or not.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
import time
import uuid
from dataclasses import dataclass
from urllib.parse import unquote_plus, urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from ocx.common import errors
from ocx.common.auth import Principal
from ocx.identity import store
from ocx.identity.federation.models import OidcClient
from ocx.identity.models import User
from ocx.identity.oidc.errors import InvalidClient, invalid_request
from ocx.identity.passwords import Hasher
from ocx.identity.service import IdentityService

AUTHORIZATION_CODE = "authorization_code"
PASSWORD = "password"
CLIENT_CREDENTIALS = "client_credentials"
REFRESH_TOKEN = "refresh_token"
GRANT_TYPES = (AUTHORIZATION_CODE, PASSWORD, CLIENT_CREDENTIALS, REFRESH_TOKEN)
CLIENT_ID = re.compile(r"[A-Za-z0-9._~-]{1,255}")


@dataclass(frozen=True)
class ClientSpec:
    """A client as an admin asks for it."""

    name: str
    grant_types: list[str]
    audience: str
    redirect_uris: list[str]
    public: bool = False
    client_id: str | None = None
    service_user_id: str | None = None


@dataclass(frozen=True)
class ClientAuth:
    """The credentials a token request carries: HTTP Basic, or client_id (+ secret) in the form."""

    client_id: str
    secret: str | None
    basic: bool


def is_public(client: OidcClient) -> bool:
    return client.secret_hash is None


def check(spec: ClientSpec) -> None:
    """Refuse a spec that could never work or would be unsafe (Keystone 400)."""
    if spec.client_id is not None and not CLIENT_ID.fullmatch(spec.client_id):
        raise errors.ValidationError("client_id may hold only letters, digits and . _ ~ -.")
    unknown = sorted(set(spec.grant_types) - set(GRANT_TYPES))
    if unknown or not spec.grant_types:
        raise errors.ValidationError(f"grant_types must be some of {', '.join(GRANT_TYPES)}.")
    if spec.public and CLIENT_CREDENTIALS in spec.grant_types:
        raise errors.ValidationError("A public client has no secret, so no client_credentials.")
    if AUTHORIZATION_CODE in spec.grant_types and not spec.redirect_uris:
        raise errors.ValidationError("authorization_code needs at least one redirect_uri.")
    for uri in spec.redirect_uris:
        check_redirect_uri(uri)


def check_redirect_uri(uri: str) -> None:
    """An absolute http(s) URI without fragment (RFC 6749 §3.1.2); matched exactly later."""
    parts = urlsplit(uri)
    if parts.scheme not in ("http", "https") or not parts.hostname or "#" in uri:
        raise errors.ValidationError(f"redirect_uri {uri!r} must be an absolute http(s) URI.")


def new_secret(spec: ClientSpec) -> str | None:
    return None if spec.public else secrets.token_urlsafe(32)


async def register(
    svc: IdentityService, who: Principal, spec: ClientSpec
) -> tuple[OidcClient, str | None]:
    """A new client (landlord admins only), and its secret: shown this once, only its hash
    is kept."""
    svc.policy.require_admin(who, "identity:create_oidc_client")
    check(spec)
    secret = new_secret(spec)
    hashed = await svc.hasher.hash(secret) if secret else None
    async with svc.db.session() as session:
        if spec.service_user_id is not None:
            await store.get(session, User, spec.service_user_id, "user")
        row = OidcClient(
            client_id=spec.client_id or uuid.uuid4().hex,
            secret_hash=hashed,
            name=spec.name,
            redirect_uris=list(spec.redirect_uris),
            grant_types=list(dict.fromkeys(spec.grant_types)),
            audience=spec.audience,
            service_user_id=spec.service_user_id,
            created_at=time.time(),
        )
        await store.add_unique(session, row, f"OIDC client {row.client_id}")
    return row, secret


async def listed(svc: IdentityService, who: Principal) -> list[OidcClient]:
    svc.policy.require_admin(who, "identity:list_oidc_clients")
    return await store.every(svc.db, OidcClient, OidcClient.client_id)


async def get(svc: IdentityService, who: Principal, client_id: str) -> OidcClient:
    svc.policy.require_admin(who, "identity:get_oidc_client")
    return await store.fetch(svc.db, OidcClient, client_id, "OIDC client")


async def delete(svc: IdentityService, who: Principal, client_id: str) -> None:
    svc.policy.require_admin(who, "identity:delete_oidc_client")
    async with svc.db.session() as session:
        # Its codes, refresh tokens and sign-ins go with it (ON DELETE CASCADE).
        await session.delete(await store.get(session, OidcClient, client_id, "OIDC client"))


def credentials(authorization: str | None, form: dict[str, str]) -> ClientAuth:
    """Who the client says it is; takes ``client_id``/``client_secret`` out of ``form``."""
    form_id, form_secret = form.pop("client_id", None), form.pop("client_secret", None)
    if not authorization:
        if not form_id:
            raise InvalidClient("Client authentication failed: no client_id.")
        return ClientAuth(form_id, form_secret, basic=False)
    client_id, secret = _basic(authorization)
    if form_secret is not None:
        raise invalid_request("Use one client authentication method, not two.")
    if form_id is not None and form_id != client_id:
        raise invalid_request("client_id differs from the one in the Authorization header.")
    return ClientAuth(client_id, secret, basic=True)


def _basic(authorization: str) -> tuple[str, str]:
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() != "basic":
        raise InvalidClient("Only HTTP Basic client authentication is accepted.", basic=True)
    try:
        decoded = _b64decode(value.strip())
    except ValueError:
        raise InvalidClient("The Basic credentials are malformed.", basic=True) from None
    client_id, colon, secret = decoded.partition(":")
    if not colon or not client_id:
        raise InvalidClient("The Basic credentials are malformed.", basic=True)
    return unquote_plus(client_id), unquote_plus(secret)


def _b64decode(value: str) -> str:
    try:
        return base64.b64decode(value, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise ValueError("not base64") from exc


async def authenticate(session: AsyncSession, hasher: Hasher, auth: ClientAuth) -> OidcClient:
    """The client, if its credentials hold; otherwise 401 invalid_client."""
    client = await session.get(OidcClient, auth.client_id)
    if client is None:
        raise InvalidClient(basic=auth.basic)
    if is_public(client):
        if auth.secret:
            raise InvalidClient("A public client has no secret.", basic=auth.basic)
        return client
    if not auth.secret or not await hasher.verify(client.secret_hash, auth.secret):
        raise InvalidClient(basic=auth.basic)
    return client
