"""A version's manifest: what the customer signs, and the copy each provider keeps.

The body is the same at every provider and signed with the customer's Ed25519 key; each
provider's copy adds its own (optionally wrapped) key share, whose hash the body holds.
Versions order by ``(version, revision)``: a revision is a repair or migration of the same
encrypted data (its segments' associated data carries the version, never the revision).

A *tombstone* is a version like any other, signed the same way, that says the name was
removed (``deleted``): no data, no key shares, every share root empty. ``rm`` writes one
above every version it finds, so a provider that was down during the rm and comes back
unchanged serves an older version than the highest verified one (stale), and the name
stays removed.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ocx.vault import crypto

FORMAT = "ocx-vault/1"
MAX_MANIFEST_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class ShareEntry:
    slot: int
    landlord: str
    owner: str
    root: str  # the share's tree root (hex)
    key_share_hash: str  # BLAKE3 of the stored (possibly wrapped) key share


@dataclass(frozen=True)
class Manifest:
    name_id: str
    name_sealed: str
    version: int
    revision: int
    object_id: str
    size: int
    segment_size: int
    segments: int
    k: int
    n: int
    ec_type: str
    fragment_size: int
    last_fragment_size: int
    fragments_per_part: int
    key_check: str
    wrapped: bool
    created: float
    shares: tuple[ShareEntry, ...] = field(default=())
    format: str = FORMAT
    cipher: str = "AES-256-GCM"
    deleted: bool = False  # a tombstone: the name was removed at this version

    @property
    def order(self) -> tuple[int, int]:
        return (self.version, self.revision)

    @property
    def parts(self) -> int:
        return -(-self.segments // self.fragments_per_part)

    def fragment_len(self, index: int) -> int:
        return self.last_fragment_size if index == self.segments - 1 else self.fragment_size

    def plain_len(self, index: int) -> int:
        """Plaintext bytes in segment ``index`` (the last one may be short, or empty)."""
        return max(0, min(self.segment_size, self.size - index * self.segment_size))

    def part_of(self, index: int) -> tuple[int, int]:
        """(part number, byte offset inside it) of segment ``index``'s fragment."""
        part, within = divmod(index, self.fragments_per_part)
        return part, within * self.fragment_size

    def part_len(self, part: int) -> int:
        first = part * self.fragments_per_part
        count = min(self.fragments_per_part, self.segments - first)
        return (count - 1) * self.fragment_size + self.fragment_len(first + count - 1)

    def share(self, slot: int) -> ShareEntry:
        return self.shares[slot]

    def body(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["shares"] = [asdict(s) for s in self.shares]
        return doc

    @classmethod
    def from_body(cls, doc: dict[str, Any]) -> Manifest:
        if doc.get("format") != FORMAT:
            raise ValueError(f"unknown manifest format {doc.get('format')!r}")
        shares = tuple(ShareEntry(**s) for s in doc["shares"])
        return cls(**{**doc, "shares": shares})


@dataclass(frozen=True)
class Copy:
    """One provider's copy: the signed body, and that provider's key share."""

    manifest: Manifest
    signature: str
    slot: int
    key_share: bytes
    signed: bytes = field(default=b"", compare=False, repr=False)  # as verified, if loaded

    def signed_body(self) -> bytes:
        """The canonical bytes the signature covers (kept from the check when loaded)."""
        return self.signed or crypto.canonical(self.manifest.body())

    def dumps(self) -> bytes:
        doc = {
            "body": self.manifest.body(),
            "signature": self.signature,
            "slot": self.slot,
            "key_share": crypto.b64(self.key_share),
        }
        return json.dumps(doc, sort_keys=True).encode()


class Forged(ValueError):
    """The copy is not what the customer signed (or not for this place)."""


def sign(manifest: Manifest, signer: crypto.Signer) -> str:
    return signer.sign(manifest.body())


def load_copy(data: bytes, public: Ed25519PublicKey) -> Copy:
    """Parse and verify one provider's copy; :class:`Forged` if it is not authentic."""
    if len(data) > MAX_MANIFEST_BYTES:
        raise Forged("manifest too large")
    try:
        doc = json.loads(data)
        body, signature = doc["body"], str(doc["signature"])
        slot, key_share = int(doc["slot"]), crypto.unb64(str(doc["key_share"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise Forged(f"unreadable manifest: {type(exc).__name__}") from None
    signed = crypto.canonical(body)
    if not crypto.verify_signed(public, signed, signature):
        raise Forged("bad signature")
    try:
        manifest = Manifest.from_body(body)
    except (ValueError, KeyError, TypeError) as exc:
        raise Forged(f"signed but malformed: {exc}") from None
    if not 0 <= slot < manifest.n:
        raise Forged("no such slot")
    if crypto.digest(key_share) != manifest.share(slot).key_share_hash:
        raise Forged("key share does not match the signed manifest")
    return Copy(manifest, signature, slot, key_share, signed)
