"""Compact JWS with EdDSA (Ed25519) only, and JWKS documents.

Deliberately narrow: one algorithm, keys only from the caller's key set, so ``alg: none``,
HS256-with-a-public-key and embedded-key tricks have nothing to attach to.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ALG = "EdDSA"
# Media types in the JWS header keep one kind of token from being accepted as another:
# a landlord's Keystone token, an OIDC access token (RFC 9068) and an OIDC ID token.
TYP_TOKEN = "ocx-token+jwt"
TYP_ACCESS = "at+jwt"
TYP_ID = "JWT"
# Marketplace statements (offerings, grants, usage batches, ...) carry typ "ocx-market-<kind>+jwt";
# a landlord's identity signs only these for its operator, never a token type.
TYP_MARKET_PREFIX = "ocx-market-"
MAX_TOKEN_BYTES = 16 * 1024


class JWSError(ValueError):
    """The token is malformed or its signature does not verify."""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as exc:
        raise JWSError("token is not base64url") from exc


def is_market_typ(typ: str) -> bool:
    return typ.startswith(TYP_MARKET_PREFIX) and typ.endswith("+jwt") and typ.isascii()


def sign(claims: dict[str, Any], key: Ed25519PrivateKey, kid: str, typ: str = TYP_TOKEN) -> str:
    header = b64url(
        json.dumps({"alg": ALG, "kid": kid, "typ": typ}, separators=(",", ":")).encode()
    )
    payload = b64url(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = f"{header}.{payload}".encode()
    return f"{header}.{payload}.{b64url(key.sign(signing_input))}"


@dataclass(frozen=True)
class Unverified:
    header: dict[str, Any]
    signing_input: bytes
    signature: bytes
    payload_b64: str


def split(token: str, max_bytes: int = MAX_TOKEN_BYTES) -> Unverified:
    """Parse a compact JWS without trusting anything in it."""
    if len(token) > max_bytes:
        raise JWSError("token is too large")
    parts = token.split(".")
    if len(parts) != 3:
        raise JWSError("token is not a compact JWS")
    try:
        header = json.loads(b64url_decode(parts[0]))
    except ValueError as exc:
        raise JWSError("token header is not JSON") from exc
    if not isinstance(header, dict):
        raise JWSError("token header is not an object")
    signing_input = f"{parts[0]}.{parts[1]}".encode()
    return Unverified(header, signing_input, b64url_decode(parts[2]), parts[1])


def verify(
    token: Unverified, keys: dict[str, Ed25519PublicKey], typ: str = TYP_TOKEN
) -> dict[str, Any]:
    """The claims of ``token`` if its signature verifies with the key its ``kid`` names."""
    if token.header.get("alg") != ALG:
        raise JWSError(f"algorithm {token.header.get('alg')!r} is not accepted")
    if token.header.get("typ") != typ:
        raise JWSError(f"a {token.header.get('typ')!r} token is not accepted here")
    key = keys.get(str(token.header.get("kid")))
    if key is None:
        raise JWSError("token is signed with an unknown key")
    try:
        key.verify(token.signature, token.signing_input)
    except InvalidSignature as exc:
        raise JWSError("token signature is invalid") from exc
    try:
        claims = json.loads(b64url_decode(token.payload_b64))
    except ValueError as exc:
        raise JWSError("token payload is not JSON") from exc
    if not isinstance(claims, dict):
        raise JWSError("token payload is not an object")
    return claims


def public_jwk(key: Ed25519PublicKey, kid: str) -> dict[str, str]:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {"kty": "OKP", "crv": "Ed25519", "x": b64url(raw), "kid": kid, "alg": ALG, "use": "sig"}


def keys_from_jwks(doc: dict[str, Any]) -> dict[str, Ed25519PublicKey]:
    """The Ed25519 keys of a JWKS document, by kid; anything else in it is ignored."""
    keys: dict[str, Ed25519PublicKey] = {}
    for jwk in doc.get("keys", []):
        if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519" or "kid" not in jwk:
            continue
        raw = b64url_decode(jwk["x"])
        if len(raw) == 32:
            keys[str(jwk["kid"])] = Ed25519PublicKey.from_public_bytes(raw)
    return keys


def private_pem(key: Ed25519PrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def load_private_pem(pem: str) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise JWSError("signing key is not Ed25519")
    return key
