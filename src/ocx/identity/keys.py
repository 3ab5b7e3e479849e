"""The landlord's token signing keys: staged, primary, retired.

One *primary* key signs. A *staged* key is published in the JWKS before it ever signs, so
services that cached the JWKS already know the next key when rotation promotes it: no token is
refused after a rotation. Retired keys stay published until every token they signed has
expired, so live tokens never break either.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ocx.common import jws
from ocx.common.db import Database
from ocx.identity.models import SigningKey


@dataclass
class KeyRing:
    primary_kid: str
    private: dict[str, Ed25519PrivateKey]

    def sign(self, claims: dict[str, Any], typ: str = jws.TYP_TOKEN) -> str:
        return jws.sign(claims, self.private[self.primary_kid], self.primary_kid, typ)

    @property
    def public(self) -> dict[str, Ed25519PublicKey]:
        return {kid: key.public_key() for kid, key in self.private.items()}

    def jwks(self) -> dict[str, Any]:
        return {"keys": [jws.public_jwk(key, kid) for kid, key in self.public.items()]}


async def load(db: Database, *, rotate_after: float, keep_for: float) -> KeyRing:
    """The current key ring; promotes the staged key when the primary is due (or missing)."""
    async with db.session() as session:
        now = time.time()
        rows = await _live_rows(session, now, keep_for)
        staged = [r for r in rows if r.activated_at is None]
        primary = [r for r in rows if r.activated_at is not None and r.retired_at is None]
        if not staged:
            staged = [_new_key(session, now)]
        if not primary or primary[-1].activated_at + rotate_after <= now:  # type: ignore[operator]
            for row in primary:
                row.retired_at = now
            promoted = staged.pop(0)
            promoted.activated_at = now
            primary = [promoted]
            staged = staged or [_new_key(session, now)]
        rows = [*primary, *staged, *(r for r in rows if r.retired_at is not None)]
        return KeyRing(
            primary_kid=primary[-1].kid,
            private={row.kid: jws.load_private_pem(row.private_pem) for row in rows},
        )


async def rotate(db: Database, *, keep_for: float) -> KeyRing:
    """Promote the staged key now; the old primary stays published for ``keep_for`` seconds."""
    return await load(db, rotate_after=0.0, keep_for=keep_for)


async def _live_rows(session: AsyncSession, now: float, keep_for: float) -> list[SigningKey]:
    rows = list(await session.scalars(select(SigningKey).order_by(SigningKey.created_at)))
    live = []
    for row in rows:
        if row.retired_at is not None and row.retired_at + keep_for <= now:
            await session.delete(row)
        else:
            live.append(row)
    return live


def _new_key(session: AsyncSession, now: float) -> SigningKey:
    key = Ed25519PrivateKey.generate()
    row = SigningKey(kid=secrets.token_hex(8), private_pem=jws.private_pem(key), created_at=now)
    session.add(row)
    return row
