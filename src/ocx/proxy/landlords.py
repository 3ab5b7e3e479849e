"""Which landlords a customer's combined account spans: the :class:`LandlordSource` seam.

Today's source, :class:`TokenLandlords`, reads them from the customer's own home token: the
home landlord (its object store in the token's catalog) and every K2K service provider the
token lists (``service_providers``), in that order. The exchange's subscriptions will be
another source with the same one method. A landlord where the customer turns out to have
no project is dropped later, when the proxy federates there (:mod:`ocx.proxy.tokens`).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit

import httpx

from ocx.clients.k2k import OBJECT_STORE, ServiceProvider, catalog_urls
from ocx.common import errors
from ocx.common.auth import Principal
from ocx.proxy.cache import Flights, TtlCache

Kind = Literal["home", "federated", "direct"]
SignIn = tuple[str, ...]  # see Caller.sign_in
log = logging.getLogger("ocx.proxy")


def digest_of(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Caller:
    """A verified customer and the token they came with (hashed for cache keys; never logged)."""

    principal: Principal
    token: str
    digest: str

    @classmethod
    def of(cls, principal: Principal, token: str) -> Caller:
        return cls(principal, token, digest_of(token))

    @property
    def account_key(self) -> tuple[str, str]:
        """Whose combined account: remote projects are per user, so user and home project."""
        return (self.principal.user_id, self.principal.project_id or "")

    @property
    def sign_in(self) -> SignIn:
        """What the customer's landlords and tokens there follow from, rather than this token.

        A client given a token often trades it for new ones (keystoneauth's ``Token`` plugin,
        as Horizon's novaclient does on every page): the new tokens keep the token's audit
        chain and expiry, user, scope and roles, which is all a K2K assertion says. So tokens
        that agree on all of these share what the proxy got for one of them. A token without
        an audit chain shares nothing. Every request's own token is verified first (signature,
        expiry, revocation), so a shared translation only serves a token that is good now.
        """
        p = self.principal
        if not p.audit_chain_id:
            return ("token", self.digest)
        roles = ",".join(sorted(p.roles))
        scope = (p.project_id or "", p.domain_id or "", "system" if p.system else "")
        return ("chain", p.user_id, p.audit_chain_id, repr(p.expires_at), *scope, roles,
                p.app_cred_id or "")  # fmt: skip


@dataclass(frozen=True)
class Candidate:
    """A landlord that may hold part of the customer's account, and how to reach it.

    ``home``: the landlord that issued the customer's token (used as is); ``federated``: a
    K2K service provider (a token there is got through federation); ``direct``: a landlord
    whose storage URL and token the source already holds. ``endpoints`` are the landlord's
    public URLs by catalog type, when known (home's come from the customer's token).
    """

    name: str
    rank: int
    kind: Kind
    storage_url: str | None = None
    token: str | None = None
    sp: ServiceProvider | None = None
    endpoints: Mapping[str, str] = field(default_factory=dict)

    def urls(self) -> dict[str, str]:
        """Every known endpoint; the storage URL is the object store's."""
        found = dict(self.endpoints)
        if self.storage_url:
            found.setdefault(OBJECT_STORE, self.storage_url)
        return found


class LandlordSource(Protocol):
    async def candidates(self, caller: Caller) -> Sequence[Candidate]: ...


def from_token_body(home: str, token: dict[str, Any]) -> list[Candidate]:
    """Home first (if it runs any service), then the service providers in token order.

    A service provider entry that cannot work (no id, a URL that is not http(s)://host) is
    left out, with a warning: it can hold nothing, so it must not fail requests (#17 R3).
    """
    out: list[Candidate] = []
    urls = catalog_urls(token.get("catalog"))
    if urls:
        out.append(Candidate(home, 0, "home", storage_url=urls.get(OBJECT_STORE), endpoints=urls))
    providers = token.get("service_providers")
    for rank, sp in enumerate(providers if isinstance(providers, list) else [], start=1):
        provider = usable_provider(sp)
        if provider is None:
            log.warning("service provider %r cannot be used; leaving it out", _id_of(sp))
            continue
        out.append(Candidate(provider.id, rank, "federated", sp=provider))
    return out


def usable_provider(entry: Any) -> ServiceProvider | None:
    if not isinstance(entry, dict):
        return None
    sp_id, auth_url, sp_url = (entry.get(key) for key in ("id", "auth_url", "sp_url"))
    if not (isinstance(sp_id, str) and sp_id.strip() and sp_id.isprintable()):
        return None
    if not (usable_url(auth_url) and usable_url(sp_url)):
        return None
    return ServiceProvider(sp_id, str(auth_url), str(sp_url))


def usable_url(value: Any) -> bool:
    """An absolute http(s) URL with a host, as a client can reach."""
    if not isinstance(value, str) or not value.isprintable() or " " in value:
        return False
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 (raises ValueError for a bad port)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _id_of(entry: Any) -> str:
    return str(entry.get("id") if isinstance(entry, dict) else entry)[:64]


class TokenLandlords:
    """Home plus the token's service providers, read by validating the token at home."""

    def __init__(
        self, client: httpx.AsyncClient, identity_url: str, home: str, ttl: float, size: int
    ):
        self.client = client
        self.identity_url = identity_url.rstrip("/")
        self.home = home
        self.ttl = ttl
        self._cache: TtlCache[SignIn, list[Candidate]] = TtlCache(size)
        self._flights: Flights[SignIn, list[Candidate]] = Flights()

    async def candidates(self, caller: Caller) -> Sequence[Candidate]:
        # By sign-in: a re-issued token of the same scope has the same catalog and providers.
        found = self._cache.get(caller.sign_in)
        if found is None:
            found = await self._flights.run(caller.sign_in, lambda: self._fetch(caller))
        return found

    async def _fetch(self, caller: Caller) -> list[Candidate]:
        token = await self._validate(caller.token)
        found = from_token_body(self.home, token)
        until = min(caller.principal.expires_at, self._cache.clock() + self.ttl)
        self._cache.put(caller.sign_in, found, until)
        return found

    async def _validate(self, token: str) -> dict[str, Any]:
        # A user may validate their own token: no credentials of the proxy's are needed.
        headers = {"X-Auth-Token": token, "X-Subject-Token": token}
        try:
            resp = await self.client.get(self.identity_url + "/v3/auth/tokens", headers=headers)
            doc = resp.json() if resp.status_code == 200 else None
        except (httpx.HTTPError, ValueError) as exc:
            raise _identity_down(type(exc).__name__) from exc
        if resp.status_code in (401, 404):
            raise errors.Unauthorized("The token has been revoked or has expired.")
        if not isinstance(doc, dict) or not isinstance(doc.get("token"), dict):
            raise _identity_down(f"answered {resp.status_code}")
        return dict(doc["token"])

    def forget(self, sign_in: SignIn) -> None:
        self._cache.pop(sign_in)


def _identity_down(reason: str) -> errors.OCXError:
    return errors.ServiceUnavailable(
        f"The home identity service could not list the customer's landlords ({reason})."
    )
