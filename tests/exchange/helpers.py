"""Test helpers for the exchange: a running market over live landlords, and its parties."""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import update

from ocx.common.serving import ServingLimits, bind
from ocx.common.serving import server as make_server
from ocx.common.settings import VerifierSettings
from ocx.exchange.client import LandlordAgent, MarketClient, password_token
from ocx.exchange.models import Price, Subscription
from ocx.exchange.part import ExchangePart
from ocx.exchange.service import ExchangeService
from ocx.exchange.settings import ExchangeSettings
from ocx.runner import BackgroundExchange, Exchange

MARKET_TOPOLOGY: dict[str, Any] = {
    "harvard": {"parts": ["identity", "object"], "demo_users": ["alice"], "trusts": ["mit"]},
    "mit": {"parts": ["identity", "object"], "demo_users": ["carol"], "trusts": ["harvard"]},
    "stor": {"parts": ["identity", "object"], "trusts": ["harvard", "mit"]},
    "market": {"parts": ["identity"], "trusts": ["harvard", "mit"]},
}


def _last_month() -> tuple[str, float]:
    first = datetime.now(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    previous = (first - timedelta(days=1)).replace(day=2)
    return previous.strftime("%Y-%m"), previous.timestamp()


# Usage in tests happens in the previous month (so its invoice can be issued): tests call
# Market.backdate() first, which moves prices and contracts back as if made 60 days ago.
MONTH, T0 = _last_month()


@dataclass
class Market:
    landlords: Exchange
    background: BackgroundExchange
    service: ExchangeService
    url: str
    http: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=30.0))

    @property
    def _users(self) -> dict[str, str]:
        """Users made at the market's identity live as long as the landlords do."""
        users: dict[str, str] = self.landlords.__dict__.setdefault("market_users", {})
        return users

    @property
    def name(self) -> str:
        return "market"

    def call(self, coro: Any) -> Any:
        return self.background.call(coro)

    def admin_token(self, landlord: str = "market") -> str:
        lord = self.landlords.landlords[landlord]
        return password_token(lord.auth_url, "admin", lord.admin_password, client=self.http)

    def operator(self) -> MarketClient:
        return MarketClient(self.url, self.admin_token(), self.http)

    def agent(self, landlord: str) -> LandlordAgent:
        lord = self.landlords.landlords[landlord]
        return LandlordAgent(
            landlord, lord.identity_url, self.admin_token(landlord), self.url, "market", self.http
        )

    def enrol(self, landlord: str, owner: str | None = None) -> LandlordAgent:
        agent = self.agent(landlord)
        statement = agent.enrolment(owner or f"{landlord} inc", homepage=f"https://{landlord}")
        self.operator().post("/v1/landlords", {"statement": statement})
        return agent

    def customer(self, user: str) -> MarketClient:
        """A customer of the market's own identity (an 'outside user'), with a project."""
        token = password_token(
            self.landlords.landlords["market"].auth_url,
            user,
            self._ensure_user(user),
            project=f"{user}-project",
            client=self.http,
        )
        return MarketClient(self.url, token, self.http)

    def _ensure_user(self, user: str) -> str:
        if user in self._users:
            return self._users[user]
        password = secrets.token_urlsafe(12)
        lord = self.landlords.landlords["market"]
        headers = {"X-Auth-Token": self.admin_token()}
        base = lord.auth_url
        project = self.http.post(
            base + "/projects",
            json={"project": {"name": f"{user}-project", "domain_id": "default"}},
            headers=headers,
        ).json()["project"]
        created = self.http.post(
            base + "/users",
            json={"user": {"name": user, "password": password, "domain_id": "default"}},
            headers=headers,
        ).json()["user"]
        roles = self.http.get(base + "/roles", params={"name": "member"}, headers=headers)
        role_id = roles.json()["roles"][0]["id"]
        self.http.put(
            f"{base}/projects/{project['id']}/users/{created['id']}/roles/{role_id}",
            headers=headers,
        )
        self._users[user] = password
        return password

    def backdate(self, days: float = 60) -> None:
        """Move every price, subscription, offer and lease back in time (a test's time machine)."""
        self.call(_backdate(self.service, days * 86400))

    def object_endpoint(self, landlord: str) -> str:
        return self.landlords.landlords[landlord].base_urls["object"] + "/v1/AUTH_x"

    def swift_offering(
        self, agent: LandlordAgent, version: int = 1, **extra: Any
    ) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "name": "swift-standard",
            "service_type": "object-store",
            "region": "RegionOne",
            "endpoint": self.object_endpoint(agent.landlord),
            "sla": {"availability": "0.999", "durability": "0.99999999999", "support": "9-5"},
            "capabilities": ["slo", "tempurl"],
            "plans": {
                "default": {"quotas": {"gigabytes": 100}},
                "big": {"quotas": {"gigabytes": 1000}},
            },
            "prices": [
                {"metric": "object.gib_hours", "unit": "GiB-hour", "price": "0.0001"},
                {"metric": "requests", "unit": "request", "price": "0.000001"},
                {"metric": "gib_out", "unit": "GiB", "price": "0.05"},
            ],
        }
        doc.update(extra)
        return agent.publish(version, **doc)


def record(
    contract: str,
    rid: str,
    quantity: str = "10",
    metric: str = "object.gib_hours",
    unit: str = "GiB-hour",
    start: float = T0,
    hours: float = 1.0,
) -> dict[str, Any]:
    return {
        "record_id": rid,
        "contract_id": contract,
        "resource_id": "container-a",
        "metric": metric,
        "start": start,
        "end": start + 3600 * hours,
        "quantity": quantity,
        "unit": unit,
        "user_id": "u1",
    }


async def _backdate(service: ExchangeService, delta: float) -> None:
    async with service.db.session() as session:
        await session.execute(update(Price).values(valid_from=Price.valid_from - delta))
        await session.execute(
            update(Price)
            .where(Price.valid_until.is_not(None))
            .values(valid_until=Price.valid_until - delta)
        )
        await session.execute(
            update(Subscription).values(created_at=Subscription.created_at - delta)
        )


async def start_market(landlords: Exchange, database_url: str) -> tuple[ExchangeService, Any]:
    lord = landlords.landlords["market"]
    sock = bind("127.0.0.1", 0)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    settings = ExchangeSettings(
        landlord="market",
        public_url=url,
        database_url=database_url,
        verifier=VerifierSettings(identity_url=lord.identity_url, audience="market"),
        lease_warning=3600.0,
    )
    part = ExchangePart(ExchangeService(settings))
    await part.start()
    server = make_server(part.app, ServingLimits())
    task = asyncio.create_task(server.serve(sockets=[sock]))
    async with httpx.AsyncClient() as client:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if (await client.get(url + "/healthz")).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.05)

    async def stop() -> None:
        server.should_exit = True
        await task
        await part.stop()
        sock.close()

    return part.service, (url, stop)
