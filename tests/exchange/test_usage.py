"""Usage records, rating at the price of the time, invoices, settlements, budgets."""

from __future__ import annotations

import csv
import io
import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from ocx.common import jws
from ocx.exchange import signing
from ocx.exchange.client import LandlordAgent, MarketClient, MarketError
from tests.exchange.helpers import MONTH, T0, Market, record


def _subscribed(
    market: Market, landlord: str, user: str
) -> tuple[LandlordAgent, MarketClient, str]:
    agent = market.enrol(landlord)
    offering = market.swift_offering(agent)
    customer = market.customer(user)
    sub = customer.post("/v1/subscriptions", {"offering_id": offering["id"]})
    return agent, customer, sub["subscription"]["id"]


def test_one_invoice_across_landlords_and_settlements(market: Market) -> None:
    stor, carol, sub_stor = _subscribed(market, "stor", "carol")
    mit = market.enrol("mit")
    offering = market.swift_offering(
        mit, prices=[{"metric": "object.gib_hours", "unit": "GiB-hour", "price": "0.0003"}]
    )
    sub_mit = carol.post("/v1/subscriptions", {"offering_id": offering["id"]})["subscription"]
    market.backdate()
    done = stor.send_usage(
        [record(sub_stor, f"r{i}", "100", start=T0 + 3600 * i) for i in range(24)]
        + [record(sub_stor, "q1", "2500", metric="requests", unit="request")]
    )
    assert done == {"accepted": 25, "duplicates": 0, "amended_invoices": []}
    mit.send_usage([record(sub_mit["id"], "m1", "50")])
    invoice = carol.get(f"/v1/invoices/{MONTH}")["invoice"]
    assert invoice["landlords"] == ["mit", "stor"]
    lines = {(x["landlord"], x["metric"]): x for x in invoice["lines"]}
    # 24 h x 100 GiB at 0.0001 = 0.24; 2500 requests at 0.000001 = 0.0025; 50 at 0.0003 = 0.015
    assert lines[("stor", "object.gib_hours")]["cost"] == "0.24"
    assert lines[("stor", "object.gib_hours")]["quantity"] == "2400.00"
    assert lines[("stor", "requests")]["cost"] == "0.0025"
    assert lines[("mit", "object.gib_hours")]["cost"] == "0.015"
    assert invoice["total"] == "0.2575"
    assert invoice["status"] == "open"
    rows = list(csv.DictReader(io.StringIO(carol.get(f"/v1/invoices/{MONTH}", format="csv"))))
    assert {r["ProviderName"] for r in rows} == {"mit", "stor"}
    assert sum(float(r["BilledCost"]) for r in rows) == pytest.approx(0.2575)
    assert rows[0]["InvoiceIssuerName"] == "market"
    settlement = stor.settlement(MONTH)
    assert settlement["total"] == "0.2425"
    assert settlement["customers"] == 1
    assert mit.settlement(MONTH)["total"] == "0.015"


def test_duplicates_count_once(market: Market) -> None:
    stor, carol, sub = _subscribed(market, "stor", "carol")
    market.backdate()
    batch = [record(sub, "r1", "10"), record(sub, "r2", "10", start=T0 + 3600)]
    assert stor.send_usage(batch)["accepted"] == 2
    again = stor.send_usage(batch)
    assert (again["accepted"], again["duplicates"]) == (0, 2)
    # the same window of the same resource under a new record id is not billed twice either
    same_window = record(sub, "r1-again", "10")
    assert stor.send_usage([same_window])["duplicates"] == 1
    assert carol.get(f"/v1/invoices/{MONTH}")["invoice"]["total"] == "0.002"


def test_price_of_the_time_of_use(market: Market) -> None:
    stor, carol, sub = _subscribed(market, "stor", "carol")
    market.backdate(60)
    # a new price from now on: usage of last month keeps the old one
    market.swift_offering(
        stor,
        version=2,
        prices=[{"metric": "object.gib_hours", "unit": "GiB-hour", "price": "0.0009"}],
    )
    stor.send_usage([record(sub, "old", "1000")])
    line = carol.get(f"/v1/invoices/{MONTH}")["invoice"]["lines"][0]
    assert (line["unit_price"], line["cost"]) == ("0.0001", "0.10")


def test_refusals(market: Market) -> None:
    stor, _carol, sub = _subscribed(market, "stor", "carol")
    mit = market.enrol("mit")
    market.backdate()

    def refused(agent: LandlordAgent, records: list[dict[str, Any]]) -> tuple[int, str]:
        with pytest.raises(MarketError) as err:
            agent.send_usage(records)
        return err.value.status, err.value.message

    assert refused(mit, [record(sub, "x")]) == (
        422,
        f"Usage record 0: subscription {sub} is not with mit.",
    )
    assert refused(stor, [record("sub-nope", "x")]) == (
        422,
        "Usage record 0: no subscription or lease 'sub-nope' at this exchange.",
    )
    assert refused(stor, [record(sub, "x", metric="fpga_hours")])[1].endswith(
        "has no price for 'fpga_hours' then."
    )
    assert refused(stor, [record(sub, "x", unit="TiB-hour")]) == (
        422,
        "Usage record 0: object.gib_hours is priced per 'GiB-hour', not 'TiB-hour'.",
    )
    assert refused(stor, [record(sub, "x", quantity="-1")]) == (
        400,
        "record 0 quantity must be a finite number ≥ 0, not '-1'.",
    )
    assert refused(stor, [record(sub, "x", start=T0 - 90 * 86400)])[1].endswith(
        "began is not billable."
    )
    assert refused(stor, [{"record_id": "x"}])[0] == 422


def test_forged_usage_batch_is_refused(market: Market) -> None:
    stor, _carol, sub = _subscribed(market, "stor", "carol")
    market.backdate()
    statement = stor.sign(signing.TYP_USAGE, {"records": [record(sub, "r1", "10")]})
    header, payload, sig = statement.split(".")
    text = jws.b64url_decode(payload).decode().replace('"quantity":"10"', '"quantity":"99999"')
    forged = ".".join([header, jws.b64url(text.encode()), sig])
    with pytest.raises(MarketError) as err:
        stor.exchange.post("/v1/usage", {"statement": forged})
    assert err.value.status == 403
    assert err.value.message.endswith("token signature is invalid.")
    # mit signs a batch that says it is stor's
    mit = market.enrol("mit")
    claims = {"records": [record(sub, "r1", "10")]}
    own = mit.sign(signing.TYP_USAGE, claims)
    header, payload, sig = own.split(".")
    text = jws.b64url_decode(payload).decode().replace('"landlord":"mit"', '"landlord":"stor"')
    with pytest.raises(MarketError) as err:
        mit.exchange.post(
            "/v1/usage", {"statement": ".".join([header, jws.b64url(text.encode()), sig])}
        )
    assert err.value.status == 403


def test_issued_invoice_is_amended_by_late_records(market: Market) -> None:
    stor, carol, sub = _subscribed(market, "stor", "carol")
    market.backdate()
    stor.send_usage([record(sub, "r1", "1000")])
    customer = carol.get("/v1/subscriptions")["subscriptions"][0]["customer"]
    issued = market.operator().post(f"/v1/invoices/{MONTH}/issue", {"customer": customer})
    assert issued["invoice"]["issued_total"] == "0.10"
    with pytest.raises(MarketError) as err:
        market.operator().post(f"/v1/invoices/{MONTH}/issue", {"customer": customer})
    assert err.value.status == 409
    late = stor.send_usage([record(sub, "late", "500", start=T0 + 7200)])
    assert late["amended_invoices"] == [issued["invoice"]["id"]]
    invoice = carol.get(f"/v1/invoices/{MONTH}")["invoice"]
    assert (invoice["issued_total"], invoice["total"]) == ("0.10", "0.15")
    assert invoice["amendment"]["total"] == "0.05"
    assert carol.get("/v1/events")["events"][-1]["kind"] == "invoice.amended"
    with pytest.raises(MarketError) as err:
        carol.post(f"/v1/invoices/{MONTH}/issue", {"customer": customer})
    assert err.value.status == 403


def test_invoices_of_others_are_closed(market: Market) -> None:
    _stor, carol, _sub = _subscribed(market, "stor", "carol")
    customer = carol.get("/v1/subscriptions")["subscriptions"][0]["customer"]
    with pytest.raises(MarketError) as err:
        market.customer("dave").get(f"/v1/invoices/{MONTH}", customer=customer)
    assert err.value.status == 403
    assert market.operator().get(f"/v1/invoices/{MONTH}", customer=customer)["invoice"]
    with pytest.raises(MarketError) as err:
        carol.get("/v1/invoices/2026-13")
    assert err.value.status == 400


def test_budget_warns_then_refuses(market: Market) -> None:
    stor, carol, sub = _subscribed(market, "stor", "carol")
    market.backdate()
    # budgets are per current month: this usage is dated this month
    month = datetime.now(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    now = max(time.time() - 7200, month.timestamp())
    carol.put("/v1/budget", {"monthly_cap": "1.00", "refuse_over": True})
    stor.send_usage([record(sub, "a", "8500", start=now, hours=0.01)])  # 0.85
    assert carol.get("/v1/events")["events"][-1]["kind"] == "budget.warning"
    budget = carol.get("/v1/budget")["budget"]
    assert (budget["spent"], budget["used_fraction"]) == ("0.85", "0.8500")
    stor.send_usage([record(sub, "b", "2000", start=now + 1, hours=0.01)])  # 1.05
    assert carol.get("/v1/events")["events"][-1]["kind"] == "budget.exceeded"
    grants, _ = stor.feed()
    assert (grants[-1]["kind"], grants[-1]["status"]) == ("budget", "suspended")
    mit = market.enrol("mit")
    other = market.swift_offering(mit)
    with pytest.raises(MarketError) as err:
        carol.post("/v1/subscriptions", {"offering_id": other["id"]})
    assert err.value.status == 403
    assert err.value.message == (
        "Over budget: 1.05 spent this month of a cap of 1.00; new use is refused."
    )


def test_the_usage_summary_sums_what_the_records_say(market: Market) -> None:
    stor, carol, sub = _subscribed(market, "stor", "carol")
    market.backdate()
    stor.send_usage(
        [
            {**record(sub, f"r{i}", "100", start=T0 + 3600 * (i % 3)), "resource_id": f"c{i}"}
            for i in range(30)
        ]
        + [record(sub, "q1", "2500", metric="requests", unit="request")]
    )
    summary = carol.get("/v1/usage/summary", period=MONTH)
    assert summary["records"] == 31
    groups = {(g["metric"], g["start"]): g for g in summary["groups"]}
    assert len(groups) == 4  # three hours of GiB-hours, one of requests
    hour = groups[("object.gib_hours", T0 + 3600)]
    assert (hour["landlord"], hour["records"], hour["quantity"]) == ("stor", 10, "1000.00")
    records = carol.get("/v1/usage", period=MONTH, limit=1000)["usage"]
    assert sum(Decimal(g["cost"]) for g in groups.values()) == sum(
        Decimal(r["cost"]) for r in records
    )
    assert market.customer("dave").get("/v1/usage/summary", period=MONTH) == {
        "period": MONTH,
        "records": 0,
        "groups": [],
    }
