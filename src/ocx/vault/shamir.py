"""The data key split k-of-n with Shamir's scheme, one key share per provider.

PyCryptodome's ``Crypto.Protocol.SecretSharing.Shamir`` (maintained, tested against its own
vectors) shares 16-byte secrets over GF(2^128); a 256-bit key is two independent sharings
of its halves under the same share indices, as its documentation suggests. Any k - 1 shares
are independent of the key. A key share here is ``index || half-1 share || half-2 share``.

Repair and migration re-split the key with a fresh polynomial rather than computing one
new share: the shares of the old split and the new one do not combine, so a dropped
provider's old share becomes worthless.
"""

from __future__ import annotations

from Crypto.Protocol.SecretSharing import Shamir

from ocx.vault.crypto import KEY_BYTES

HALF = KEY_BYTES // 2
SHARE_BYTES = 1 + KEY_BYTES


def split(key: bytes, k: int, n: int) -> list[bytes]:
    """n key shares of ``key``, any k of which give it back; share i is for slot i."""
    if len(key) != KEY_BYTES or not 1 <= k <= n <= 255:
        raise ValueError("a 32-byte key and 1 <= k <= n <= 255")
    if k == 1:  # PyCryptodome wants k >= 2; one share is the key itself
        return [bytes([i + 1]) + key for i in range(n)]
    low = Shamir.split(k, n, key[:HALF])
    high = Shamir.split(k, n, key[HALF:])
    return [bytes([a]) + sa + sb for (a, sa), (b, sb) in zip(low, high, strict=True) if a == b]


def combine(shares: list[bytes], k: int) -> bytes:
    """The key from k shares (more are ignored). A wrong share gives a wrong key: callers
    check the result against the manifest's key check."""
    chosen = shares[:k]
    if len(chosen) < k or any(len(s) != SHARE_BYTES for s in chosen):
        raise ValueError(f"need {k} key shares of {SHARE_BYTES} bytes")
    if k == 1:
        return chosen[0][1:]
    low = Shamir.combine([(s[0], s[1 : 1 + HALF]) for s in chosen])
    high = Shamir.combine([(s[0], s[1 + HALF :]) for s in chosen])
    return low + high
