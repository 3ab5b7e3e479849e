"""Who signed what: the exchange's own key, and the landlords' keys from their JWKS.

Every statement is a compact JWS (EdDSA) with a marketplace media type per kind, so an
offering can never pass for a usage batch or a grant for an enrolment.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select

from ocx.common import errors, jws
from ocx.common.db import Database
from ocx.exchange.models import MarketKey

TYP_ENROL = "ocx-market-enrolment+jwt"
TYP_OFFERING = "ocx-market-offering+jwt"
TYP_OFFER = "ocx-market-offer+jwt"
TYP_USAGE = "ocx-market-usage+jwt"
TYP_REQUEST = "ocx-market-request+jwt"
TYP_GRANT = "ocx-market-grant+jwt"
MAX_STATEMENT_BYTES = 4 * 1024 * 1024
JWKS_PATH = "/.well-known/jwks.json"

FetchJson = Callable[[str], Awaitable[dict[str, Any]]]


@dataclass
class MarketSigner:
    """The exchange's own key: it signs grants and the feed."""

    kid: str
    key: Ed25519PrivateKey
    issuer: str

    def sign(self, claims: dict[str, Any], typ: str = TYP_GRANT) -> str:
        return jws.sign({**claims, "iss": self.issuer}, self.key, self.kid, typ)

    def jwks(self) -> dict[str, Any]:
        return {"keys": [jws.public_jwk(self.key.public_key(), self.kid)]}

    @property
    def public(self) -> dict[str, Ed25519PublicKey]:
        return {self.kid: self.key.public_key()}


async def load_signer(db: Database, issuer: str) -> MarketSigner:
    async with db.session() as session:
        row = (
            await session.scalars(select(MarketKey).order_by(MarketKey.created_at.desc()))
        ).first()
        if row is None:
            key = Ed25519PrivateKey.generate()
            row = MarketKey(
                kid=secrets.token_hex(8), private_pem=jws.private_pem(key), created_at=time.time()
            )
            session.add(row)
        return MarketSigner(row.kid, jws.load_private_pem(row.private_pem), issuer)


def verify_with(keys: dict[str, Ed25519PublicKey], statement: str, typ: str) -> dict[str, Any]:
    """The claims of ``statement`` if ``keys`` verify it; :class:`errors.Forbidden` if not."""
    try:
        return jws.verify(jws.split(statement, MAX_STATEMENT_BYTES), keys, typ)
    except jws.JWSError as exc:
        raise errors.Forbidden(f"The signature of the statement does not verify: {exc}.") from exc


def unverified_claims(statement: str) -> dict[str, Any]:
    """Claims read *before* verification, only to learn which party's keys to use."""
    try:
        parsed = jws.split(statement, MAX_STATEMENT_BYTES)
        claims = json.loads(jws.b64url_decode(parsed.payload_b64))
    except (jws.JWSError, ValueError) as exc:
        raise errors.BadRequest(f"The statement is not a compact JWS: {exc}.") from exc
    if not isinstance(claims, dict):
        raise errors.BadRequest("The statement's payload is not a JSON object.")
    return claims


class LandlordKeys:
    """Each enrolled landlord's identity JWKS, cached; refetched when an unknown kid shows up."""

    def __init__(self, client: httpx.AsyncClient, refetch_interval: float = 5.0):
        self._client = client
        self._keys: dict[str, dict[str, Ed25519PublicKey]] = {}
        self._fetched: dict[str, float] = {}
        self._refetch_interval = refetch_interval
        self._lock = asyncio.Lock()

    async def fetch(self, identity_url: str) -> dict[str, Ed25519PublicKey]:
        url = identity_url.rstrip("/") + JWKS_PATH
        try:
            response = await self._client.get(url, timeout=10.0)
            response.raise_for_status()
            doc = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise errors.ServiceUnavailable(
                f"The landlord's identity at {identity_url} did not give its JWKS: {exc}."
            ) from exc
        if not isinstance(doc, dict):
            raise errors.ServiceUnavailable("The landlord's JWKS is not a JSON object.")
        return jws.keys_from_jwks(doc)

    async def verify(self, identity_url: str, statement: str, typ: str) -> dict[str, Any]:
        kid = str(_header(statement).get("kid"))
        keys = self._keys.get(identity_url, {})
        if kid not in keys:
            async with self._lock:
                recent = time.monotonic() - self._fetched.get(identity_url, 0.0)
                if kid not in self._keys.get(identity_url, {}) and (
                    recent >= self._refetch_interval or identity_url not in self._keys
                ):
                    self._keys[identity_url] = await self.fetch(identity_url)
                    self._fetched[identity_url] = time.monotonic()
            keys = self._keys.get(identity_url, {})
        return verify_with(keys, statement, typ)


def _header(statement: str) -> dict[str, Any]:
    try:
        return jws.split(statement, MAX_STATEMENT_BYTES).header
    except jws.JWSError as exc:
        raise errors.BadRequest(f"The statement is not a compact JWS: {exc}.") from exc
