"""The vault's cryptography: AES-256-GCM per segment, customer signatures, sealed names,
and wrapping of key shares with a key the customer alone holds.

A segment's nonce is its index (the key is fresh for every object version, so a nonce is
never reused under one key); its associated data binds object id, version, index and
whether it is the last, so segments cannot be reordered, swapped between objects or
versions, or cut off at a segment boundary without the tag failing.
"""

from __future__ import annotations

import base64
import json
import os
import struct
from typing import Any

import blake3
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_BYTES = 32
OBJECT_ID_BYTES = 16
TAG_BYTES = 16
KEY_CHECK_CONTEXT = "ocx vault 2026 data key check"
Bytes = bytes | bytearray | memoryview


class Unsealed(ValueError):
    """Authentication failed: wrong key, or the bytes or their context were changed."""


def new_key() -> bytes:
    return os.urandom(KEY_BYTES)


def new_object_id() -> str:
    return os.urandom(OBJECT_ID_BYTES).hex()


def segment_aad(object_id: str, version: int, index: int, last: bool) -> bytes:
    return b"ocx-vault-seg\0" + bytes.fromhex(object_id) + struct.pack(">QQ?", version, index, last)


def segment_nonce(index: int) -> bytes:
    return struct.pack(">IQ", 0, index)


class SegmentCipher:
    """Seals and opens the segments of one object version."""

    def __init__(self, key: bytes, object_id: str, version: int):
        self._aead = AESGCM(key)
        self.object_id = object_id
        self.version = version

    def seal(self, index: int, plain: bytes, last: bool) -> bytes:
        aad = segment_aad(self.object_id, self.version, index, last)
        return self._aead.encrypt(segment_nonce(index), plain, aad)

    def open(self, index: int, sealed: bytes, last: bool) -> bytes:
        aad = segment_aad(self.object_id, self.version, index, last)
        try:
            return self._aead.decrypt(segment_nonce(index), sealed, aad)
        except InvalidTag:
            raise Unsealed(f"segment {index} does not authenticate") from None

    def open_into(self, index: int, sealed: Bytes, last: bool, out: bytearray | memoryview) -> None:
        """:meth:`open` of ``sealed`` (any buffer) into ``out``, which must be exactly as long
        as the plaintext: no fresh memory for it, nothing joined first. Whatever ``out``
        holds after :class:`Unsealed` is not to be used."""
        aad = segment_aad(self.object_id, self.version, index, last)
        try:
            if len(sealed) < TAG_BYTES:
                raise InvalidTag
            self._aead.decrypt_into(segment_nonce(index), sealed, aad, out)
        except InvalidTag:
            raise Unsealed(f"segment {index} does not authenticate") from None


def key_check(key: bytes) -> str:
    """A public value that tells whether a recombined key is the right one (a one-way
    derivation of a 256-bit random key: it reveals nothing usable about it)."""
    return blake3.blake3(key, derive_key_context=KEY_CHECK_CONTEXT).hexdigest()


def digest(data: bytes) -> str:
    return blake3.blake3(data).hexdigest()


def seal_small(key: bytes, plain: bytes, context: bytes) -> bytes:
    """AES-256-GCM with a random nonce, for small things (names, wrapped key shares)."""
    nonce = os.urandom(12)
    return nonce + AESGCM(key).encrypt(nonce, plain, context)


def open_small(key: bytes, sealed: bytes, context: bytes) -> bytes:
    try:
        return AESGCM(key).decrypt(sealed[:12], sealed[12:], context)
    except (InvalidTag, ValueError):
        raise Unsealed("sealed value does not authenticate") from None


def name_id(meta_key: bytes, name: str) -> str:
    """What providers see instead of the name: a keyed hash, stable across versions."""
    return blake3.blake3(name.encode(), key=meta_key).hexdigest()[:40]


def canonical(doc: Any) -> bytes:
    return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def unb64(text: str) -> bytes:
    return base64.b64decode(text.encode(), validate=True)


class Signer:
    """The customer's Ed25519 key: signs every manifest; the public half verifies them."""

    def __init__(self, private: Ed25519PrivateKey):
        self._private = private
        self.public = private.public_key()

    @classmethod
    def generate(cls) -> Signer:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_seed(cls, seed: bytes) -> Signer:
        return cls(Ed25519PrivateKey.from_private_bytes(seed))

    def seed(self) -> bytes:
        return self._private.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )

    def sign(self, doc: Any) -> str:
        return b64(self._private.sign(canonical(doc)))


def verify(public: Ed25519PublicKey, doc: Any, signature: str) -> bool:
    return verify_signed(public, canonical(doc), signature)


def verify_signed(public: Ed25519PublicKey, signed: bytes, signature: str) -> bool:
    """:func:`verify` of a document already in its canonical bytes."""
    try:
        public.verify(unb64(signature), signed)
    except (InvalidSignature, ValueError):
        return False
    return True
