"""A landlord's side of the exchange: the grants its parts act on, and whom they admit.

The exchange signs a grant for each subscription, lease and budget change and keeps them
on the landlord's feed. Each part of a landlord that sells on an exchange holds a
:class:`Gate`: it pulls that feed (with a request its own identity signs), checks every
grant's signature against the exchange's published keys and its audience (this landlord),
and then, on every authenticated request of a federated customer, decides:

- a customer with a live grant for this part's service is admitted, and the part's quota
  hook sets that customer's project to what the grants give (a plan's quotas, a lease's
  amounts), once per change;
- a customer whose grant ended (cancelled, expired, suspended over budget) may still read
  and delete, but no new use: data already stored is kept, and billed, until deleted;
- a customer with no grant at all is refused when the landlord admits subscribers only,
  and admitted as before otherwise.

A lease past its end keeps its quota for the grace the offer states; then the quota hook
lowers the quota and stops (never deletes) what no longer fits. The landlord's own users
(not federated) are never gated.

Grants match customers by user id: a federated user's id is derived from the identity
provider's name and the user's id there, so it is the same at the exchange and at every
landlord that names that provider alike. A customer who comes through the exchange
operator's own identity (its dashboard and proxy, K2K from the exchange's identity) has the id
derived from the exchange's name and the grant's user id (their id at the exchange): the
grant matches that id too. Only that identity provider's assertions give such an id, and the
exchange, which signs the grants, already says whose they are. The quotas apply to the
project the customer works in at this landlord.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ocx.common import errors, jws, outbound
from ocx.common.auth import Principal, shadow_user_id

log = logging.getLogger("ocx.market")

TYP_GRANT = "ocx-market-grant+jwt"
TYP_REQUEST = "ocx-market-request+jwt"
TYP_USAGE = "ocx-market-usage+jwt"
MAX_GRANT_BYTES = 64 * 1024
READS = frozenset({"GET", "HEAD", "OPTIONS", "DELETE"})
LIVE_LEASE = frozenset({"created", "active", "expired"})
REQUEST_TTL = 240
FEED_PAGE = 1000


@dataclass(frozen=True)
class MarketLink:
    """Where this landlord sells, and how its parts reach the exchange and their identity."""

    landlord: str
    exchange: str
    exchange_url: str
    identity_url: str
    admin_password: str
    subscribers_only: bool = False
    feed_interval: float = 10.0
    meter_interval: float = 60.0


@dataclass(frozen=True)
class Grant:
    """One grant, as the exchange signed it (the newest per id wins)."""

    kind: str
    id: str
    status: str
    customer: str
    user_id: str
    service_type: str
    quotas: dict[str, int]
    metrics: frozenset[str]
    start: float = 0.0
    end: float | None = None
    grace: float = 0.0

    def live(self, now: float) -> bool:
        """Whether the grant allows use at ``now`` (a lease: within its window and grace)."""
        if self.kind == "subscription":
            return self.status == "active"
        if self.kind != "lease" or self.status not in LIVE_LEASE or self.end is None:
            return False
        return self.start <= now < self.end + self.grace

    @classmethod
    def of(cls, claims: dict[str, Any]) -> Grant:
        try:
            kind = str(claims["kind"])
            quotas = claims.get("quotas") if kind == "subscription" else claims.get("amounts")
            end = claims.get("end")
            return cls(
                kind=kind,
                id=str(claims["id"]),
                status=str(claims["status"]),
                customer=str(claims.get("customer", "")),
                user_id=str(claims.get("user_id", "")),
                service_type=str(claims.get("service_type", "")),
                quotas={str(k): int(v) for k, v in (quotas or {}).items()},
                metrics=frozenset(str(m) for m in claims.get("metrics", ())),
                start=float(claims.get("start", 0.0)),
                end=None if end is None else float(end),
                grace=float(claims.get("grace_seconds", 0.0)),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise jws.JWSError(f"the grant's claims are malformed: {exc}") from exc


@dataclass
class GrantBook:
    """The newest grant of every id, the customers suspended over budget, by user.

    ``exchange`` names the exchange operator's identity as this landlord's IdP: a grant is
    found by the user's id at the exchange and by the id its users have here
    (:func:`~ocx.common.auth.shadow_user_id` of the exchange and that id)."""

    exchange: str = ""
    grants: dict[str, Grant] = field(default_factory=dict)
    suspended: set[str] = field(default_factory=set)
    _by_user: dict[str, set[str]] = field(default_factory=dict)

    def add(self, claims: dict[str, Any]) -> Grant | None:
        """Take a verified grant (JWSError if its claims are malformed)."""
        if claims.get("kind") == "budget":
            customer = str(claims.get("customer", ""))
            if claims.get("status") == "suspended":
                self.suspended.add(customer)
            else:
                self.suspended.discard(customer)
            return None
        grant = Grant.of(claims)
        self.grants[grant.id] = grant
        self._by_user.setdefault(grant.user_id, set()).add(grant.id)
        if self.exchange and grant.user_id:
            through = shadow_user_id(self.exchange, grant.user_id)
            self._by_user.setdefault(through, set()).add(grant.id)
        return grant

    def of_user(self, user_id: str, service_type: str) -> list[Grant]:
        found = (self.grants[i] for i in self._by_user.get(user_id, ()))
        return sorted(
            (g for g in found if g.service_type == service_type), key=lambda g: (g.start, g.id)
        )


class LandlordSigner:
    """Has this landlord's own identity sign marketplace statements (as its admin)."""

    def __init__(self, client: httpx.AsyncClient, link: MarketLink):
        self.http = client
        self._link = link
        self._token = ""

    async def sign(self, typ: str, claims: dict[str, Any]) -> str:
        for attempt in (1, 2):
            if not self._token:
                self._token = await self._login()
            response = await self.http.post(
                self._link.identity_url + "/v3/OS-OCX/market/sign",
                json={"typ": typ, "claims": {**claims, "aud": self._link.exchange}},
                headers={"X-Auth-Token": self._token},
            )
            if response.status_code == 401 and attempt == 1:
                self._token = ""
                continue
            response.raise_for_status()
            return str(response.json()["statement"])
        raise RuntimeError("unreachable")

    async def _login(self) -> str:
        scope = {"project": {"name": "admin", "domain": {"id": "default"}}}
        user = {"name": "admin", "domain": {"id": "default"}, "password": self._link.admin_password}
        body = {
            "auth": {
                "identity": {"methods": ["password"], "password": {"user": user}},
                "scope": scope,
            }
        }
        response = await self.http.post(
            self._link.identity_url + "/v3/auth/tokens?nocatalog", json=body
        )
        response.raise_for_status()
        return str(response.headers["x-subject-token"])


QuotaHook = Callable[[str, list[Grant]], Awaitable[None]]


class Gate:
    """One part's admission by grant (see the module's docstring)."""

    def __init__(
        self,
        link: MarketLink,
        service_type: str,
        client: httpx.AsyncClient | None = None,
    ):
        self.link = link
        self.service_type = service_type
        self.book = GrantBook(link.exchange)
        self.cursor = 0
        self._apply_quotas: QuotaHook | None = None
        self.http = client or outbound.async_client(timeout=30.0)
        self.signer = LandlordSigner(self.http, link)
        self._keys: dict[str, Ed25519PublicKey] = {}
        self._request: tuple[str, float] = ("", 0.0)
        # The landlord's project of each customer seen, and what its quotas were set from.
        self.projects: dict[str, str] = {}
        self._applied: dict[str, tuple[str, ...]] = {}
        self._task: asyncio.Task[None] | None = None
        self.ticks: list[Callable[[], Awaitable[None]]] = []
        # Run once at stop, after the last round (the meters send their open interval).
        self.closers: list[Callable[[], Awaitable[None]]] = []
        self.refused: list[str] = []
        self._settling = asyncio.Lock()

    # --- admission ----------------------------------------------------------------------

    async def admit(self, principal: Principal, method: str) -> None:
        """Refuse ``principal`` (403) if its grants do not allow this request."""
        if not _federated(principal) or principal.project_id is None:
            return
        now = time.time()
        grants = self.book.of_user(principal.user_id, self.service_type)
        suspended = bool(grants) and any(g.customer in self.book.suspended for g in grants)
        live = [g for g in grants if g.live(now)]
        if live and not suspended:
            self.projects[principal.project_id] = principal.user_id
            await self._settle(principal.project_id, live)
            return
        if grants and method.upper() in READS:
            return
        if suspended:
            raise errors.Forbidden(
                f"Your exchange budget is exhausted: no new use at {self.link.landlord}. "
                "Data already stored is kept, and billed, until you delete it."
            )
        if grants:
            raise errors.Forbidden(
                f"{_ended(grants[-1])} at {self.link.landlord}: no new use. "
                "Data already stored is kept, and billed, until you delete it."
            )
        if self.link.subscribers_only:
            raise errors.Forbidden(
                f"{self.link.landlord} admits subscribers only: subscribe to one of its "
                f"{self.service_type} offerings at the exchange {self.link.exchange!r} first."
            )

    def live_grants(self, project_id: str, now: float) -> list[Grant]:
        """The live grants of the customer working in ``project_id`` (none if unknown)."""
        user_id = self.projects.get(project_id)
        if user_id is None:
            return []
        grants = self.book.of_user(user_id, self.service_type)
        if any(g.customer in self.book.suspended for g in grants):
            return []
        return [g for g in grants if g.live(now)]

    def set_quota_hook(self, hook: QuotaHook) -> None:
        self._apply_quotas = hook

    async def _settle(self, project_id: str, live: list[Grant]) -> None:
        """Run the quota hook when the grants behind ``project_id`` changed (one at a time:
        a request and the feed's round may find the same change together)."""
        key = tuple(sorted(f"{g.id}:{g.status}:{g.end}" for g in live))
        if self._applied.get(project_id) == key or self._apply_quotas is None:
            return
        async with self._settling:
            if self._applied.get(project_id) != key:
                await self._apply_quotas(project_id, live)
                self._applied[project_id] = key

    async def settle_all(self) -> None:
        """Bring every known customer's quotas to its grants now (ended leases, cancels)."""
        now = time.time()
        for project_id in list(self.projects):
            try:
                await self._settle(project_id, self.live_grants(project_id, now))
            except Exception:
                log.exception("quotas of project %s at %s", project_id, self.link.landlord)

    # --- the feed -----------------------------------------------------------------------

    async def refresh(self) -> int:
        """Pull and apply new grants; how many. Raises on a grant that does not verify."""
        statement, expires = self._request
        if time.time() > expires - 60:
            claims = {"exp": int(time.time()) + REQUEST_TTL, "purpose": "feed"}
            statement = await self.signer.sign(TYP_REQUEST, claims)
            self._request = (statement, time.time() + REQUEST_TTL)
        url = f"{self.link.exchange_url}/v1/landlords/{self.link.landlord}/feed"
        response = await self.http.get(
            url,
            params={"since": self.cursor, "limit": FEED_PAGE},
            headers={"Authorization": "OCX-Landlord " + statement},
        )
        response.raise_for_status()
        doc = response.json()
        for entry in doc["entries"]:
            try:
                self.book.add(await self.verify(str(entry["statement"])))
            except jws.JWSError as exc:  # never acted on; the rest of the feed still is
                log.warning("grant %s refused by %s: %s", entry.get("seq"), self.link.landlord, exc)
                self.refused.append(f"grant {entry.get('seq')}: {exc}")
        self.cursor = int(doc["next"])
        return len(doc["entries"])

    async def verify(self, statement: str) -> dict[str, Any]:
        """The claims of a grant signed by the exchange for this landlord; JWSError if not."""
        parsed = jws.split(statement, MAX_GRANT_BYTES)
        if str(parsed.header.get("kid")) not in self._keys:
            response = await self.http.get(self.link.exchange_url + "/.well-known/jwks.json")
            response.raise_for_status()
            self._keys = jws.keys_from_jwks(response.json())
        claims = jws.verify(parsed, self._keys, TYP_GRANT)
        if claims.get("aud") != self.link.landlord:
            raise jws.JWSError(
                f"the grant is for {claims.get('aud')!r}, not {self.link.landlord!r}"
            )
        return claims

    # --- running ------------------------------------------------------------------------

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"market-gate-{self.service_type}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            for close in self.closers:
                try:
                    await close()
                except Exception:
                    log.exception("market stop of %s", self.link.landlord)
        await self.http.aclose()

    async def _run(self) -> None:
        while True:
            await self.tick()
            await asyncio.sleep(self.link.feed_interval)

    async def tick(self) -> None:
        """One round: new grants, quotas brought to them, then each extra tick (metering)."""
        try:
            while await self.refresh() >= FEED_PAGE:
                pass
        except (httpx.HTTPError, jws.JWSError, ValueError, KeyError) as exc:
            # Before enrolment the exchange refuses the feed; keep trying quietly.
            log.debug("feed of %s at %s: %s", self.link.landlord, self.link.exchange, exc)
        await self.settle_all()
        for extra in self.ticks:
            try:
                await extra()
            except Exception:
                log.exception("market tick of %s", self.link.landlord)


def _federated(principal: Principal) -> bool:
    return "OS-FEDERATION" in principal.claims


def _ended(grant: Grant) -> str:
    if grant.kind == "lease":
        return f"Lease {grant.id} has ended ({grant.status}, grace over)"
    return f"Subscription {grant.id} is {grant.status}"
