"""Parties and offerings: signed enrolment, signed offerings, price history, the gate."""

from __future__ import annotations

import json
import time

import pytest

from ocx.common import jws
from ocx.exchange import signing
from ocx.exchange.client import MarketError
from tests.exchange.helpers import Market


def test_enrol_publish_list(market: Market) -> None:
    harvard = market.enrol("harvard", owner="President and Fellows of Harvard College")
    landlords = market.customer("dave").get("/v1/landlords")["landlords"]
    assert [x["name"] for x in landlords] == ["harvard"]
    assert landlords[0]["owner"] == "President and Fellows of Harvard College"
    offering = market.swift_offering(harvard)
    assert offering["status"] == "listed", offering["status_reason"]
    assert offering["owner"] == "President and Fellows of Harvard College"
    assert offering["capabilities_checked"] == ["slo", "tempurl"]
    assert offering["measured_availability"] == "1.0000"
    assert {p["metric"]: p["price"] for p in offering["prices"]}["gib_out"] == "0.05"
    found = market.customer("dave").get("/v1/offerings", service_type="object-store")
    assert [o["id"] for o in found["offerings"]] == [offering["id"]]


def test_enrolment_needs_the_operator(market: Market) -> None:
    statement = market.agent("harvard").enrolment("harvard")
    with pytest.raises(MarketError) as err:
        market.customer("dave").post("/v1/landlords", {"statement": statement})
    assert err.value.status == 403
    assert err.value.message == "Only the exchange's operator may do that."


def test_enrolment_signed_by_another_identity_is_refused(market: Market) -> None:
    """mit signs a self-description claiming harvard's identity: it cannot verify there."""
    mit = market.agent("mit")
    claims = {"owner": "x", "aud": "market"}
    forged = mit.sign(signing.TYP_ENROL, claims)
    header, _payload, sig = forged.split(".")
    doc = signing.unverified_claims(forged)
    doc["iss"] = market.landlords.landlords["harvard"].identity_url
    doc["landlord"] = "harvard"
    tampered = ".".join([header, jws.b64url(json.dumps(doc).encode()), sig])
    with pytest.raises(MarketError) as err:
        market.operator().post("/v1/landlords", {"statement": tampered})
    assert err.value.status == 403
    assert "signature of the statement does not verify" in err.value.message


def test_tampered_price_is_refused(market: Market) -> None:
    harvard = market.enrol("harvard")
    statement = harvard.sign(
        signing.TYP_OFFERING,
        {
            "version": 1,
            "offering": {
                "name": "s",
                "service_type": "object-store",
                "endpoint": market.object_endpoint("harvard"),
                "prices": [{"metric": "object.gib_hours", "unit": "GiB-hour", "price": "0.10"}],
            },
        },
    )
    header, payload, sig = statement.split(".")
    text = jws.b64url_decode(payload).decode().replace('"0.10"', '"0.01"')
    tampered = ".".join([header, jws.b64url(text.encode()), sig])
    with pytest.raises(MarketError) as err:
        market.operator().post("/v1/offerings", {"statement": tampered})
    assert err.value.status == 403
    assert err.value.message == (
        "The signature of the statement does not verify: token signature is invalid."
    )


def test_offering_of_an_unenrolled_landlord_is_refused(market: Market) -> None:
    with pytest.raises(MarketError) as err:
        market.swift_offering(market.agent("stor"))
    assert err.value.status == 403
    assert err.value.message == "Landlord 'stor' is not enrolled at this exchange."


def test_statement_for_another_exchange_is_refused(market: Market) -> None:
    market.enrol("harvard")
    agent = market.agent("harvard")
    agent.exchange_name = "elsewhere"
    with pytest.raises(MarketError) as err:
        market.swift_offering(agent)
    assert err.value.status == 403
    assert "addressed to 'elsewhere'" in err.value.message


def test_a_grant_type_cannot_pass_as_an_offering(market: Market) -> None:
    harvard = market.enrol("harvard")
    statement = harvard.sign(signing.TYP_USAGE, {"version": 1, "offering": {}})
    with pytest.raises(MarketError) as err:
        market.operator().post("/v1/offerings", {"statement": statement})
    assert err.value.status == 403
    assert "'ocx-market-usage+jwt' token is not accepted here" in err.value.message


def test_identity_signs_only_market_statements(market: Market) -> None:
    harvard = market.agent("harvard")
    with pytest.raises(MarketError) as err:
        harvard.sign(jws.TYP_TOKEN, {"sub": "admin"})
    assert err.value.status == 400
    assert err.value.message.startswith("Only marketplace statements")


def test_price_change_keeps_history_and_replay_is_refused(market: Market) -> None:
    harvard = market.enrol("harvard")
    first = market.swift_offering(harvard)
    later = time.time() + 3600
    market.swift_offering(
        harvard,
        version=2,
        effective_from=later,
        prices=[{"metric": "object.gib_hours", "unit": "GiB-hour", "price": "0.0002"}],
    )
    history = market.customer("dave").get(f"/v1/offerings/{first['id']}/prices")["prices"]
    gib = [p for p in history if p["metric"] == "object.gib_hours"]
    assert [(p["price"], p["valid_until"] is None) for p in gib] == [
        ("0.0001", False),
        ("0.0002", True),
    ]
    now = market.customer("dave").get(f"/v1/offerings/{first['id']}")["offering"]
    assert {p["metric"]: p["price"] for p in now["prices"]}["object.gib_hours"] == "0.0001"
    with pytest.raises(MarketError) as err:
        market.swift_offering(harvard, version=2)
    assert err.value.status == 409
    assert "a statement must carry a newer version (got 2)" in err.value.message
    with pytest.raises(MarketError) as err:
        market.swift_offering(harvard, version=3, effective_from=time.time() - 86400)
    assert err.value.status == 400
    assert err.value.message == "Prices cannot take effect in the past (effective_from)."


def test_conformance_gate_delists_with_a_reason(market: Market) -> None:
    harvard = market.enrol("harvard")
    dead = market.swift_offering(harvard, name="gone", endpoint="http://127.0.0.1:9/v1/AUTH_x")
    assert dead["status"] == "delisted"
    assert dead["status_reason"].startswith("http://127.0.0.1:9/info did not answer")
    fpga = market.swift_offering(harvard, name="fake", capabilities=["versioned_writes"])
    assert fpga["status"] == "delisted"
    assert fpga["status_reason"] == "claimed capabilities not offered: versioned_writes"
    listed = market.customer("dave").get("/v1/offerings")["offerings"]
    assert listed == []
    everything = market.customer("dave").get("/v1/offerings", status="all")["offerings"]
    assert {o["name"] for o in everything} == {"gone", "fake"}


def test_filters_and_sorting(market: Market) -> None:
    for name in ("harvard", "mit", "stor"):
        agent = market.enrol(name)
        price = {"harvard": "0.0003", "mit": "0.0001", "stor": "0.0002"}[name]
        caps = ["slo"] if name != "mit" else ["slo", "tempurl"]
        market.swift_offering(
            agent,
            capabilities=caps,
            region="east" if name == "stor" else "RegionOne",
            prices=[{"metric": "object.gib_hours", "unit": "GiB-hour", "price": price}],
        )
    dave = market.customer("dave")
    by_price = dave.get("/v1/offerings", sort="price")["offerings"]
    assert [o["landlord"] for o in by_price] == ["mit", "stor", "harvard"]
    tempurl = dave.get("/v1/offerings", capability="tempurl")["offerings"]
    assert [o["landlord"] for o in tempurl] == ["mit"]
    east = dave.get("/v1/offerings", region="east")["offerings"]
    assert [o["landlord"] for o in east] == ["stor"]
    cheap = dave.get("/v1/offerings", max_price="0.0002", sort="price")["offerings"]
    assert [o["landlord"] for o in cheap] == ["mit", "stor"]
    page = dave.get("/v1/offerings", limit=2)
    assert page["next_offset"] == 2
    with pytest.raises(MarketError) as err:
        dave.get("/v1/offerings", sort="colour")
    assert err.value.status == 400
    assert err.value.message == "sort must be one of name, price, availability."
