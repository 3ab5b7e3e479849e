"""Creates that name no landlord, placed by the exchange's broker (``placement = "cheapest"``):
the pure ordering, and live with a real exchange whose catalogue prices the landlords."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from ocx.exchange.client import LandlordAgent, MarketClient, password_token
from ocx.proxy.openstack.broker import Order, ranked_landlords
from tests.conftest import ExchangeFactory
from tests.proxy.openstack_helpers import ALL, Cloud, make


def test_the_brokers_ranking_of_my_landlords() -> None:
    choice = {"ranked": [{"landlord": "stor"}, {"landlord": "elsewhere"}, {"landlord": "stor"},
                         {"landlord": "mit"}, {"name": "no landlord"}]}  # fmt: skip
    assert ranked_landlords(choice, ["harvard", "mit", "stor"]) == ("stor", "mit")
    assert ranked_landlords({}, ["harvard"]) == ()
    order = Order(("stor", "mit"), "cheapest")
    ranks = {"harvard": 0, "mit": 1, "stor": 2, "fpga": 3}
    assert sorted(ranks, key=lambda n: order.key(n, ranks[n])) == ["stor", "mit", "harvard", "fpga"]
    nothing = Order((), "home first")
    assert sorted(ranks, key=lambda n: nothing.key(n, ranks[n])) == list(ranks)


TOPOLOGY: dict[str, Any] = {
    "harvard": {
        "parts": [*ALL, "proxy"],
        "demo_users": ["alice"],
        "trusts": ["mit"],
        "options": {"proxy": {"placement": "cheapest"}},
        "market": {"exchange": "market"},
    },
    "mit": {"parts": ALL, "trusts": ["harvard"]},
    "stor": {"parts": ALL, "trusts": ["harvard"]},
    "market": {"parts": ["identity", "exchange"], "trusts": ["harvard"]},
}
PRICES = {"harvard": "0.0009", "mit": "0.0004", "stor": "0.0001"}


@pytest.fixture
def priced(exchange_factory: ExchangeFactory, tmp_path: Path) -> Cloud:
    """Every landlord sells compute and volumes at the exchange; stor the cheapest, then mit."""
    exchange = exchange_factory(TOPOLOGY)
    url = exchange.landlords["market"].base_urls["exchange"]
    with httpx.Client(timeout=60) as http:

        def admin(landlord: str) -> str:
            lord = exchange.landlords[landlord]
            return password_token(lord.auth_url, "admin", lord.admin_password, client=http)

        operator = MarketClient(url, admin("market"), http)
        for landlord, price in PRICES.items():
            lord = exchange.landlords[landlord]
            agent = LandlordAgent(landlord, lord.identity_url, admin(landlord), url, "market", http)
            operator.post("/v1/landlords", {"statement": agent.enrolment(f"{landlord} inc")})
            for version, (kind, path, metric) in enumerate(
                [("compute", "/v2.1", "vcpu_hours"), ("volume", "/v3", "volume.gib_hours")], 1
            ):
                agent.publish(version, name=f"{kind}-{landlord}", service_type=kind,
                              region="RegionOne", endpoint=lord.base_urls[kind] + path,
                              sla={"availability": "0.999"}, capabilities=[],
                              plans={"default": {"quotas": {}}},
                              prices=[{"metric": metric, "unit": "hour",
                                       "price": price}])  # fmt: skip
    return make(exchange, tmp_path)


@pytest.mark.slow  # a live three-landlord exchange: 70-115 s at load 16
def test_creates_without_a_zone_go_where_the_broker_says(priced: Cloud, tmp_path: Path) -> None:
    conn = priced.sdk()
    token = conn.auth_token
    made = priced.raw("POST", "/volume/v3/volumes", token, json={"volume": {"size": 1,
                      "name": "cheap"}})  # fmt: skip
    assert made.status_code == 202, made.text
    assert made.headers["X-OCX-Landlord"] == "stor"
    assert made.headers["X-OCX-Placement"] == "cheapest (broker: stor, mit, harvard)"
    shown = priced.cli("volume", "show", "cheap", "-f", "json")
    assert shown["availability_zone"] == "stor"
    # A server: the image is only at harvard, so every landlord has room; stor boots it with
    # an image delegation because the broker ranks stor first.
    disk = tmp_path / "disk.raw"
    disk.write_bytes(b"\x03" * 4096)
    priced.cli("image", "create", "base@harvard", "--file", str(disk), "--disk-format", "raw")
    priced.cli("server", "create", "--flavor", "m1.tiny", "--image", "base", "--wait", "vm")
    server = priced.cli("server", "show", "vm", "-f", "json")
    assert (server["OS-EXT-AZ:availability_zone"], server["status"]) == ("stor", "ACTIVE")
    # A zone named by the client still wins over the broker.
    priced.cli("volume", "create", "--size", "1", "--availability-zone", "harvard", "mine")
    assert priced.cli("volume", "show", "mine", "-f", "json")["availability_zone"] == "harvard"
