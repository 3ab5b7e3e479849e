"""Server-drawn SVG charts (no script, so the pages keep a strict policy for images).

Pure functions of the exchange's records: tested without Django or a network.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

WIDTH, HEIGHT, PAD = 720, 220, 30
COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")


def _day(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d")


def usage_by_day(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Cost per day, stacked by landlord: the bars, their legend, and the largest day."""
    cost: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for record in records:
        cost[_day(record["start"])][record["landlord"]] += Decimal(record["cost"])
    days = sorted(cost)
    landlords = sorted({name for day in cost.values() for name in day})
    peak = max((sum(day.values()) for day in cost.values()), default=Decimal(0))
    colour = {name: COLOURS[i % len(COLOURS)] for i, name in enumerate(landlords)}
    bars = []
    slot = (WIDTH - 2 * PAD) / max(len(days), 1)
    for i, day in enumerate(days):
        base = float(HEIGHT - PAD)
        for name in landlords:
            share = cost[day].get(name, Decimal(0))
            height = float(share / peak) * (HEIGHT - 2 * PAD) if peak else 0.0
            base -= height
            bars.append(
                {
                    "x": round(PAD + i * slot + slot * 0.1, 1),
                    "y": round(base, 1),
                    "w": round(slot * 0.8, 1),
                    "h": round(height, 1),
                    "fill": colour[name],
                    "title": f"{day} {name}: {share}",
                }
            )
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "bars": bars,
        "days": days,
        "legend": [{"name": n, "fill": colour[n]} for n in landlords],
        "peak": str(peak),
    }


def totals(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Quantity and cost per landlord and metric, largest cost first."""
    sums: dict[tuple[str, str, str], list[Decimal]] = defaultdict(lambda: [Decimal(0)] * 2)
    for record in records:
        key = (record["landlord"], record["metric"], record["unit"])
        sums[key][0] += Decimal(record["quantity"])
        sums[key][1] += Decimal(record["cost"])
    rows = [
        {"landlord": k[0], "metric": k[1], "unit": k[2], "quantity": v[0], "cost": v[1]}
        for k, v in sums.items()
    ]
    return sorted(rows, key=lambda row: (-row["cost"], row["landlord"], row["metric"]))


def timeline(leases: list[dict[str, Any]], now: float) -> dict[str, Any]:
    """Each lease as a bar from its start to its end, with a line at now."""
    if not leases:
        return {"bars": [], "width": WIDTH, "height": 0, "now_x": 0}
    first = min(min(x["start"] for x in leases), now)
    last = max(max(x["end"] for x in leases), now)
    span = max(last - first, 1.0)

    def x(ts: float) -> float:
        return round(PAD + (ts - first) / span * (WIDTH - 2 * PAD), 1)

    bars = [
        {
            "x": x(lease["start"]),
            "y": PAD + i * 24,
            "w": max(x(lease["end"]) - x(lease["start"]), 2.0),
            "label": f"{lease['id']} ({lease['status']})",
            "fill": "#d62728" if lease.get("expiring") else COLOURS[i % len(COLOURS)],
        }
        for i, lease in enumerate(leases)
    ]
    return {"bars": bars, "width": WIDTH, "height": PAD * 2 + 24 * len(leases), "now_x": x(now)}
