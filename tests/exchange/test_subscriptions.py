"""Subscriptions, signed grants in the landlord's feed, and who may read it."""

from __future__ import annotations

import pytest

from ocx.common import jws
from ocx.exchange import signing
from ocx.exchange.client import MarketError
from tests.exchange.helpers import Market


def test_subscribe_feed_cancel(market: Market) -> None:
    stor = market.enrol("stor")
    offering = market.swift_offering(stor)
    carol = market.customer("carol")
    sub = carol.post("/v1/subscriptions", {"offering_id": offering["id"], "plan": "big"})
    sub = sub["subscription"]
    assert (sub["status"], sub["plan"], sub["landlord"]) == ("active", "big", "stor")
    grants, cursor = stor.feed()
    assert [(g["kind"], g["id"], g["status"]) for g in grants] == [
        ("subscription", sub["id"], "active")
    ]
    assert grants[0]["quotas"] == {"gigabytes": 1000}
    assert grants[0]["customer_name"] == "carol-project"
    with pytest.raises(MarketError) as err:
        carol.post("/v1/subscriptions", {"offering_id": offering["id"]})
    assert err.value.status == 409
    assert err.value.message.startswith("You already hold subscription")
    gone = carol.delete(f"/v1/subscriptions/{sub['id']}")["subscription"]
    assert gone["status"] == "cancelled"
    assert "kept, and billed, until you delete it" in gone["note"]
    grants, _ = stor.feed(cursor)
    assert [(g["id"], g["status"]) for g in grants] == [(sub["id"], "cancelled")]
    events = carol.get("/v1/events")["events"]
    assert events[-1]["kind"] == "subscription.cancelled"
    with pytest.raises(MarketError) as err:
        carol.delete(f"/v1/subscriptions/{sub['id']}")
    assert err.value.status == 409


def test_others_subscriptions_are_invisible(market: Market) -> None:
    stor = market.enrol("stor")
    offering = market.swift_offering(stor)
    sub = market.customer("carol").post("/v1/subscriptions", {"offering_id": offering["id"]})
    sub_id = sub["subscription"]["id"]
    dave = market.customer("dave")
    with pytest.raises(MarketError) as err:
        dave.delete(f"/v1/subscriptions/{sub_id}")
    assert err.value.status == 404
    assert dave.get("/v1/subscriptions")["subscriptions"] == []


def test_no_token_no_subscription(market: Market) -> None:
    with pytest.raises(MarketError) as err:
        market.customer("dave").__class__(market.url).post(
            "/v1/subscriptions", {"offering_id": "x"}
        )
    assert err.value.status == 401


def test_unknown_plan_and_delisted_offering(market: Market) -> None:
    stor = market.enrol("stor")
    good = market.swift_offering(stor)
    bad = market.swift_offering(stor, name="dead", endpoint="http://127.0.0.1:9/v1")
    carol = market.customer("carol")
    with pytest.raises(MarketError) as err:
        carol.post("/v1/subscriptions", {"offering_id": good["id"], "plan": "gold"})
    assert (err.value.status, err.value.message) == (
        400,
        "Offering 'swift-standard' has no plan 'gold'; plans: default, big.",
    )
    with pytest.raises(MarketError) as err:
        carol.post("/v1/subscriptions", {"offering_id": bad["id"]})
    assert err.value.status == 409
    assert "is delisted" in err.value.message


def test_feed_needs_the_landlords_own_signature(market: Market) -> None:
    stor = market.enrol("stor")
    mit = market.enrol("mit")
    url = f"{market.url}/v1/landlords/stor/feed"
    assert market.http.get(url).status_code == 401
    # mit's signed request does not open stor's feed
    headers = mit._request_header()
    answer = market.http.get(url, headers=headers)
    assert answer.status_code == 403
    assert answer.json()["error"]["message"] == "mit may not read the feed of stor."
    # an expired request
    expired = stor.sign(signing.TYP_REQUEST, {"exp": 1})
    answer = market.http.get(url, headers={"Authorization": "OCX-Landlord " + expired})
    assert answer.status_code == 401
    assert stor.feed()[0] == []


def test_landlord_refuses_a_forged_grant(market: Market) -> None:
    stor = market.enrol("stor")
    offering = market.swift_offering(stor)
    market.customer("carol").post("/v1/subscriptions", {"offering_id": offering["id"]})
    answer = market.http.get(
        f"{market.url}/v1/landlords/stor/feed", headers=stor._request_header()
    ).json()
    statement = answer["entries"][0]["statement"]
    header, payload, sig = statement.split(".")
    text = jws.b64url_decode(payload).decode().replace('"gigabytes":100', '"gigabytes":999999')
    forged = ".".join([header, jws.b64url(text.encode()), sig])
    with pytest.raises(jws.JWSError, match="token signature is invalid"):
        stor.verify_grant(forged)
    # and a grant addressed to another landlord is refused too
    mit = market.enrol("mit")
    with pytest.raises(jws.JWSError, match="the grant is for 'stor', not 'mit'"):
        mit.verify_grant(statement)
