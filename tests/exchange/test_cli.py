"""``ocx market …`` against a live default-shaped exchange (the runner starts the market part),
with customers who come from harvard and mit through K2K."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ocx import clouds
from ocx.cli import app
from ocx.runner import Exchange
from tests.conftest import ExchangeFactory

TOPOLOGY: dict[str, Any] = {
    "harvard": {"parts": ["identity", "object"], "demo_users": ["alice"], "trusts": ["mit"]},
    "mit": {"parts": ["identity", "object"], "demo_users": ["carol"], "trusts": ["harvard"]},
    "stor": {"parts": ["identity", "object"], "trusts": ["harvard", "mit"]},
    "market": {"parts": ["identity", "exchange"], "trusts": ["harvard", "mit"]},
}


class Ocx:
    def __init__(self, config: Path):
        self.config = config
        self.runner = CliRunner()

    def __call__(self, *args: str, cloud: str = "carol-market-k2k", ok: bool = True) -> str:
        argv = ["market", "--cloud", cloud, "--clouds-file", str(self.config), *args]
        result = self.runner.invoke(app, argv, catch_exceptions=False)
        if ok:
            assert result.exit_code == 0, result.output
        else:
            assert result.exit_code == 1, result.output
        return result.output


@pytest.fixture
def live(exchange_factory: ExchangeFactory, tmp_path: Path) -> tuple[Exchange, Ocx]:
    exchange = exchange_factory(TOPOLOGY)
    return exchange, Ocx(clouds.write(exchange, tmp_path / "clouds.yaml"))


def test_market_from_the_command_line(live: tuple[Exchange, Ocx], tmp_path: Path) -> None:
    exchange, ocx = live
    out = ocx(
        "landlord", "enrol", "--landlord-cloud", "stor", "--owner", "Stor Ltd", cloud="market"
    )
    assert "enrolled: stor (owner Stor Ltd)" in out
    refused = ocx("landlord", "enrol", "--landlord-cloud", "mit", "--owner", "MIT", ok=False)
    assert "Only the exchange's operator may do that. (403)" in refused
    offering = {
        "name": "swift-cheap",
        "service_type": "object-store",
        "endpoint": exchange.landlords["stor"].base_urls["object"] + "/v1",
        "sla": {"availability": "0.995"},
        "capabilities": ["slo"],
        "plans": {"default": {"quotas": {"gigabytes": 50}}},
        "prices": [{"metric": "object.gib_hours", "unit": "GiB-hour", "price": "0.00005"}],
    }
    path = tmp_path / "offering.json"
    path.write_text(json.dumps(offering))
    out = ocx("landlord", "publish", "--landlord-cloud", "stor", str(path), cloud="market")
    assert "listed (Swift answers /info)" in out
    out = ocx("offerings", "--sort", "price")
    assert "swift-cheap" in out and "Stor Ltd" in out and "0.00005/GiB-hour" in out
    out = ocx("subscribe", "swift-cheap")
    assert "subscribed: sub-" in out
    sub_id = out.split("subscribed: ")[1].split()[0]
    assert sub_id in ocx("subscriptions")
    out = ocx("landlord", "feed", "--landlord-cloud", "stor", cloud="market")
    assert sub_id in out and "mit-carol" in out and "active" in out
    now = time.time()
    records = [
        {
            "record_id": "r1",
            "contract_id": sub_id,
            "resource_id": "photos",
            "metric": "object.gib_hours",
            "start": now,
            "end": now + 1,
            "quantity": "1000",
            "unit": "GiB-hour",
        }
    ]
    batch = tmp_path / "usage.json"
    batch.write_text(json.dumps(records))
    out = ocx("landlord", "usage", "--landlord-cloud", "stor", str(batch), cloud="market")
    assert "accepted 1, duplicates 0" in out
    period = time.strftime("%Y-%m", time.gmtime(now))
    out = ocx("invoice", "--period", period)
    assert "total: 0.05 USD from stor" in out
    csv_text = ocx("invoice", "--period", period, "--format", "csv")
    assert csv_text.splitlines()[0].startswith("BillingAccountId,")
    out = ocx("broker", "choose", "--type", "object-store", "--explain", "--amount", "10")
    assert "cheapest: chose swift-cheap at stor" in out
    out = ocx("budget", "--set", "10.00", "--refuse-over")
    assert "spent 0.05 of 10.00 (new use refused over the cap)" in out
    out = ocx("cancel", sub_id)
    assert "kept, and billed, until you delete it" in out
    # alice, from harvard, sees the catalogue but not carol's subscriptions
    assert "swift-cheap" in ocx("offerings", cloud="alice-market-k2k")
    assert sub_id not in ocx("subscriptions", cloud="alice-market-k2k")
