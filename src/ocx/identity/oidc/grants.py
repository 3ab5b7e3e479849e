"""Codes and refresh tokens: single-use handles, each belonging to one sign-in.

A handle is ``<sign-in id>.<secret>`` and only its SHA-256 is stored. The sign-in
(:class:`OidcSession`) is the family: a handle used twice means someone else holds a copy,
and revoking the sign-in kills every refresh token that descends from it.
"""

from __future__ import annotations

import hashlib
import secrets
import time

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ocx.identity.federation.models import OidcClient, OidcGrant
from ocx.identity.models import RevocationEvent, User
from ocx.identity.oidc.errors import Replayed, invalid_grant
from ocx.identity.oidc.models import OidcSession

CODE_TTL = 60
SESSION_TTL = 24 * 3600
CODE, REFRESH = "code", "refresh"
WHAT = {CODE: "authorization code", REFRESH: "refresh token"}


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_handle(family: OidcSession) -> str:
    return f"{family.id}.{secrets.token_urlsafe(32)}"


async def open_session(
    session: AsyncSession, client_id: str, user_id: str, auth_time: float
) -> OidcSession:
    """A new sign-in (and, while at it, forget the expired ones)."""
    await purge(session)
    family = OidcSession(
        id=secrets.token_hex(16),
        client_id=client_id,
        user_id=user_id,
        auth_time=auth_time,
        expires_at=time.time() + SESSION_TTL,
        revoked=False,
    )
    session.add(family)
    return family


def add_code(
    session: AsyncSession,
    family: OidcSession,
    *,
    scope: list[str],
    redirect_uri: str,
    code_challenge: str | None,
    nonce: str | None,
) -> str:
    code = new_handle(family)
    session.add(
        OidcGrant(
            token_hash=digest(code),
            kind=CODE,
            client_id=family.client_id,
            user_id=family.user_id,
            scope=" ".join(scope),
            redirect_uri=redirect_uri,
            code_challenge=code_challenge,
            nonce=nonce,
            expires_at=time.time() + CODE_TTL,
            used=False,
        )
    )
    return code


def add_refresh_token(session: AsyncSession, family: OidcSession, scope: list[str]) -> str:
    """A refresh token of ``family``; it lives as long as the sign-in, not longer."""
    token = new_handle(family)
    session.add(
        OidcGrant(
            token_hash=digest(token),
            kind=REFRESH,
            client_id=family.client_id,
            user_id=family.user_id,
            scope=" ".join(scope),
            expires_at=family.expires_at,
            used=False,
        )
    )
    return token


async def redeem(
    session: AsyncSession, kind: str, token: str, client: OidcClient
) -> tuple[OidcGrant, OidcSession]:
    """Use a code or refresh token up, once; a second use raises :class:`Replayed`."""
    what = WHAT[kind]
    row = await session.get(OidcGrant, digest(token))
    # The sign-in id is read from the token only once its hash matched: we wrote this exact text.
    family = await session.get(OidcSession, token.partition(".")[0]) if row else None
    if row is None or row.kind != kind or family is None or row.client_id != client.client_id:
        raise invalid_grant(f"The {what} is unknown, or was issued to another client.")
    if row.used or not await _use(session, row):
        raise Replayed(family.id, what)
    if family.revoked:
        raise invalid_grant(f"The {what} belongs to a revoked sign-in.")
    if min(row.expires_at, family.expires_at) <= time.time():
        raise invalid_grant(f"The {what} has expired.")
    if await revoked_since(session, family.user_id, family.auth_time):
        raise invalid_grant("The user's password, roles or groups changed since the sign-in.")
    if await domain_revoked_since(session, family.user_id, family.auth_time):
        raise invalid_grant("The sign-in was revoked: the user's domain was disabled since.")
    return row, family


async def _use(session: AsyncSession, row: OidcGrant) -> bool:
    """Mark ``row`` used unless a concurrent request just did (then False)."""
    result = await session.execute(
        update(OidcGrant)
        .where(OidcGrant.token_hash == row.token_hash, OidcGrant.used.is_(False))
        .values(used=True)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def revoke(session: AsyncSession, session_id: str) -> None:
    await session.execute(
        update(OidcSession).where(OidcSession.id == session_id).values(revoked=True)
    )


async def revoked_since(session: AsyncSession, user_id: str, since: float) -> bool:
    """Whether all of the user's tokens were revoked after ``since`` (as a password change,
    disabling, or losing a role or group does): then the sign-in ends as well."""
    query = select(RevocationEvent.id).where(
        RevocationEvent.user_id == user_id,
        RevocationEvent.issued_before > since,
        RevocationEvent.audit_id.is_(None),
        RevocationEvent.audit_chain_id.is_(None),
        RevocationEvent.project_id.is_(None),
        RevocationEvent.domain_id.is_(None),
        RevocationEvent.app_cred_id.is_(None),
    )
    return await session.scalar(query.limit(1)) is not None


async def domain_revoked_since(session: AsyncSession, user_id: str, since: float) -> bool:
    """Whether the user's domain was disabled or deleted after ``since``: that ends its users'
    tokens wherever they are scoped (:mod:`ocx.identity.revocation`), so their sign-ins too,
    even once the domain is enabled again."""
    query = (
        select(RevocationEvent.id)
        .join(User, User.domain_id == RevocationEvent.domain_id)
        .where(
            User.id == user_id,
            RevocationEvent.issued_before > since,
            RevocationEvent.user_id.is_(None),
            RevocationEvent.project_id.is_(None),
            RevocationEvent.audit_id.is_(None),
        )
    )
    return await session.scalar(query.limit(1)) is not None


async def purge(session: AsyncSession) -> None:
    """Forget expired codes, refresh tokens and sign-ins."""
    now = time.time()
    await session.execute(delete(OidcGrant).where(OidcGrant.expires_at < now))
    await session.execute(delete(OidcSession).where(OidcSession.expires_at < now))
