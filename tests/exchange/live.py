"""Test helpers for the landlord's side of the market, live: an exchange of landlords (one of
them, ``market``, running the exchange) seen as its users see it — clients from clouds.yaml's
entries, landlords' agents enrolled at the market, customers' market clients."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, TypeVar

import httpx
import openstack

from ocx import clouds
from ocx.common import serving
from ocx.common.market import Gate
from ocx.exchange.client import LandlordAgent, MarketClient, password_token
from ocx.landlord import build
from ocx.runner import Exchange, Running, wait_ready

T = TypeVar("T")


def until(what: Callable[[], T | None], timeout: float = 60.0) -> T:
    """``what()``'s first true answer (it is asked again every 0.2 s until ``timeout``)."""
    deadline = time.monotonic() + timeout
    while True:
        found = what()
        if found:
            return found
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


class World:
    def __init__(self, exchange: Exchange):
        self.exchange = exchange
        self.entries = clouds.entries(exchange)["clouds"]
        self.url = exchange.landlords["market"].base_urls["exchange"]

    def connect(self, name: str) -> openstack.connection.Connection:
        """openstacksdk on clouds.yaml's entry ``name``."""
        entry = self.entries[name]
        return openstack.connect(
            auth_type=entry["auth_type"], auth=entry["auth"], region_name=entry["region_name"]
        )

    def admin_token(self, landlord: str) -> str:
        lord = self.exchange.landlords[landlord]
        return password_token(lord.auth_url, "admin", lord.admin_password)

    def agent(self, landlord: str) -> LandlordAgent:
        """``landlord``'s agent, enrolled at the market (owner ``<landlord> inc``)."""
        lord = self.exchange.landlords[landlord]
        agent = LandlordAgent(
            landlord, lord.identity_url, self.admin_token(landlord), self.url, "market"
        )
        statement = agent.enrolment(f"{landlord} inc")
        MarketClient(self.url, self.admin_token("market")).post(
            "/v1/landlords", {"statement": statement}
        )
        return agent

    def probe(self, agent: LandlordAgent) -> tuple[httpx.Client, dict[str, Any]]:
        """Give ``agent`` a reader's application credential of its landlord's admin to check
        offerings with; an admin's client at the landlord, and the credential."""
        lord = self.exchange.landlords[agent.landlord]
        admin = self.admin_token(agent.landlord)
        http = httpx.Client(timeout=30.0, headers={"X-Auth-Token": admin})
        me = http.get(lord.auth_url + "/auth/tokens", headers={"X-Subject-Token": admin})
        user_id = me.json()["token"]["user"]["id"]
        made = http.post(
            f"{lord.auth_url}/users/{user_id}/application_credentials",
            json={
                "application_credential": {"name": "market-probe", "roles": [{"name": "reader"}]}
            },
        )
        assert made.status_code == 201, made.text
        credential: dict[str, Any] = made.json()["application_credential"]
        shown = agent.set_probe_credential(credential["id"], credential["secret"])
        assert shown["probe_credential"] == {"id": credential["id"]}  # the secret is never shown
        return http, credential

    def customer(self, cloud: str) -> MarketClient:
        return MarketClient(self.url, self.connect(cloud).auth_token)

    def gate(self, landlord: str, part: str) -> Gate:
        run = next(r for r in self.exchange.running if (r.landlord, r.part) == (landlord, part))
        gate = run.service.service.market_gate  # type: ignore[attr-defined]
        assert isinstance(gate, Gate)
        return gate

    def call(self, coro: Any) -> Any:
        return self.exchange.background.call(coro)  # type: ignore[attr-defined]

    def restart(self, landlord: str, part: str) -> None:
        """Stop ``part`` of ``landlord`` as its process does at SIGTERM (the server first,
        then the part), and start a new one on the same port, as the supervisor would."""
        self.call(self._restart(landlord, part))

    async def _restart(self, landlord: str, part: str) -> None:
        ex = self.exchange
        runs = ex.running
        index = next(i for i, r in enumerate(runs) if (r.landlord, r.part) == (landlord, part))
        old = runs[index]
        host, port = old.sock.getsockname()[:2]
        old.server.should_exit = True
        await ex._serving[index]
        await old.service.stop()
        old.sock.close()
        service = build(ex.landlords[landlord], part)
        await service.start()
        sock = serving.bind(host, port)
        server = ex._server(service.app)
        runs[index] = Running(landlord, part, old.url, service, server, sock)
        ex._serving[index] = asyncio.create_task(server.serve(sockets=[sock]))
        await wait_ready([old.url])
