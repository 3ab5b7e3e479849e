"""Brokers: pure policies over the catalogue (no network), and the API that serves them."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ocx.exchange.broker import Candidate, Need, choose
from ocx.exchange.client import MarketError
from tests.exchange.helpers import Market


def _c(
    name: str,
    owner: str,
    price: str,
    *,
    region: str = "east",
    caps: tuple[str, ...] = ("ssd",),
    promised: str | None = "0.999",
    measured: str | None = None,
    listed: bool = True,
) -> Candidate:
    return Candidate(
        offering_id=f"id-{name}",
        name=name,
        landlord=name,
        owner=owner,
        service_type="volume",
        region=region,
        capabilities=caps,
        prices={"volume.gib_hours": Decimal(price)},
        promised=None if promised is None else Decimal(promised),
        measured=None if measured is None else Decimal(measured),
        listed=listed,
    )


CATALOGUE = [
    _c("a", "acme", "0.0002"),
    _c("b", "acme", "0.0001"),
    _c("c", "blue", "0.0003", measured="0.9999"),
    _c("d", "cyan", "0.00005", region="west"),
    _c("e", "dusk", "0.00001", caps=()),
    _c("f", "fog", "0.00002", promised="0.9", measured="0.95"),
    _c("g", "gray", "0.00001", listed=False),
]


def test_cheapest_explains_ranks_and_exclusions() -> None:
    need = Need(
        "volume",
        amount=Decimal(100),
        hours=Decimal(720),
        regions=("east",),
        capabilities=("ssd",),
        sla_floor=Decimal("0.99"),
    )
    choice = choose(need, CATALOGUE)
    assert [r.candidate.name for r in choice.ranked] == ["b", "a", "c"]
    assert choice.chosen[0].cost == Decimal("7.200000")
    assert choice.chosen[0].reasons[0] == (
        "estimated 7.200000 for 100 x 720 h of volume.gib_hours at 0.0001"
    )
    assert "cheapest among the qualifying" in choice.chosen[0].reasons
    why = {e.candidate.name: e.reasons for e in choice.excluded}
    assert why["d"] == ("region west is not among east",)
    assert why["e"] == ("lacks ssd",)
    assert why["f"] == (
        "promised availability 0.9 is below the floor 0.99",
        "measured availability 0.95 is below the floor 0.99",
    )
    assert why["g"] == ("not listed (failed the conformance gate)",)


def test_max_price_and_most_available() -> None:
    need = Need(
        "volume",
        amount=Decimal(100),
        hours=Decimal(720),
        max_price=Decimal("10"),
        policy="most-available",
        regions=("east",),
    )
    choice = choose(need, CATALOGUE)
    # e and b promise the same availability: the cheaper first; f measured less
    assert [r.candidate.name for r in choice.ranked] == ["e", "b", "f"]
    assert next(e.reasons for e in choice.excluded if e.candidate.name == "c") == (
        "estimated 21.600000 is over the maximum 10",
    )


def test_k_of_n_distinct_owners() -> None:
    need = Need("volume", distinct_owners=3, regions=("east",), capabilities=("ssd",))
    choice = choose(need, CATALOGUE)
    assert [r.candidate.owner for r in choice.chosen] == ["fog", "acme", "blue"]
    assert choice.satisfied
    assert any("owner acme is already chosen" in n for n in choice.notes)
    four = choose(
        Need("volume", distinct_owners=4, regions=("east",), capabilities=("ssd",)), CATALOGUE
    )
    assert not four.satisfied
    assert four.summary == (
        "cheapest: only 3 of the 4 offerings with distinct owners that were asked for qualify"
    )


def test_non_colluding_asks_for_two_owners_at_least() -> None:
    choice = choose(
        Need("volume", policy="non-colluding", regions=("east",), capabilities=("ssd",)), CATALOGUE
    )
    owners = [r.candidate.owner for r in choice.chosen]
    assert len(owners) == 2 and len(set(owners)) == 2


def test_unknown_policy() -> None:
    with pytest.raises(ValueError, match="unknown policy 'random'"):
        choose(Need("volume", policy="random"), CATALOGUE)


def test_broker_over_the_live_catalogue(market: Market) -> None:
    for name, price in (("harvard", "0.0003"), ("mit", "0.0001"), ("stor", "0.0002")):
        market.swift_offering(
            market.enrol(name),
            prices=[{"metric": "object.gib_hours", "unit": "GiB-hour", "price": price}],
        )
    dave = market.customer("dave")
    answer = dave.post(
        "/v1/broker/choose",
        {"service_type": "object-store", "amount": "10", "hours": "24", "distinct_owners": 2},
    )
    assert [c["landlord"] for c in answer["chosen"]] == ["mit", "stor"]
    assert answer["chosen"][0]["estimated_cost"] == "0.024000"
    assert answer["satisfied"] is True
    with pytest.raises(MarketError) as err:
        dave.post("/v1/broker/choose", {"service_type": "object-store", "policy": "random"})
    assert err.value.status == 400
