"""Providers chosen from the exchange's live catalogue: landlords enrol with their owners
and publish signed object-store offerings; ``ocx vault init --exchange`` takes n of n
distinct owners, cheapest first, and never two stores of one owner."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from ocx.cli import app
from ocx.exchange.client import LandlordAgent, MarketClient, password_token
from ocx.vault import config as vault_config
from ocx.vault.providers import Constraints, ExchangeOfferings, choose
from tests.vault.conftest import world_of
from tests.vault.helpers import LANDLORDS, World

OWNERS = {"harvard": "Harvard", "mit": "MIT", "stor": "Stor Inc", "vast": "Stor Inc"}
PRICES = {"harvard": "0.0003", "mit": "0.0001", "stor": "0.0002", "vast": "0.00015"}


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[World, str]]:
    landlords = {**LANDLORDS, "market": {"parts": ["identity", "exchange"], "trusts": ["harvard"]}}
    for world in world_of(tmp_path_factory.mktemp("market"), landlords):
        exchange = world.exchange
        url = exchange.landlords["market"].base_urls["exchange"]
        with httpx.Client(timeout=30) as http:
            operator = MarketClient(url, _admin(world, "market", http), http)
            for name, owner in OWNERS.items():
                lord = exchange.landlords[name]
                agent = LandlordAgent(
                    name, lord.identity_url, _admin(world, name, http), url, "market", http
                )
                operator.post("/v1/landlords", {"statement": agent.enrolment(owner)})
                agent.publish(1, **_swift(world, name))
        yield world, url


def _admin(world: World, name: str, http: httpx.Client) -> str:
    lord = world.exchange.landlords[name]
    return password_token(lord.auth_url, "admin", lord.admin_password, client=http)


def _swift(world: World, name: str) -> dict[str, object]:
    return {
        "name": "swift",
        "service_type": "object-store",
        "region": "RegionOne",
        "endpoint": world.exchange.landlords[name].base_urls["object"] + "/v1/AUTH_x",
        "sla": {"availability": "0.999"},
        "capabilities": [],
        "plans": {"default": {"quotas": {"gigabytes": 100}}},
        "prices": [{"metric": "object.gib_hours", "unit": "GiB-hour", "price": PRICES[name]}],
    }


def test_catalogue_choice_of_distinct_owners(market: tuple[World, str]) -> None:
    world, url = market
    offers = ExchangeOfferings(url, world.clouds_file, "alice", "harvard").object_stores()
    assert {o.landlord: o.owner for o in offers} == OWNERS
    choice = choose(offers, 3, Constraints())
    assert [o.landlord for o in choice.chosen] == ["mit", "vast", "harvard"]
    assert any("skipped" in r and "(stor)" in r and "Stor Inc" in r for r in choice.reasons)
    cheap = choose(offers, 2, Constraints(max_price=0.00018))
    assert [o.landlord for o in cheap.chosen] == ["mit", "vast"]


def test_init_from_the_exchange_then_round_trip(
    market: tuple[World, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world, url = market
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(world.clouds_file))
    monkeypatch.setenv("OCX_VAULT", str(tmp_path / "vault.json"))
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    done = runner.invoke(app, ["vault", "init", "--k", "2", "--n", "3", "--exchange", url])
    assert done.exit_code == 0, done.output
    cfg = vault_config.load(tmp_path / "vault.json")
    assert [(p.landlord, p.owner) for p in cfg.providers] == [
        ("mit", "MIT"),
        ("vast", "Stor Inc"),
        ("harvard", "Harvard"),
    ]
    (tmp_path / "f.txt").write_bytes(b"chosen by the market")
    assert runner.invoke(app, ["vault", "put", "f.txt"]).exit_code == 0
    done = runner.invoke(app, ["vault", "get", "f.txt", "-"])
    assert done.exit_code == 0 and "chosen by the market" in done.output
    # stor's owner already holds a share (at vast): a repair must go elsewhere.
    done = runner.invoke(app, ["vault", "repair", "mit", "--to", "stor", "--exchange", url])
    assert done.exit_code == 1 and "owner Stor Inc excluded" in done.output
