"""Keypairs: a user's SSH public keys, imported or made here (the private half shown once)."""

from __future__ import annotations

import base64
import hashlib
import re
import time
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ocx.common import errors
from ocx.common.auth import Principal
from ocx.common.db import Database
from ocx.compute.models import Keypair

_NAME = re.compile(r"^[\w\-. @]{1,255}$")
KEY_TYPES = ("ssh", "x509")


class Keypairs:
    def __init__(self, db: Database, limit: int):
        self.db = db
        self.limit = limit

    async def create(
        self, who: Principal, name: object, public_key: object, kind: object
    ) -> tuple[Keypair, str | None]:
        if not isinstance(name, str) or not _NAME.match(name):
            raise errors.BadRequest(
                "Keypair data is invalid: Keypair name contains unsafe characters"
            )
        kind = kind or "ssh"
        if kind not in KEY_TYPES:
            raise errors.BadRequest(f"Invalid keypair type {kind!r}: ssh or x509.")
        private = None
        if public_key is None:
            public_key, private = _generate()
        if not isinstance(public_key, str) or len(public_key) > 16384:
            raise errors.BadRequest("Keypair data is invalid: public_key is not a string")
        pair = Keypair(
            user_id=who.user_id,
            name=name,
            type=str(kind),
            public_key=public_key.strip(),
            fingerprint=fingerprint(public_key),
            created_at=time.time(),
        )
        try:
            async with self.db.session() as session:
                count = await session.scalar(
                    select(func.count()).select_from(Keypair).where(Keypair.user_id == who.user_id)
                )
                if (count or 0) >= self.limit:
                    raise errors.Forbidden("Quota exceeded, too many key pairs.")
                session.add(pair)
        except IntegrityError as exc:
            raise errors.Conflict(f"Key pair '{name}' already exists.") from exc
        return pair, private

    async def list(self, who: Principal) -> list[Keypair]:
        async with self.db.session() as session:
            stmt = select(Keypair).where(Keypair.user_id == who.user_id).order_by(Keypair.name)
            return list(await session.scalars(stmt))

    async def get(self, who: Principal, name: str, session: Any = None) -> Keypair:
        if session is None:
            async with self.db.session() as own:
                return await self.get(who, name, own)
        found = await session.scalar(
            select(Keypair).where(Keypair.user_id == who.user_id, Keypair.name == name)
        )
        if found is None:
            raise errors.NotFound(f"Keypair {name} not found for user {who.user_id}")
        return found

    async def delete(self, who: Principal, name: str) -> None:
        pair = await self.get(who, name)
        async with self.db.session() as session:
            await session.delete(await session.get(Keypair, pair.id))


def fingerprint(public_key: str) -> str:
    """The MD5 fingerprint Nova shows, ``aa:bb:…``, of an OpenSSH public key."""
    parts = public_key.strip().split()
    try:
        blob = base64.b64decode(parts[1], validate=True)
    except (IndexError, ValueError) as exc:
        raise errors.BadRequest("Keypair data is invalid: failed to generate fingerprint") from exc
    digest = hashlib.md5(blob, usedforsecurity=False).hexdigest()
    return ":".join(digest[i : i + 2] for i in range(0, 32, 2))


def _generate() -> tuple[str, str]:
    key = ed25519.Ed25519PrivateKey.generate()
    public = key.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    )
    return public.decode() + " Generated-by-OCX", private.decode()
