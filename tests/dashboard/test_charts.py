"""The Market dashboard's charts: pure functions of the exchange's records."""

from __future__ import annotations

from decimal import Decimal

from ocx.dashboard.horizon.market import charts

DAY = 86400.0
T0 = 1_795_000_000.0


def rec(landlord: str, start: float, cost: str, metric: str = "volume.gib_hours") -> dict:
    return {
        "landlord": landlord,
        "start": start,
        "cost": cost,
        "quantity": "10",
        "metric": metric,
        "unit": "GiB-hour",
    }


def test_usage_is_stacked_per_day_by_landlord() -> None:
    chart = charts.usage_by_day(
        [rec("stor", T0, "1.0"), rec("mit", T0, "3.0"), rec("stor", T0 + DAY, "2.0")]
    )
    assert len(chart["days"]) == 2
    assert [x["name"] for x in chart["legend"]] == ["mit", "stor"]
    assert chart["peak"] == "4.0"
    first_day = [b for b in chart["bars"] if b["x"] == chart["bars"][0]["x"]]
    assert sum(b["h"] for b in first_day) == charts.HEIGHT - 2 * charts.PAD


def test_no_usage_draws_nothing() -> None:
    assert charts.usage_by_day([])["bars"] == []


def test_totals_per_landlord_and_metric_dearest_first() -> None:
    rows = charts.totals([rec("stor", T0, "1.0"), rec("stor", T0, "2.5"), rec("mit", T0, "9")])
    assert [(r["landlord"], r["cost"]) for r in rows] == [
        ("mit", Decimal("9")),
        ("stor", Decimal("3.5")),
    ]
    assert rows[1]["quantity"] == Decimal("20")


def test_lease_timeline_marks_the_expiring_and_now() -> None:
    leases = [
        {"id": "lease-a", "status": "active", "start": T0, "end": T0 + 10 * DAY},
        {"id": "lease-b", "status": "active", "start": T0, "end": T0 + DAY, "expiring": True},
    ]
    drawn = charts.timeline(leases, now=T0 + DAY / 2)
    assert drawn["bars"][1]["fill"] == "#d62728"
    assert drawn["bars"][0]["w"] > drawn["bars"][1]["w"]
    assert drawn["bars"][0]["x"] < drawn["now_x"] < drawn["bars"][1]["x"] + drawn["bars"][1]["w"]
