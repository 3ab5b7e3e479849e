"""The exchange service: database, keys, token verifier, and its periodic work.

Every method here is what the API and the CLI call; each runs in one transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select

from ocx.common import errors, outbound
from ocx.common.auth import TokenVerifier
from ocx.common.db import Database, schema_name
from ocx.exchange import (
    conformance,
    leases,
    offerings,
    parties,
    signing,
    subscriptions,
    usage,
)
from ocx.exchange.models import Landlord, Lease, Offer, Offering, Subscription
from ocx.exchange.settings import ExchangeSettings
from ocx.exchange.signing import LandlordKeys, MarketSigner

log = logging.getLogger("ocx.exchange")

MIGRATIONS = "ocx.exchange:migrations"
PROBES_IN_FLIGHT = 4


class ExchangeService:
    def __init__(self, settings: ExchangeSettings, db: Database | None = None):
        self.settings = settings
        self.audience = settings.landlord
        self.db = db or Database(
            settings.database_url, schema=schema_name(settings.landlord, "exchange")
        )
        v = settings.verifier
        self.verifier = TokenVerifier(
            identity_url=v.identity_url,
            issuer=v.identity_url,
            audience=v.audience,
            revocation_interval=v.revocation_interval,
        )
        self.http = outbound.async_client(timeout=10.0)
        self.landlord_keys = LandlordKeys(self.http)
        self.signer: MarketSigner | None = None
        self._tasks: list[asyncio.Task[None]] = []
        # Claims check capacity then write: one at a time in this process (SQLite); on
        # PostgreSQL the offer row is also locked FOR UPDATE, for several processes.
        self._lease_lock = asyncio.Lock()

    async def start(self) -> None:
        await self.db.migrate(MIGRATIONS, "alembic_version_exchange")
        self.signer = await signing.load_signer(self.db, self.settings.public_url)
        self._tasks = [
            asyncio.create_task(self._every("probe_interval", self.probe_all)),
            asyncio.create_task(self._every("lease_interval", self.tick_leases)),
        ]
        log.info("exchange %s ready at %s", self.settings.landlord, self.settings.public_url)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.verifier.aclose()
        await self.http.aclose()
        await self.db.dispose()

    async def _every(self, interval: str, work: Callable[[], Awaitable[Any]]) -> None:
        """Run ``work`` every ``settings.<interval>`` seconds (read anew every second)."""
        last = time.monotonic()
        while True:
            await asyncio.sleep(min(1.0, getattr(self.settings, interval)))
            if time.monotonic() - last < getattr(self.settings, interval):
                continue
            last = time.monotonic()
            try:
                await work()
            except Exception:
                log.exception("periodic exchange work failed; trying again later")

    @property
    def market(self) -> MarketSigner:
        assert self.signer is not None, "the exchange has not started"
        return self.signer

    # --- parties -------------------------------------------------------------------------

    async def enrol(self, statement: str) -> Landlord:
        claims = signing.unverified_claims(statement)
        enrolment = parties.parse_enrolment(claims, self.audience)
        keys = await self.landlord_keys.fetch(enrolment.identity_url)
        signing.verify_with(keys, statement, signing.TYP_ENROL)
        async with self.db.session() as session:
            return await parties.enrol(session, enrolment, statement)

    async def verified(self, statement: str, typ: str) -> tuple[Landlord, dict[str, Any]]:
        """The enrolled landlord that signed ``statement``, and its verified claims."""
        claims = signing.unverified_claims(statement)
        name = claims.get("landlord")
        if not isinstance(name, str):
            raise errors.BadRequest("The statement names no landlord.")
        async with self.db.session() as session:
            landlord = await session.get(Landlord, name)
        if landlord is None:
            raise errors.Forbidden(f"Landlord {name!r} is not enrolled at this exchange.")
        claims = await self.landlord_keys.verify(landlord.identity_url, statement, typ)
        if claims.get("iss", "").rstrip("/") != landlord.identity_url:
            raise errors.Forbidden("The statement was signed by another identity service.")
        parties.check_audience(claims, self.audience)
        return landlord, claims

    async def landlord_request(self, authorization: str | None, landlord: str) -> None:
        """Check a landlord's signed request (``Authorization: OCX-Landlord <jws>``)."""
        scheme, _, statement = (authorization or "").partition(" ")
        if scheme != "OCX-Landlord" or not statement:
            raise errors.Unauthorized(
                "A landlord reads its feed with 'Authorization: OCX-Landlord <signed request>'."
            )
        signer, claims = await self.verified(statement.strip(), signing.TYP_REQUEST)
        if signer.name != landlord:
            raise errors.Forbidden(f"{signer.name} may not read the feed of {landlord}.")
        exp = claims.get("exp")
        now = time.time()
        if not isinstance(exp, int | float) or not now < exp <= now + self.settings.request_ttl:
            raise errors.Unauthorized("The signed request has expired or lives too long.")

    # --- offerings -----------------------------------------------------------------------

    async def publish(self, statement: str) -> Offering:
        landlord, claims = await self.verified(statement, signing.TYP_OFFERING)
        now = time.time()
        spec = offerings.parse_offering(claims, now)
        async with self.db.session() as session:
            row = await offerings.publish(session, landlord, spec, statement, now)
        await self.check_offering(row.id)
        async with self.db.session() as session:
            return await offerings.get(session, row.id)

    async def check_offering(self, offering_id: str) -> conformance.Verdict:
        async with self.db.session() as session:
            row = await offerings.get(session, offering_id)
            landlord = await parties.get(session, row.landlord)
        verdict = await conformance.check(
            self.http, landlord.identity_url, row, landlord.probe_credential
        )
        async with self.db.session() as session:
            row = await offerings.get(session, offering_id)
            conformance.apply(row, verdict, time.time())
        return verdict

    async def probe_all(self) -> None:
        """Check every offering, a few at a time, so probing never starves the API."""
        async with self.db.session() as session:
            ids = list(await session.scalars(select(Offering.id)))
        gate = asyncio.Semaphore(PROBES_IN_FLIGHT)

        async def one(offering_id: str) -> None:
            async with gate:
                try:
                    await self.check_offering(offering_id)
                except Exception:  # one broken offering must not stop the round
                    log.exception("checking offering %s failed", offering_id)

        await asyncio.gather(*(one(i) for i in ids))

    # --- subscriptions -------------------------------------------------------------------

    async def subscribe(
        self, customer: subscriptions.Customer, offering_id: str, plan: str
    ) -> Subscription:
        async with self.db.session() as session:
            offering = await offerings.get(session, offering_id)
            return await subscriptions.subscribe(session, self.market, customer, offering, plan)

    async def cancel(self, customer: str, sub_id: str) -> Subscription:
        async with self.db.session() as session:
            sub = await subscriptions.get_own(session, customer, sub_id)
            return await subscriptions.cancel(session, self.market, sub)

    # --- usage ---------------------------------------------------------------------------

    async def ingest(self, statement: str) -> usage.Ingested:
        landlord, claims = await self.verified(statement, signing.TYP_USAGE)
        async with self.db.session() as session:
            result = await usage.ingest(session, landlord.name, claims.get("records"))
            for customer in result.over_budget:
                await self._suspend(session, customer)
        return result

    async def _suspend(self, session: Any, customer: str) -> None:
        query = select(Subscription.landlord).where(
            Subscription.customer == customer, Subscription.status == subscriptions.ACTIVE
        )
        for landlord in sorted(set(await session.scalars(query))):
            subscriptions.append_feed(
                session,
                self.market,
                landlord,
                "budget",
                customer,
                {"customer": customer, "status": "suspended", "reason": "over budget"},
            )

    # --- leases --------------------------------------------------------------------------

    async def tick_leases(self) -> None:
        async with self.db.session() as session:
            await leases.tick(session, self.market, time.time(), self.settings.lease_warning)

    async def add_offer(self, statement: str) -> Offer:
        landlord, claims = await self.verified(statement, signing.TYP_OFFER)
        spec = leases.parse_offer(claims, time.time())
        async with self.db.session() as session:
            return await leases.add_offer(session, landlord.name, spec, statement)

    async def claim(
        self,
        customer: subscriptions.Customer,
        offer_id: str,
        amounts: object,
        start: float | None,
        end: float | None,
    ) -> Lease:
        async with self._lease_lock, self.db.session() as session:
            return await leases.claim(session, self.market, customer, offer_id, amounts, start, end)

    async def extend(self, customer: str, lease_id: str, end: float) -> Lease:
        async with self._lease_lock, self.db.session() as session:
            return await leases.extend(session, self.market, customer, lease_id, end)

    async def sublease(self, customer: str, lease_id: str, doc: dict[str, Any]) -> Offer:
        async with self._lease_lock, self.db.session() as session:
            return await leases.sublease_offer(session, customer, lease_id, doc)

    async def end_lease(self, customer: str, lease_id: str) -> Lease:
        async with self._lease_lock, self.db.session() as session:
            return await leases.cancel(session, self.market, customer, lease_id)
