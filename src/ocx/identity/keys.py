"""The landlord's token signing keys: one primary signs, every unretired key verifies.

Rotation makes a new primary and keeps the old key published until every token it signed
has expired, so live tokens never break.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select

from ocx.common import jws
from ocx.common.db import Database
from ocx.identity.models import SigningKey


@dataclass
class KeyRing:
    primary_kid: str
    private: dict[str, Ed25519PrivateKey]

    def sign(self, claims: dict[str, Any], typ: str = "JWT") -> str:
        return jws.sign(claims, self.private[self.primary_kid], self.primary_kid, typ)

    @property
    def public(self) -> dict[str, Ed25519PublicKey]:
        return {kid: key.public_key() for kid, key in self.private.items()}

    def jwks(self) -> dict[str, Any]:
        return {"keys": [jws.public_jwk(key, kid) for kid, key in self.public.items()]}


async def load(db: Database, *, rotate_after: float, keep_for: float) -> KeyRing:
    """The current key ring; makes the first key, or a new primary when the old one is due."""
    async with db.session() as session:
        now = time.time()
        rows = list(await session.scalars(select(SigningKey).order_by(SigningKey.created_at)))
        live = [row for row in rows if row.retired_at is None or row.retired_at + keep_for > now]
        for row in rows:
            if row not in live:
                await session.delete(row)
        current = [row for row in live if row.retired_at is None]
        if not current or current[-1].created_at + rotate_after <= now:
            for row in current:
                row.retired_at = now
            fresh = _new_key(now)
            session.add(fresh)
            live.append(fresh)
        primary = next(row for row in reversed(live) if row.retired_at is None)
        return KeyRing(
            primary_kid=primary.kid,
            private={row.kid: jws.load_private_pem(row.private_pem) for row in live},
        )


async def rotate(db: Database, *, keep_for: float) -> KeyRing:
    """Make a new primary key now; the old ones stay published for ``keep_for`` seconds."""
    return await load(db, rotate_after=0.0, keep_for=keep_for)


def _new_key(now: float) -> SigningKey:
    key = Ed25519PrivateKey.generate()
    return SigningKey(kid=secrets.token_hex(8), private_pem=jws.private_pem(key), created_at=now)
