"""Delegation to a third party by OAuth 1.0a (Keystone's OS-OAUTH1), without HTTP.

The flow, as in Keystone:

1. A landlord administrator registers a *consumer*; its secret is shown once, at creation
   (it is kept encrypted, as HMAC-SHA1 signatures need the secret itself).
2. The consumer asks for a *request token* for one project (a request signed with its key).
3. A user holding roles on that project *authorises* the request token with some of those
   roles, with their own token, and hands the consumer the verifier.
4. The consumer exchanges the request token and verifier for an *access token* (signed with
   both secrets). The request token is spent.
5. With the access token the consumer authenticates (``oauth1`` method of
   ``POST /v3/auth/tokens``) and gets an identity token for the authorising user, scoped to
   that project, with the authorised roles the user still holds, and no others.

Signatures, timestamps and nonces are checked by ``oauthlib``; this module gives it what the
database knows (``_Validator`` is a snapshot: oauthlib's validator is synchronous) and records
what it decided. A nonce may be used once per consumer, timestamp and token.

What ends a delegation: the user deletes the access token, an administrator deletes the
consumer, the user or project goes away (their rows cascade), or the user loses the roles
(new tokens carry only roles still held, none at all is a 401, and the grant's removal
already revoked the tokens made before). Tokens made from an access token share its audit
chain, so revoking one chain ends them all. A token from OAuth1 cannot be rescoped, nor used
to authorise, list or delete delegations, to make application credentials, to get a K2K
assertion or to sign in at the OIDC provider: it is what a third party holds, and must not
reach beyond what the user gave it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from oauthlib.common import generate_token, safe_string_equals
from oauthlib.oauth1 import (
    SIGNATURE_HMAC,
    AccessTokenEndpoint,
    RequestTokenEndpoint,
    RequestValidator,
    ResourceEndpoint,
)
from oauthlib.oauth1.rfc5849.utils import parse_authorization_header
from pydantic import BaseModel, ConfigDict
from sqlalchemy import delete as sql_delete
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ocx.common import errors
from ocx.common.auth import Principal
from ocx.identity import assignments, revocation, store
from ocx.identity.assignments import Target
from ocx.identity.credential_keys import seal, unseal
from ocx.identity.models import (
    OAuthAccessToken,
    OAuthConsumer,
    OAuthNonce,
    OAuthRequestToken,
    Project,
    Role,
    User,
)
from ocx.identity.service import IdentityService

REQUEST_TOKEN_TTL = timedelta(hours=8)  # Keystone's request_token_duration
ACCESS_TOKEN_TTL = timedelta(hours=24)  # Keystone's access_token_duration
CLAIM = "OS-OAUTH1"
UNAUTHORIZED = "The request you have made requires authentication."


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def isotime(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def delegated(who: Principal) -> bool:
    """Whether the caller's token was made from an OAuth1 access token."""
    return CLAIM in who.claims


def refuse_delegated(who: Principal, what: str) -> None:
    if delegated(who):
        raise errors.Forbidden(f"Cannot {what} with a token issued via OAuth1 delegation.")


# --- consumers ---------------------------------------------------------------------------


class ConsumerIn(BaseModel):
    model_config = ConfigDict(extra="allow")
    description: str | None = None


class ConsumerPatch(BaseModel):
    model_config = ConfigDict(extra="allow")
    description: str | None = None


def _extras(body: BaseModel, row_id: str | None = None) -> dict[str, Any]:
    found = dict(body.model_extra or {})
    if "secret" in found:
        raise errors.ValidationError("A consumer's secret cannot be set.")
    given = found.pop("id", None)
    if given is not None and given != row_id:
        raise errors.ValidationError("Cannot change the ID of a resource.")
    return found


async def create_consumer(
    svc: IdentityService, who: Principal, given: ConsumerIn
) -> tuple[OAuthConsumer, str]:
    """A new consumer and its secret (the only time the secret is shown)."""
    svc.policy.require_admin(who, "identity:create_consumer")
    secret = generate_token(32)
    row = OAuthConsumer(
        id=uuid.uuid4().hex,
        secret=seal(svc.credential_cipher, secret),
        description=given.description or "",
        extra=_extras(given),
    )
    async with svc.db.session() as session:
        await store.add_unique(session, row, f"consumer {row.id}")
    return row, secret


async def list_consumers(svc: IdentityService, who: Principal) -> list[OAuthConsumer]:
    svc.policy.require_reader(who, "identity:list_consumers")
    return await store.every(svc.db, OAuthConsumer, OAuthConsumer.id)


async def get_consumer(svc: IdentityService, who: Principal, consumer_id: str) -> OAuthConsumer:
    svc.policy.require_reader(who, "identity:get_consumer")
    return await store.fetch(svc.db, OAuthConsumer, consumer_id, "consumer")


async def update_consumer(
    svc: IdentityService, who: Principal, consumer_id: str, patch: ConsumerPatch
) -> OAuthConsumer:
    svc.policy.require_admin(who, "identity:update_consumer")
    async with svc.db.session() as session:
        row = await store.get(session, OAuthConsumer, consumer_id, "consumer")
        if patch.description is not None:
            row.description = patch.description
        row.extra = {**row.extra, **_extras(patch, consumer_id)}
        return row


async def delete_consumer(svc: IdentityService, who: Principal, consumer_id: str) -> None:
    """The consumer, its request and access tokens, and every identity token made from them."""
    svc.policy.require_admin(who, "identity:delete_consumer")
    async with svc.db.session() as session:
        row = await store.get(session, OAuthConsumer, consumer_id, "consumer")
        chains = await session.scalars(
            select(OAuthAccessToken.audit_chain_id).filter_by(consumer_id=consumer_id)
        )
        for chain in list(chains):
            await revocation.oauth_access_token(session, chain)
        await session.execute(sql_delete(OAuthAccessToken).filter_by(consumer_id=consumer_id))
        await session.execute(sql_delete(OAuthRequestToken).filter_by(consumer_id=consumer_id))
        await session.delete(row)
    svc.revoked_something()


# --- the signed steps --------------------------------------------------------------------


@dataclass
class Signed:
    """A request as the consumer signed it: the URL it used, method, headers and body."""

    uri: str
    method: str
    headers: Mapping[str, str]
    body: bytes = b""

    def oauth_params(self) -> dict[str, str]:
        header = next((v for k, v in self.headers.items() if k.lower() == "authorization"), "")
        if not header.lower().startswith("oauth "):
            raise errors.Unauthorized("An OAuth1 signed Authorization header is required.")
        try:
            return dict(parse_authorization_header(header))
        except ValueError as exc:
            raise errors.Unauthorized("The OAuth1 Authorization header is malformed.") from exc

    def for_oauthlib(self) -> dict[str, Any]:
        return {
            "uri": self.uri,
            "http_method": self.method,
            "body": self.body.decode("utf-8", "replace") or None,
            "headers": dict(self.headers),
        }


@dataclass
class _Validator(RequestValidator):
    """What oauthlib asks, answered from rows loaded before it runs (it cannot await)."""

    consumer_id: str
    consumer_secret: str | None
    token_id: str = ""
    token_secret: str | None = None
    token_ok: bool = False
    verifier: str | None = None
    seen: bool = False
    ssl: bool = False
    nonce: tuple[str, int] | None = None
    saved: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__()

    allowed_signature_methods = (SIGNATURE_HMAC,)
    client_key_length = request_token_length = access_token_length = (20, 64)
    nonce_length = (16, 64)
    verifier_length = (16, 64)

    @property
    def enforce_ssl(self) -> bool:
        return self.ssl

    @property
    def dummy_client(self) -> str:
        return "0" * 32

    @property
    def dummy_request_token(self) -> str:
        return "0" * 30

    @property
    def dummy_access_token(self) -> str:
        return "0" * 30

    def validate_client_key(self, client_key: str, request: Any) -> bool:
        return client_key == self.consumer_id and self.consumer_secret is not None

    def get_client_secret(self, client_key: str, request: Any) -> str:
        if client_key == self.consumer_id and self.consumer_secret is not None:
            return self.consumer_secret
        return "dummy"

    def _token_secret(self, token: str) -> str:
        if token == self.token_id and self.token_secret is not None:
            return self.token_secret
        return "dummy"

    def get_request_token_secret(self, client_key: str, token: str, request: Any) -> str:
        return self._token_secret(token)

    def get_access_token_secret(self, client_key: str, token: str, request: Any) -> str:
        return self._token_secret(token)

    def validate_request_token(self, client_key: str, token: str, request: Any) -> bool:
        return token == self.token_id and self.token_ok

    def validate_access_token(self, client_key: str, token: str, request: Any) -> bool:
        return token == self.token_id and self.token_ok

    def validate_verifier(self, client_key: str, token: str, verifier: str, request: Any) -> bool:
        return self.verifier is not None and safe_string_equals(verifier, self.verifier)

    def validate_timestamp_and_nonce(
        self,
        client_key: str,
        timestamp: str,
        nonce: str,
        request: Any,
        request_token: str | None = None,
        access_token: str | None = None,
    ) -> bool:
        self.nonce = (nonce, int(timestamp))
        return not self.seen

    def validate_redirect_uri(self, client_key: str, redirect_uri: str, request: Any) -> bool:
        return redirect_uri == "oob"  # Keystone's flow is out of band only

    def get_default_realms(self, client_key: str, request: Any) -> list[str]:
        return []

    def validate_requested_realms(self, client_key: str, realms: Any, request: Any) -> bool:
        return True

    def validate_realms(
        self, client_key: str, token: str, request: Any, uri: Any = None, realms: Any = None
    ) -> bool:
        return True

    def get_realms(self, token: str, request: Any) -> list[str]:
        return []

    def save_request_token(self, token: dict[str, str], request: Any) -> None:
        self.saved = dict(token)

    def save_access_token(self, token: dict[str, str], request: Any) -> None:
        self.saved = dict(token)

    def invalidate_request_token(self, client_key: str, request_token: str, request: Any) -> None:
        pass  # the caller deletes the row in the same transaction as the new access token


async def _validator(
    svc: IdentityService,
    session: AsyncSession,
    signed: Signed,
    token_row: OAuthRequestToken | OAuthAccessToken | None,
) -> _Validator:
    params = signed.oauth_params()
    consumer_id = params.get("oauth_consumer_key", "")
    consumer = await session.get(OAuthConsumer, consumer_id) if consumer_id else None
    token_id = params.get("oauth_token", "")
    valid = _validator_for(svc, consumer, consumer_id, token_id, token_row)
    nonce, stamp = params.get("oauth_nonce", ""), params.get("oauth_timestamp", "")
    if nonce and stamp.isdigit():
        found = await session.scalar(
            select(OAuthNonce.id).filter_by(
                consumer_id=consumer_id, nonce=nonce, timestamp=int(stamp), token=token_id
            )
        )
        valid.seen = found is not None
    return valid


def _validator_for(
    svc: IdentityService,
    consumer: OAuthConsumer | None,
    consumer_id: str,
    token_id: str,
    token_row: OAuthRequestToken | OAuthAccessToken | None,
) -> _Validator:
    valid = _Validator(
        consumer_id=consumer_id,
        consumer_secret=unseal(svc.credential_cipher, consumer.secret) if consumer else None,
        token_id=token_id,
        ssl=svc.settings.public_url.startswith("https:"),
    )
    if token_row is not None and token_row.consumer_id == consumer_id:
        valid.token_secret = unseal(svc.credential_cipher, token_row.secret)
        valid.token_ok = token_row.expires_at > _now()
    return valid


async def _spend_nonce(session: AsyncSession, valid: _Validator, token_id: str) -> None:
    """Record the nonce; the same one again (even racing this request) is a replay."""
    assert valid.nonce is not None
    nonce, stamp = valid.nonce
    # Older than oauthlib's timestamp window, a nonce can no longer be replayed: forget it.
    await session.execute(sql_delete(OAuthNonce).where(OAuthNonce.seen_at < time.time() - 1200))
    session.add(
        OAuthNonce(
            consumer_id=valid.consumer_id,
            nonce=nonce,
            timestamp=stamp,
            token=token_id,
            seen_at=time.time(),
        )
    )
    try:
        await session.flush()
    except IntegrityError as exc:
        raise errors.Unauthorized("This OAuth1 nonce was already used.") from exc


def _judge(status: int, body: str | None) -> None:
    if status == 400:
        raise errors.ValidationError(f"Invalid OAuth1 request: {body or ''}")
    if status != 200:
        raise errors.Unauthorized("The OAuth1 signature, consumer or token is not valid.")


async def create_request_token(
    svc: IdentityService, signed: Signed, project_id: str | None
) -> tuple[str, int]:
    """Answer a consumer's signed request for a request token on ``project_id``: the
    form-encoded body and the status."""
    if not project_id:
        raise errors.ValidationError("Requested-Project-Id is required.")
    expires = _now() + REQUEST_TOKEN_TTL
    async with svc.db.session() as session:
        await store.get(session, Project, project_id, "project")
        valid = await _validator(svc, session, signed, None)
        endpoint = RequestTokenEndpoint(valid)
        _headers, body, status = endpoint.create_request_token_response(
            credentials={"oauth_expires_at": isotime(expires)}, **signed.for_oauthlib()
        )
        _judge(status, body)
        await _spend_nonce(session, valid, "")
        session.add(
            OAuthRequestToken(
                id=valid.saved["oauth_token"],
                secret=seal(svc.credential_cipher, valid.saved["oauth_token_secret"]),
                consumer_id=valid.consumer_id,
                project_id=project_id,
                expires_at=expires,
                role_ids=[],
            )
        )
    return _form(valid.saved, "oauth_callback_confirmed"), 201


def _form(token: dict[str, str], *dropped: str) -> str:
    return urlencode([(k, v) for k, v in token.items() if k not in dropped])


class RoleRef(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str | None = None
    name: str | None = None


async def authorize(
    svc: IdentityService, who: Principal, request_token_id: str, wanted: list[RoleRef]
) -> str:
    """The user behind ``who`` lets the request token's consumer act with ``wanted`` roles on
    the requested project (roles they hold there now); returns the verifier."""
    refuse_delegated(who, "authorize a request token")
    if who.app_cred_id is not None:
        raise errors.Forbidden("Cannot authorize a request token with an application credential.")
    if not wanted:
        raise errors.ValidationError("roles: at least one role to delegate is required.")
    async with svc.db.session() as session:
        row = await store.get(session, OAuthRequestToken, request_token_id, "request token")
        if row.expires_at <= _now():
            raise errors.Unauthorized("The request token has expired.")
        if row.authorizing_user_id is not None:
            raise errors.Unauthorized("The request token has already been authorized.")
        held = await assignments.effective_role_ids(
            session, who.user_id, Target.project(row.project_id)
        )
        roles = await _held_roles(session, held, wanted)
        row.authorizing_user_id = who.user_id
        row.role_ids = [r.id for r in roles]
        row.verifier = generate_token(24)
        return row.verifier


async def _held_roles(session: AsyncSession, held: set[str], wanted: list[RoleRef]) -> list[Role]:
    mine = await assignments.roles_by_id(session, held)
    by_id = {r.id: r for r in mine}
    by_name = {r.name: r for r in mine}
    picked: dict[str, Role] = {}
    for ref in wanted:
        if not ref.id and not ref.name:
            raise errors.ValidationError("A role needs an id or a name.")
        role = by_id.get(ref.id or "") if ref.id else by_name.get(ref.name or "")
        if role is None:
            raise errors.Forbidden(
                f"You cannot delegate role {ref.id or ref.name}: you do not hold it on the project."
            )
        picked[role.id] = role
    return list(picked.values())


async def create_access_token(svc: IdentityService, signed: Signed) -> tuple[str, int]:
    """Exchange an authorised request token (and its verifier) for an access token."""
    token_id = signed.oauth_params().get("oauth_token", "")
    expires = _now() + ACCESS_TOKEN_TTL
    async with svc.db.session() as session:
        row = await session.get(OAuthRequestToken, token_id) if token_id else None
        valid = await _validator(svc, session, signed, row)
        if row is not None and row.authorizing_user_id is not None:
            valid.verifier = row.verifier
        endpoint = AccessTokenEndpoint(valid)
        _headers, body, status = endpoint.create_access_token_response(
            credentials={"oauth_expires_at": isotime(expires)}, **signed.for_oauthlib()
        )
        _judge(status, body)
        assert row is not None and row.authorizing_user_id is not None
        await _spend_nonce(session, valid, token_id)
        session.add(
            OAuthAccessToken(
                id=valid.saved["oauth_token"],
                secret=seal(svc.credential_cipher, valid.saved["oauth_token_secret"]),
                consumer_id=row.consumer_id,
                authorizing_user_id=row.authorizing_user_id,
                project_id=row.project_id,
                role_ids=list(row.role_ids),
                expires_at=expires,
                audit_chain_id=uuid.uuid4().hex,
            )
        )
        await session.delete(row)  # a request token is spent once
    return _form(valid.saved, "oauth_authorized_realms"), 201


async def authenticate(
    svc: IdentityService, session: AsyncSession, signed: Signed
) -> OAuthAccessToken:
    """The access token a signed ``POST /v3/auth/tokens`` presents, checked (401 otherwise)."""
    token_id = signed.oauth_params().get("oauth_token", "")
    row = await session.get(OAuthAccessToken, token_id) if token_id else None
    valid = await _validator(svc, session, signed, row)
    ok, _request = ResourceEndpoint(valid).validate_protected_resource_request(
        **signed.for_oauthlib()
    )
    if not ok or row is None:
        raise errors.Unauthorized(UNAUTHORIZED)
    await _spend_nonce(session, valid, token_id)
    return row


# --- a user's access tokens --------------------------------------------------------------


async def _own_tokens(
    svc: IdentityService, session: AsyncSession, who: Principal, user_id: str, action: str
) -> User:
    refuse_delegated(who, "manage OAuth1 access tokens")
    user = await store.get(session, User, user_id, "user")
    if action.startswith("identity:list") or action.startswith("identity:get"):
        svc.policy.require_self_or_reader(who, user.id, user.domain_id, action)
    else:
        svc.policy.require_self_or_admin(who, user.id, user.domain_id, action)
    return user


async def list_access_tokens(
    svc: IdentityService, who: Principal, user_id: str
) -> list[OAuthAccessToken]:
    async with svc.db.session() as session:
        await _own_tokens(svc, session, who, user_id, "identity:list_access_tokens")
        query = select(OAuthAccessToken).filter_by(authorizing_user_id=user_id)
        return list(await session.scalars(query.order_by(OAuthAccessToken.id)))


async def get_access_token(
    svc: IdentityService, who: Principal, user_id: str, access_token_id: str
) -> tuple[OAuthAccessToken, list[Role]]:
    async with svc.db.session() as session:
        await _own_tokens(svc, session, who, user_id, "identity:get_access_token")
        row = await session.get(OAuthAccessToken, access_token_id)
        if row is None or row.authorizing_user_id != user_id:
            raise errors.NotFound(f"Could not find access token: {access_token_id}.")
        return row, await assignments.roles_by_id(session, row.role_ids)


async def access_token(
    svc: IdentityService, who: Principal, user_id: str, access_token_id: str
) -> OAuthAccessToken:
    row, _roles = await get_access_token(svc, who, user_id, access_token_id)
    return row


async def access_token_roles(
    svc: IdentityService, who: Principal, user_id: str, access_token_id: str
) -> list[Role]:
    _row, roles = await get_access_token(svc, who, user_id, access_token_id)
    return roles


async def access_token_role(
    svc: IdentityService, who: Principal, user_id: str, access_token_id: str, role_id: str
) -> Role:
    for role in await access_token_roles(svc, who, user_id, access_token_id):
        if role.id == role_id:
            return role
    raise errors.NotFound(f"Could not find role: {role_id}.")


async def delete_access_token(
    svc: IdentityService, who: Principal, user_id: str, access_token_id: str
) -> None:
    """Revoke it: the consumer can no longer authenticate, and its tokens end now."""
    async with svc.db.session() as session:
        await _own_tokens(svc, session, who, user_id, "identity:delete_access_token")
        row = await session.get(OAuthAccessToken, access_token_id)
        if row is None or row.authorizing_user_id != user_id:
            raise errors.NotFound(f"Could not find access token: {access_token_id}.")
        await revocation.oauth_access_token(session, row.audit_chain_id)
        await session.delete(row)
    svc.revoked_something()
