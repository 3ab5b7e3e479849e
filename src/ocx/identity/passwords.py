"""Password and secret hashing: Argon2id, run off the event loop."""

from __future__ import annotations

from dataclasses import dataclass

import anyio
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError


@dataclass(frozen=True)
class HashCost:
    """Argon2id parameters. The default is argon2-cffi's (RFC 9106 low-memory profile)."""

    time_cost: int = 3
    memory_kib: int = 65536
    parallelism: int = 4


class Hasher:
    def __init__(self, cost: HashCost | None = None):
        cost = cost or HashCost()
        self._argon = PasswordHasher(
            time_cost=cost.time_cost, memory_cost=cost.memory_kib, parallelism=cost.parallelism
        )

    def hash_now(self, secret: str) -> str:
        return self._argon.hash(secret)

    def verify_now(self, hashed: str | None, secret: str) -> bool:
        if not hashed:
            return False
        try:
            return self._argon.verify(hashed, secret)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    async def hash(self, secret: str) -> str:
        return await anyio.to_thread.run_sync(self.hash_now, secret)

    async def verify(self, hashed: str | None, secret: str) -> bool:
        return await anyio.to_thread.run_sync(self.verify_now, hashed, secret)
