"""Offers and leases: claim, capacity, extend, sub-lease, warnings, expiry."""

from __future__ import annotations

import time
from typing import Any

import pytest

from ocx.exchange.client import LandlordAgent, MarketError
from tests.exchange.helpers import Market

HOUR = 3600.0


def _offer(agent: LandlordAgent, **extra: Any) -> dict[str, Any]:
    now = time.time()
    doc: dict[str, Any] = {
        "name": "spare-compute",
        "resource_type": "compute",
        "capacity": {"vcpus": 64, "ram_gib": 256},
        "prices": {"vcpu_hours": "0.02", "ram_gib_hours": "0.005"},
        "start": now - 60,
        "end": now + 10 * 86400,
        "grace_seconds": 600,
    }
    doc.update(extra)
    return agent.offer(**doc)


def test_claim_within_capacity_and_why_not(market: Market) -> None:
    harvard = market.enrol("harvard")
    offer = _offer(harvard)
    alice, dave = market.customer("alice"), market.customer("dave")
    lease = alice.post("/v1/leases", {"offer_id": offer["id"], "amounts": {"vcpus": 48}})
    lease = lease["lease"]
    assert (lease["status"], lease["amounts"], lease["landlord"]) == (
        "active",
        {"vcpus": 48},
        "harvard",
    )
    assert market.customer("dave").get(f"/v1/offers/{offer['id']}")["offer"]["free"] == {
        "vcpus": 16,
        "ram_gib": 256,
    }
    with pytest.raises(MarketError) as err:
        dave.post("/v1/leases", {"offer_id": offer["id"], "amounts": {"vcpus": 32}})
    assert err.value.status == 409
    assert err.value.message == (
        f"Not enough vcpus in offer {offer['id']} for that window: 32 asked, 16 free of 64 "
        "(the rest is leased)."
    )
    # a window after alice's lease ends has room
    later = dave.post(
        "/v1/leases",
        {
            "offer_id": offer["id"],
            "amounts": {"vcpus": 32},
            "start": lease["end"],
            "end": lease["end"] + HOUR,
        },
    )["lease"]
    assert later["status"] == "created"
    grants, _ = harvard.feed()
    assert [g["id"] for g in grants] == [lease["id"], later["id"]]
    assert grants[0]["amounts"] == {"vcpus": 48}
    assert (grants[0]["expiry_action"], grants[0]["grace_seconds"]) == ("stop", 600)
    with pytest.raises(MarketError) as err:
        dave.post("/v1/leases", {"offer_id": offer["id"], "amounts": {"gpus": 1}})
    assert err.value.status == 400
    assert "has no gpus" in err.value.message


def test_extend_without_an_administrator(market: Market) -> None:
    harvard = market.enrol("harvard")
    offer = _offer(harvard)
    alice = market.customer("alice")
    now = time.time()
    lease = alice.post(
        "/v1/leases", {"offer_id": offer["id"], "amounts": {"vcpus": 8}, "end": now + HOUR}
    )["lease"]
    longer = alice.patch(f"/v1/leases/{lease['id']}", {"end": now + 5 * HOUR})["lease"]
    assert longer["end"] == now + 5 * HOUR
    with pytest.raises(MarketError) as err:
        alice.patch(f"/v1/leases/{lease['id']}", {"end": offer["end"] + HOUR})
    assert err.value.status == 409
    assert err.value.message.startswith("The lease must lie within the offer's window")
    with pytest.raises(MarketError) as err:
        market.customer("dave").patch(f"/v1/leases/{lease['id']}", {"end": now + 6 * HOUR})
    assert err.value.status == 404


def test_sublease_inside_ones_own_lease(market: Market) -> None:
    harvard = market.enrol("harvard")
    offer = _offer(harvard)
    alice, dave = market.customer("alice"), market.customer("dave")
    lease = alice.post("/v1/leases", {"offer_id": offer["id"], "amounts": {"vcpus": 16}})
    lease = lease["lease"]
    sub_offer = alice.post(
        f"/v1/leases/{lease['id']}/offers",
        {
            "name": "alice-spare",
            "capacity": {"vcpus": 8},
            "prices": {"vcpu_hours": "0.01"},
            "end": lease["end"],
        },
    )["offer"]
    assert sub_offer["parent_lease_id"] == lease["id"]
    with pytest.raises(MarketError) as err:
        alice.post(
            f"/v1/leases/{lease['id']}/offers",
            {
                "name": "more",
                "capacity": {"vcpus": 9},
                "prices": {"vcpu_hours": "1"},
                "end": lease["end"],
            },
        )
    assert err.value.status == 409
    assert err.value.message == "Your lease has 8 vcpus left to sub-lease then; 9 asked."
    sub = dave.post("/v1/leases", {"offer_id": sub_offer["id"], "amounts": {"vcpus": 8}})
    sub = sub["lease"]
    grants, _ = harvard.feed()
    assert grants[-1]["parent_lease_id"] == lease["id"]
    # ending the parent ends the sub-lease first
    alice.delete(f"/v1/leases/{lease['id']}")
    assert dave.get(f"/v1/leases/{sub['id']}")["lease"]["status"] == "cancelled"
    assert dave.get("/v1/events")["events"][-1]["kind"] == "lease.cancelled"


def test_warning_then_expiry_stops_not_deletes(market: Market) -> None:
    harvard = market.enrol("harvard")
    now = time.time()
    offer = _offer(harvard, end=now + 2 * HOUR)
    alice = market.customer("alice")
    lease = alice.post(
        "/v1/leases", {"offer_id": offer["id"], "amounts": {"vcpus": 4}, "end": now + 1800}
    )["lease"]
    market.call(market.service.tick_leases())  # warning window is one hour in tests
    kinds = [e["kind"] for e in alice.get("/v1/events")["events"]]
    assert kinds == ["lease.expiring"]
    market.call(_tick_at(market, now + 1801))
    events = alice.get("/v1/events")["events"]
    assert events[-1]["kind"] == "lease.expired"
    assert "stopped (not deleted) after 600 s" in events[-1]["message"]
    assert alice.get(f"/v1/leases/{lease['id']}")["lease"]["status"] == "expired"
    grants, _ = harvard.feed()
    assert (grants[-1]["id"], grants[-1]["status"]) == (lease["id"], "expired")
    with pytest.raises(MarketError) as err:
        alice.patch(f"/v1/leases/{lease['id']}", {"end": now + HOUR})
    assert err.value.status == 409
    assert err.value.message == f"Lease {lease['id']} is expired; it cannot be extended."


async def _tick_at(market: Market, at: float) -> None:
    from ocx.exchange import leases

    async with market.service.db.session() as session:
        await leases.tick(session, market.service.market, at, 3600.0)


def test_lease_usage_is_rated_at_the_offer_price(market: Market) -> None:
    harvard = market.enrol("harvard")
    offer = _offer(harvard)
    alice = market.customer("alice")
    lease = alice.post("/v1/leases", {"offer_id": offer["id"], "amounts": {"vcpus": 4}})
    start = lease["lease"]["start"]
    record = {
        "record_id": "early",
        "contract_id": lease["lease"]["id"],
        "resource_id": "server-1",
        "metric": "vcpu_hours",
        "start": start - 60,
        "end": start - 50,
        "quantity": "4",
        "unit": "vCPU-hour",
    }
    with pytest.raises(MarketError) as err:
        harvard.send_usage([record])
    assert err.value.message.endswith("window is not billable.")
    time.sleep(0.01)  # the record must end before now; the lease began a moment ago
    harvard.send_usage(
        [
            {
                "record_id": "s1",
                "contract_id": lease["lease"]["id"],
                "resource_id": "server-1",
                "metric": "vcpu_hours",
                "start": start,
                "end": start + 0.001,
                "quantity": "4",
                "unit": "vCPU-hour",
            }
        ]
    )
    period = time.strftime("%Y-%m", time.gmtime(start))
    assert alice.get(f"/v1/invoices/{period}")["invoice"]["total"] == "0.08"


def test_forged_offer_and_bad_windows(market: Market) -> None:
    harvard = market.enrol("harvard")
    with pytest.raises(MarketError) as err:
        _offer(harvard, end=time.time() - 10)
    assert err.value.status == 400
    offer = _offer(harvard)
    with pytest.raises(MarketError) as err:
        _offer(harvard)
    assert err.value.status == 409
    alice = market.customer("alice")
    with pytest.raises(MarketError) as err:
        alice.post(
            "/v1/leases",
            {"offer_id": offer["id"], "amounts": {"vcpus": 1}, "end": time.time() + 30 * 86400},
        )
    assert err.value.status == 409
