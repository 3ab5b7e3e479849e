"""Checking what an identity provider sends: OIDC access tokens and SAML assertions.

Accepted only when: the signature verifies with a key *of that IdP* (its JWKS, or its SAML
certificate), the issuer is one of the IdP's ``remote_ids``, the audience is this landlord (a
SAML assertion with no audience restriction, as Keystone makes them, must instead name the
endpoint it was posted to as its bearer Recipient), the credential is within its validity
window (SAML assertions live five minutes at most), it was never seen before (single use), and
the IdP and protocol are enabled. SHA-1 signatures only from an IdP with ``saml_accept_sha1``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ocx.common import errors, jws, outbound
from ocx.identity.federation import saml
from ocx.identity.federation.login import Assertion, flatten
from ocx.identity.federation.models import IdentityProvider, IdpRemoteId, SeenAssertion

SKEW = 30.0
MAX_OIDC_LIFETIME = 24 * 3600


def refuse(message: str) -> errors.Unauthorized:
    return errors.Unauthorized(message)


class RemoteKeys:
    """IdPs' JWKS documents, cached; refetched on an unknown key id at most every few seconds."""

    def __init__(self, ttl: float = 300.0, refetch_interval: float = 5.0):
        self.ttl = ttl
        self.refetch_interval = refetch_interval
        self._cache: dict[str, tuple[float, dict[str, Ed25519PublicKey]]] = {}
        self._lock = asyncio.Lock()
        self._client: httpx.AsyncClient | None = None

    async def keys(self, uri: str, kid: str) -> dict[str, Ed25519PublicKey]:
        fetched, keys = self._cache.get(uri, (0.0, {}))
        age = time.monotonic() - fetched
        if age < self.ttl and (kid in keys or age < self.refetch_interval):
            return keys
        async with self._lock:
            keys = await self._fetch(uri)
            self._cache[uri] = (time.monotonic(), keys)
            return keys

    async def _fetch(self, uri: str) -> dict[str, Ed25519PublicKey]:
        if self._client is None:
            self._client = outbound.async_client(timeout=5.0)
        try:
            response = await self._client.get(uri)
            response.raise_for_status()
            return jws.keys_from_jwks(response.json())
        except (httpx.HTTPError, ValueError) as exc:
            raise errors.ServiceUnavailable(
                "The identity provider's keys could not be fetched."
            ) from exc

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()


async def _issuer_belongs(session: AsyncSession, idp: IdentityProvider, issuer: str) -> None:
    owner = await session.get(IdpRemoteId, issuer)
    if owner is None or owner.idp_id != idp.id:
        raise refuse(f"The issuer is not one of identity provider {idp.id}'s remote ids.")


async def remember_once(session: AsyncSession, key: str, expires_at: float) -> None:
    """Record a credential id; a second use is refused (replay)."""
    now = time.time()
    await session.execute(delete(SeenAssertion).where(SeenAssertion.expires_at < now - SKEW))
    if await session.get(SeenAssertion, key) is not None:
        raise refuse("This assertion has been used already.")
    session.add(SeenAssertion(key=key[:600], expires_at=expires_at + SKEW))
    try:
        await session.flush()
    except IntegrityError as exc:
        raise refuse("This assertion has been used already.") from exc


async def oidc_access_token(
    session: AsyncSession, keys: RemoteKeys, idp: IdentityProvider, token: str, audience: str
) -> Assertion:
    if not idp.jwks_uri:
        raise refuse(f"Identity provider {idp.id} has no OpenID Connect keys configured.")
    claims = await _verified_oidc_claims(keys, idp.jwks_uri, token)
    issuer = claims.get("iss")
    if not isinstance(issuer, str):
        raise refuse("The access token has no issuer.")
    await _issuer_belongs(session, idp, issuer)
    _check_oidc_window(claims, audience)
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti:
        raise refuse("The access token has no jti.")
    await remember_once(session, f"oidc:{issuer}:{jti}", float(claims["exp"]))
    return Assertion(
        unique_hint=str(claims.get("sub", "")),
        attributes=flatten(claims),
        expires_at=float(claims["exp"]),
    )


async def _verified_oidc_claims(keys: RemoteKeys, uri: str, token: str) -> dict[str, Any]:
    try:
        unverified = jws.split(token)
        kid = str(unverified.header.get("kid"))
        return jws.verify(unverified, await keys.keys(uri, kid), typ=jws.TYP_ACCESS)
    except jws.JWSError as exc:
        raise refuse(f"The access token is not valid: {exc}.") from exc


def _check_oidc_window(claims: dict[str, Any], audience: str) -> None:
    aud = claims.get("aud")
    audiences = aud if isinstance(aud, list) else [aud]
    if audience not in audiences:
        raise refuse(f"The access token is for another audience, not {audience!r}.")
    now = time.time()
    exp, nbf, iat = claims.get("exp"), claims.get("nbf", claims.get("iat")), claims.get("iat")
    if not isinstance(exp, int | float) or exp <= now - SKEW:
        raise refuse("The access token has expired.")
    if isinstance(nbf, int | float) and nbf > now + SKEW:
        raise refuse("The access token is not valid yet.")
    if not isinstance(iat, int | float) or exp - iat > MAX_OIDC_LIFETIME:
        raise refuse("The access token's lifetime is not acceptable.")


async def saml_assertion(
    session: AsyncSession,
    idp: IdentityProvider,
    document: bytes,
    audience: str,
    recipient: str | None = None,
) -> Assertion:
    if not idp.saml_certificate:
        raise refuse(f"Identity provider {idp.id} has no SAML certificate configured.")
    try:
        verified = saml.verify(document, idp.saml_certificate, accept_sha1=idp.saml_accept_sha1)
        saml.check_window(verified, audience, recipient=recipient)
    except saml.SamlError as exc:
        raise refuse(str(exc)) from exc
    await _issuer_belongs(session, idp, verified.issuer)
    expires = verified.not_on_or_after.timestamp()
    await remember_once(session, f"saml:{verified.issuer}:{verified.id}", expires)
    attributes = {name: ";".join(values) for name, values in verified.attributes.items()}
    attributes.setdefault("saml_subject", verified.subject)
    return Assertion(
        unique_hint=verified.subject,
        attributes=attributes,
        expires_at=_session_end(attributes.get(SESSION_END)),
    )


SESSION_END = "ocx_session_expires_at"


def _session_end(value: str | None) -> float | None:
    """The IdP's own session end (the home token's expiry): the SP's token never outlives it."""
    if not value:
        return None
    try:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError as exc:
        raise refuse("The assertion's session end is not a time.") from exc


async def issuers_of(session: AsyncSession, idp_id: str) -> list[str]:
    rows = await session.scalars(select(IdpRemoteId.remote_id).filter_by(idp_id=idp_id))
    return sorted(rows)
