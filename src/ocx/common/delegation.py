"""Constrained delegation tokens and the proofs that bind them to one presenter.

A customer asks the identity service of landlord B for a token that lets landlord A's compute
attach and detach one volume at B, and nothing else. The token:

    header  {"alg": "EdDSA", "kid": <B's key>, "typ": "ocx-delegation+jwt"}
    claims  iss   B's identity URL            aud  "<B>:volume" (that service alone)
            sub, user, project, roles         the customer, as in an ordinary token
            jti, iat, exp                     exp at most 15 minutes after iat
            ocx_constraints {"volume_id": V, "operations": ["attach", "detach"]}
            cnf {"jkt": <RFC 7638 thumbprint of A's compute's public key>}

An image delegation is the same with ``aud`` ``"<B>:image"`` and ``ocx_constraints``
``{"image_id": I, "operations": ["download"]}``: it lets A's compute read one image's record
and bytes at B's image service, to boot a server from it (docs/compute.md).

Its ``typ`` keeps it from ever being taken for an ordinary token (every other service verifies
``ocx-token+jwt`` only) and its audience names one service of one landlord, so it is refused
anywhere else. It is worthless without a **proof** made for each request by the holder of the
key ``cnf.jkt`` names (a DPoP-style JWS, RFC 9449's idea):

    header  {"alg": "EdDSA", "typ": "ocx-proof+jwt", "jwk": <A's public key>}
    claims  htm, htu   the request's method and URL (no query)
            iat, jti   within 60 s of now; each jti accepted once
            ath        base64url(sha256(delegation token))

The proof's key is trusted only because the signed token pins its thumbprint. Revocation is
Keystone's: an event on the token's ``jti`` (audit id), which every verifier already polls.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ocx.common import errors, jws

TYP_DELEGATION = "ocx-delegation+jwt"
TYP_PROOF = "ocx-proof+jwt"
PROOF_HEADER = "OCX-Proof"
MAX_TTL = 900
PROOF_WINDOW = 60.0
OPERATIONS = ("attach", "detach")
IMAGE_OPERATIONS = ("download",)


def audience(landlord: str, service: str = "volume") -> str:
    return f"{landlord}:{service}"


def is_delegation(token: str | None) -> bool:
    """Whether ``token`` says it is a delegation (its signature is checked later)."""
    if not token or token.count(".") != 2:
        return False
    try:
        return jws.split(token).header.get("typ") == TYP_DELEGATION
    except jws.JWSError:
        return False


def public_jwk(key: Ed25519PublicKey) -> dict[str, str]:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {"kty": "OKP", "crv": "Ed25519", "x": jws.b64url(raw)}


def thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638: sha256 over the required members in lexicographic order."""
    if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519" or not isinstance(jwk.get("x"), str):
        raise errors.BadRequest("The presenter key must be an Ed25519 JWK (kty OKP).")
    canonical = json.dumps(
        {"crv": jwk["crv"], "kty": jwk["kty"], "x": jwk["x"]}, separators=(",", ":")
    )
    return jws.b64url(hashlib.sha256(canonical.encode()).digest())


def constrain(
    claims: dict[str, Any],
    *,
    landlord: str,
    jkt: str,
    ttl: int,
    volume_id: str | None = None,
    image_id: str | None = None,
) -> dict[str, Any]:
    """An ordinary token's claims turned into a delegation's (new jti, audience, limits), for
    one volume (attach and detach) or one image (download), never both."""
    if (volume_id is None) == (image_id is None):
        raise errors.BadRequest("A delegation is for one volume_id or one image_id.")
    limits: dict[str, Any]
    if volume_id is not None:
        service, limits = "volume", {"volume_id": volume_id, "operations": list(OPERATIONS)}
    else:
        service, limits = "image", {"image_id": image_id, "operations": list(IMAGE_OPERATIONS)}
    now = time.time()
    ttl = max(1, min(ttl, MAX_TTL))
    out = {k: v for k, v in claims.items() if k not in ("app_cred", "methods")}
    out.update(
        aud=audience(landlord, service),
        iat=round(now, 6),
        exp=int(min(now + ttl, float(claims["exp"]))),
        jti=secrets.token_urlsafe(16),
        ocx_constraints=limits,
        cnf={"jkt": jkt},
        methods=["delegation"],
    )
    out["chain"] = claims.get("chain", claims["jti"])
    return out


def ath(token: str) -> str:
    return jws.b64url(hashlib.sha256(token.encode()).digest())


def make_proof(key: Ed25519PrivateKey, token: str, method: str, url: str) -> str:
    """The proof the presenter sends with ``token`` on one request."""
    header = {"alg": jws.ALG, "typ": TYP_PROOF, "jwk": public_jwk(key.public_key())}
    claims = {"htm": method.upper(), "htu": _htu(url), "iat": time.time(),
              "jti": secrets.token_urlsafe(12), "ath": ath(token)}  # fmt: skip
    signing = ".".join(
        jws.b64url(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims)
    )
    return signing + "." + jws.b64url(key.sign(signing.encode()))


def _htu(url: str) -> str:
    return url.split("?", 1)[0].split("#", 1)[0]


@dataclass(frozen=True)
class Constraints:
    volume_id: str  # "" in an image delegation
    operations: tuple[str, ...]
    jkt: str
    image_id: str = ""  # "" in a volume delegation


def constraints_of(claims: dict[str, Any]) -> Constraints:
    found = claims.get("ocx_constraints")
    cnf = claims.get("cnf")
    if not isinstance(found, dict) or not isinstance(cnf, dict) or "jkt" not in cnf:
        raise errors.Unauthorized("The delegation token carries no constraints.")
    return Constraints(
        str(found.get("volume_id") or ""),
        tuple(found.get("operations", ())),
        str(cnf["jkt"]),
        str(found.get("image_id") or ""),
    )


class ProofChecker:
    """Checks proofs against a delegation and remembers their jti for the proof window."""

    def __init__(self, max_seen: int = 100_000):
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._max_seen = max_seen

    def check(self, proof: str | None, token: str, jkt: str, method: str, url: str) -> None:
        if not proof:
            raise errors.Unauthorized(
                "A delegation token must come with a proof of possession (OCX-Proof)."
            )
        header, claims = self._verified(proof, jkt)
        del header
        now = time.time()
        if claims.get("htm") != method.upper() or claims.get("htu") != _htu(url):
            raise errors.Unauthorized("The proof was made for another request.")
        iat = claims.get("iat")
        if not isinstance(iat, int | float) or abs(now - iat) > PROOF_WINDOW:
            raise errors.Unauthorized("The proof is too old (or from the future).")
        if claims.get("ath") != ath(token):
            raise errors.Unauthorized("The proof was made for another token.")
        jti = claims.get("jti")
        if not isinstance(jti, str) or not jti:
            raise errors.Unauthorized("The proof has no jti.")
        self._forget(now)
        if jti in self._seen:
            raise errors.Unauthorized("The proof was already used (replay).")
        self._seen[jti] = now

    def _verified(self, proof: str, jkt: str) -> tuple[dict[str, Any], dict[str, Any]]:
        try:
            head, body, sig = proof.split(".")
            header = json.loads(jws.b64url_decode(head))
            claims = json.loads(jws.b64url_decode(body))
            if header.get("typ") != TYP_PROOF or header.get("alg") != jws.ALG:
                raise errors.Unauthorized("The proof is not an ocx-proof+jwt.")
            jwk = header.get("jwk") or {}
            if thumbprint(jwk) != jkt:
                raise errors.Unauthorized(
                    "The proof was signed by another presenter than the delegation names."
                )
            key = Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(jwk["x"] + "=="))
            key.verify(jws.b64url_decode(sig), f"{head}.{body}".encode())
        except (ValueError, KeyError, TypeError, InvalidSignature, jws.JWSError,
                errors.BadRequest) as exc:  # fmt: skip
            raise errors.Unauthorized(f"The proof of possession is not valid: {exc}.") from exc
        if not isinstance(claims, dict):
            raise errors.Unauthorized("The proof's claims are not an object.")
        return header, claims

    def _forget(self, now: float) -> None:
        while self._seen and (
            len(self._seen) > self._max_seen
            or next(iter(self._seen.values())) < now - 2 * PROOF_WINDOW
        ):
            self._seen.popitem(last=False)
