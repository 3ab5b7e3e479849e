"""Token verification for every OCX service, with no call to identity per request.

A service holds one :class:`TokenVerifier` for its landlord. It checks a token's EdDSA
signature against the landlord's JWKS (cached, refetched when an unknown key id shows up),
its expiry, issuer and audience (this landlord only), and a cached list of revocation events
that it polls from identity every few seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi import Request

from ocx.common import errors, jws, outbound

log = logging.getLogger("ocx.auth")

FetchJson = Callable[[str], Awaitable[dict[str, Any]]]

REVOCATION_FIELDS = (
    "audit_id",
    "audit_chain_id",
    "user_id",
    "project_id",
    "domain_id",
    "app_cred_id",
)


def shadow_user_id(idp_id: str, unique_id: str) -> str:
    """The id a landlord gives the user ``unique_id`` of its identity provider ``idp_id`` (as
    Keystone's shadow users): the same at every landlord that names that provider alike."""
    return hashlib.sha256(f"{idp_id}\0{unique_id}".encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Principal:
    """Who is calling, as the token says: the typed result of verification."""

    user_id: str
    user_name: str
    user_domain_id: str
    roles: tuple[str, ...]
    methods: tuple[str, ...]
    audit_id: str
    audit_chain_id: str
    issued_at: float
    expires_at: float
    project_id: str | None = None
    project_name: str | None = None
    project_domain_id: str | None = None
    domain_id: str | None = None
    domain_name: str | None = None
    system: bool = False
    app_cred_id: str | None = None
    role_ids: tuple[str, ...] = ()
    claims: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def has_role(self, *names: str) -> bool:
        return any(name in self.roles for name in names)

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles

    def revocation_values(self) -> dict[str, tuple[str, ...]]:
        """The values revocation events are matched against, each field to its candidates.

        ``domain_id`` stands for every domain the token depends on, as in Keystone: the user's
        own domain and the domain of its scope, so disabling a domain ends its users' tokens
        even when they are scoped to another domain's project.
        """
        domains = (self.user_domain_id, self.domain_id or self.project_domain_id)
        singles = {
            "audit_id": self.audit_id,
            "audit_chain_id": self.audit_chain_id,
            "user_id": self.user_id,
            "project_id": self.project_id,
            "app_cred_id": self.app_cred_id,
        }
        values: dict[str, tuple[str, ...]] = {
            name: (value,) if value else () for name, value in singles.items()
        }
        values["domain_id"] = tuple(dict.fromkeys(d for d in domains if d))
        return values


def principal_from_claims(claims: dict[str, Any]) -> Principal:
    try:
        user = claims["user"]
        project = claims.get("project") or {}
        domain = claims.get("domain") or {}
        roles = claims.get("roles", [])
        return Principal(
            user_id=str(claims["sub"]),
            user_name=str(user["name"]),
            user_domain_id=str(user["domain"]["id"]),
            roles=tuple(str(r["name"]) for r in roles),
            role_ids=tuple(str(r["id"]) for r in roles),
            methods=tuple(claims.get("methods", ())),
            audit_id=str(claims["jti"]),
            audit_chain_id=str(claims.get("chain", claims["jti"])),
            issued_at=float(claims["iat"]),
            expires_at=float(claims["exp"]),
            project_id=project.get("id"),
            project_name=project.get("name"),
            project_domain_id=(project.get("domain") or {}).get("id"),
            domain_id=domain.get("id"),
            domain_name=domain.get("name"),
            system=bool(claims.get("system", False)),
            app_cred_id=(claims.get("app_cred") or {}).get("id"),
            claims=claims,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise errors.Unauthorized("The request you have made requires authentication.") from exc


@dataclass(frozen=True)
class RevocationEvent:
    issued_before: float
    values: dict[str, str]

    def matches(self, token: dict[str, tuple[str, ...]], issued_at: float) -> bool:
        if issued_at > self.issued_before:
            return False
        return all(value in token.get(name, ()) for name, value in self.values.items())

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> RevocationEvent:
        values = {name: str(doc[name]) for name in REVOCATION_FIELDS if doc.get(name)}
        return cls(datetime.fromisoformat(doc["issued_before"]).timestamp(), values)


class RevocationList:
    """Revocation events indexed by their first field, so a check is a few dict lookups."""

    def __init__(self, events: list[RevocationEvent] | None = None):
        self._index: dict[tuple[str, str], list[RevocationEvent]] = {}
        for event in events or []:
            self.add(event)

    def add(self, event: RevocationEvent) -> None:
        name = next(n for n in REVOCATION_FIELDS if n in event.values)
        self._index.setdefault((name, event.values[name]), []).append(event)

    def revokes(self, principal: Principal) -> bool:
        values = principal.revocation_values()
        for name, candidates in values.items():
            for value in candidates:
                for event in self._index.get((name, value), ()):
                    if event.matches(values, principal.issued_at):
                        return True
        return False


VERIFIED_CACHE_SIZE = 10_000


class TokenVerifier:
    """Turns an ``X-Auth-Token`` into a :class:`Principal` for one landlord's audience."""

    def __init__(
        self,
        *,
        identity_url: str,
        issuer: str,
        audience: str,
        client: httpx.AsyncClient | None = None,
        fetch_json: FetchJson | None = None,
        revocation_interval: float = 2.0,
        revocation_max_stale: float = 60.0,
        jwks_refetch_interval: float = 5.0,
    ):
        self.identity_url = identity_url.rstrip("/")
        self.issuer = issuer
        self.audience = audience
        self._client = client
        self._fetch_json = fetch_json or self._get_json
        self._keys: dict[str, Ed25519PublicKey] = {}
        self._keys_fetched = 0.0
        self._revocations = RevocationList()
        self._revocations_fetched = 0.0
        self._revocation_interval = revocation_interval
        self._revocation_max_stale = revocation_max_stale
        self._jwks_refetch_interval = jwks_refetch_interval
        self._lock = asyncio.Lock()
        self._refreshing: asyncio.Task[None] | None = None  # a fetch no request waits for
        # Tokens whose signature and claims were checked lately: token -> (until, principal).
        # A client sends one token with many requests; an Ed25519 check costs ~0.2-1 ms of
        # the event loop each time. Kept no longer than keys are (jwks_refetch_interval), and
        # revocations are still checked on every request.
        self._verified: dict[str, tuple[float, Principal]] = {}

    async def verify(self, token: str | None) -> Principal:
        if not token:
            raise errors.Unauthorized("The request you have made requires authentication.")
        now = time.monotonic()
        known = self._verified.get(token)
        if known is not None and known[0] > now and known[1].expires_at > time.time():
            principal = known[1]
        else:
            claims = await self._verified_claims(token)
            self._check_claims(claims)
            principal = principal_from_claims(claims)
            if len(self._verified) >= VERIFIED_CACHE_SIZE:
                self._verified.clear()
            self._verified[token] = (now + self._jwks_refetch_interval, principal)
        await self._refresh_revocations()
        if self._revocations.revokes(principal):
            raise errors.Unauthorized("The token has been revoked.")
        return principal

    async def verify_typed(self, token: str, typ: str, audience: str) -> Principal:
        """Like :meth:`verify`, for another kind of token (``typ``) meant for ``audience``
        (a constrained delegation for one service: see :mod:`ocx.common.delegation`)."""
        claims = await self._verified_claims(token, typ)
        self._check_claims(claims, audience)
        principal = principal_from_claims(claims)
        await self._refresh_revocations()
        if self._revocations.revokes(principal):
            raise errors.Unauthorized("The token has been revoked.")
        return principal

    async def _verified_claims(self, token: str, typ: str = jws.TYP_TOKEN) -> dict[str, Any]:
        try:
            unverified = jws.split(token)
            kid = str(unverified.header.get("kid"))
            if kid not in self._keys:
                await self._refresh_keys()
            return jws.verify(unverified, self._keys, typ)
        except jws.JWSError as exc:
            raise errors.Unauthorized(f"The token is not valid: {exc}.") from exc

    def _check_claims(self, claims: dict[str, Any], expected: str | None = None) -> None:
        expected = expected or self.audience
        if claims.get("iss") != self.issuer:
            raise errors.Unauthorized("The token was issued by another identity service.")
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if expected not in audiences:
            raise errors.Unauthorized(f"The token is for another landlord, not {expected!r}.")
        exp = claims.get("exp")
        if not isinstance(exp, int | float) or exp <= time.time():
            raise errors.Unauthorized("The token has expired.")

    async def _refresh_keys(self) -> None:
        async with self._lock:
            if time.monotonic() - self._keys_fetched < self._jwks_refetch_interval and self._keys:
                return
            doc = await self._fetch_json("/.well-known/jwks.json")
            self._keys = jws.keys_from_jwks(doc)
            self._keys_fetched = time.monotonic()

    async def _refresh_revocations(self) -> None:
        """Have a list of revocation events fresh enough for this request.

        A list younger than ``revocation_interval`` is used as it is. An older one is still
        used while a task of its own fetches the next (a revocation then takes effect within
        an interval plus one fetch), up to ``revocation_max_stale``; a request waits for the
        fetch only past that, with no list yet, or with no interval at all. Before, every
        request that came while the list was being refetched waited for the fetch, through
        an identity service as busy as this one (often the same process): under 300 clients
        the whole service stalled for up to seconds every interval (bench/load.py)."""
        age = time.monotonic() - self._revocations_fetched
        if age < self._revocation_interval:
            return
        if self._revocations_fetched and 0 < self._revocation_interval <= age < (
            self._revocation_max_stale
        ):
            if self._refreshing is None or self._refreshing.done():
                self._refreshing = asyncio.create_task(self._refresh_quietly())
            return
        await self._fetch_revocations()

    async def _refresh_quietly(self) -> None:
        # A failure is said in the log; past revocation_max_stale a request waits and says so.
        with contextlib.suppress(errors.ServiceUnavailable):
            await self._fetch_revocations()

    async def _fetch_revocations(self) -> None:
        async with self._lock:
            if time.monotonic() - self._revocations_fetched < self._revocation_interval:
                return
            try:
                doc = await self._fetch_json("/v3/OS-REVOKE/events")
            except errors.ServiceUnavailable:
                if time.monotonic() - self._revocations_fetched > self._revocation_max_stale:
                    raise
                log.warning("revocation list refresh failed; using the cached list")
                return
            events = [RevocationEvent.from_json(e) for e in doc.get("events", [])]
            self._revocations = RevocationList(events)
            self._revocations_fetched = time.monotonic()

    def invalidate(self) -> None:
        """Forget the cached revocation list, so the next check fetches it anew."""
        self._revocations_fetched = 0.0

    async def _get_json(self, path: str) -> dict[str, Any]:
        if self._client is None:
            self._client = outbound.async_client(timeout=10.0)
        try:
            response = await self._client.get(self.identity_url + path)
            response.raise_for_status()
            doc = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("identity at %s unreachable for %s: %s", self.identity_url, path, exc)
            raise errors.ServiceUnavailable(
                "The identity service could not be reached to verify the token."
            ) from exc
        if not isinstance(doc, dict):
            raise errors.ServiceUnavailable("The identity service answered with garbage.")
        return doc

    async def aclose(self) -> None:
        if self._refreshing is not None and not self._refreshing.done():
            self._refreshing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._refreshing
        if self._client is not None:
            await self._client.aclose()


class Verifier(Protocol):
    """Anything that turns a token into its verified caller (401 if it cannot)."""

    async def verify(self, token: str | None) -> Principal: ...


def token_of(request: Request) -> str | None:
    """The token a request carries: ``X-Auth-Token``, or Swift's older ``X-Storage-Token``."""
    headers = request.headers
    return headers.get("x-auth-token") or headers.get("x-storage-token")


async def authenticate(request: Request, verifier: Verifier) -> Principal:
    """The verified caller of ``request``, kept on ``request.state`` for the access log."""
    found = await verifier.verify(token_of(request))
    request.state.principal = found
    # A part of a landlord that sells on an exchange admits customers by their grants
    # (ocx.common.market.Gate, kept on the part's service).
    gate = getattr(getattr(request.app.state, "service", None), "market_gate", None)
    if gate is not None:
        await gate.admit(found, request.method)
    return found
