"""``ocx market …``: the exchange from the command line, for customers and landlords.

Customers name a clouds.yaml entry at the exchange's identity (``alice-market-k2k``, as
``ocx up`` writes them); the exchange's URL comes from that cloud's catalog (type
``exchange``) unless ``--url`` is given. Landlord commands (``ocx market landlord …``) use the
landlord's own admin cloud: its identity signs what the landlord says to the exchange.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from keystoneauth1 import exceptions as ks_exceptions
from rich.console import Console
from rich.table import Table

from ocx.exchange import cli_landlord
from ocx.exchange.client import MarketClient, MarketError
from ocx.proxy.client import session_for_cloud

app = typer.Typer(
    help="The exchange: offerings, subscriptions, leases, usage, invoices, brokers.",
    no_args_is_help=True,
    add_completion=False,
)
lease_app = typer.Typer(help="Leases of offered capacity.", no_args_is_help=True)
app.add_typer(lease_app, name="lease")
app.add_typer(cli_landlord.app, name="landlord")
out = Console(width=200)
err = Console(stderr=True)

Cloud = Annotated[
    str, typer.Option("--cloud", envvar="OS_CLOUD", help="clouds.yaml entry at the exchange.")
]
CloudsFile = Annotated[
    Path | None,
    typer.Option("--clouds-file", envvar="OS_CLIENT_CONFIG_FILE", help="clouds.yaml to read."),
]
Url = Annotated[str | None, typer.Option("--url", help="The exchange's URL (else: catalog).")]
AsJson = Annotated[bool, typer.Option("--json", help="JSON instead of a table.")]


@dataclass
class Ctx:
    cloud: str
    clouds_file: Path | None
    url: str | None

    def client(self) -> MarketClient:
        try:
            session = session_for_cloud(self.cloud, self.clouds_file)
            token = session.get_token()
            url = self.url or session.get_endpoint(service_type="exchange", interface="public")
        except (LookupError, ks_exceptions.ClientException) as exc:
            raise MarketError(401, f"cannot log in with cloud {self.cloud!r}: {exc}") from exc
        if not url:
            raise MarketError(404, f"cloud {self.cloud!r} has no exchange in its catalog")
        return MarketClient(url, token)


@app.callback()
def main(
    ctx: typer.Context,
    cloud: Cloud = "alice-market-k2k",
    clouds_file: CloudsFile = None,
    url: Url = None,
) -> None:
    ctx.obj = Ctx(cloud, clouds_file, url)


def _run(ctx: typer.Context, work: Any) -> Any:
    try:
        return work(ctx.obj.client())
    except MarketError as exc:
        err.print(f"[red]ocx market:[/red] {exc.message} ({exc.status})")
        raise typer.Exit(1) from exc


def _table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*[("" if v is None else str(v)) for v in row])
    out.print(table)


def _show(doc: Any, as_json: bool) -> bool:
    if as_json:
        out.print_json(json.dumps(doc))
    return as_json


def _when(ts: float | None) -> str:
    if ts is None:
        return ""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M")


def _prices(offering: dict[str, Any]) -> str:
    return ", ".join(f"{p['metric']} {p['price']}/{p['unit']}" for p in offering["prices"])


@app.command()
def landlords(ctx: typer.Context, as_json: AsJson = False) -> None:
    """The landlords enrolled at the exchange."""
    doc = _run(ctx, lambda c: c.get("/v1/landlords"))
    if not _show(doc, as_json):
        rows = [
            [x["name"], x["owner"], x["identity_url"], _when(x["enrolled_at"])]
            for x in doc["landlords"]
        ]
        _table("Landlords", ["name", "owner", "identity", "enrolled"], rows)


@app.command()
def offerings(
    ctx: typer.Context,
    service_type: Annotated[str | None, typer.Option("--type")] = None,
    region: Annotated[str | None, typer.Option()] = None,
    landlord: Annotated[str | None, typer.Option()] = None,
    capability: Annotated[list[str] | None, typer.Option()] = None,
    max_price: Annotated[str | None, typer.Option("--max-price")] = None,
    sort: Annotated[str, typer.Option(help="name, price or availability")] = "name",
    every: Annotated[bool, typer.Option("--all", help="Delisted ones too.")] = False,
    as_json: AsJson = False,
) -> None:
    """Offerings in the catalogue (listed ones: those that pass the conformance gate)."""
    params = {
        "service_type": service_type,
        "region": region,
        "landlord": landlord,
        "capability": capability,
        "max_price": max_price,
        "sort": sort,
        "status": "all" if every else None,
        "limit": 1000,
    }
    doc = _run(ctx, lambda c: c.get("/v1/offerings", **params))
    if not _show(doc, as_json):
        rows = [
            [
                o["id"][:8],
                o["name"],
                o["landlord"],
                o["owner"],
                o["service_type"],
                o["region"],
                _prices(o),
                o["sla"].get("availability"),
                o["measured_availability"],
                ",".join(o["capabilities"]),
                o["status"] if o["status"] == "listed" else f"{o['status']}: {o['status_reason']}",
            ]
            for o in doc["offerings"]
        ]
        columns = [
            "id",
            "name",
            "landlord",
            "owner",
            "type",
            "region",
            "prices",
            "SLA",
            "measured",
            "capabilities",
            "status",
        ]
        _table("Offerings", columns, rows)


def _resolve(client: MarketClient, prefix: str) -> dict[str, Any]:
    found = client.get("/v1/offerings", status="all", limit=1000)["offerings"]
    matches = [o for o in found if o["id"].startswith(prefix) or o["name"] == prefix]
    if len(matches) != 1:
        raise MarketError(404, f"{len(matches)} offerings match {prefix!r}; give more of the id")
    return dict(matches[0])


@app.command()
def compare(ctx: typer.Context, ids: list[str], as_json: AsJson = False) -> None:
    """Offerings side by side: prices, promised and measured availability, capabilities."""
    docs = _run(ctx, lambda c: [_resolve(c, i) for i in ids])
    if _show(docs, as_json):
        return
    table = Table(title="Compare")
    table.add_column("")
    for o in docs:
        table.add_column(f"{o['name']} ({o['landlord']})")
    metrics = sorted({p["metric"] for o in docs for p in o["prices"]})
    for field in ("owner", "region", "status"):
        table.add_row(field, *[str(o[field]) for o in docs])
    for metric in metrics:
        cells = [
            next((p["price"] for p in o["prices"] if p["metric"] == metric), "-") for o in docs
        ]
        table.add_row(metric, *cells)
    for key in ("availability", "durability", "support"):
        table.add_row(f"SLA {key}", *[str(o["sla"].get(key, "-")) for o in docs])
    table.add_row("measured", *[str(o["measured_availability"]) for o in docs])
    table.add_row("capabilities", *[", ".join(o["capabilities"]) for o in docs])
    out.print(table)


@app.command()
def subscribe(
    ctx: typer.Context, offering: str, plan: Annotated[str, typer.Option()] = "default"
) -> None:
    """Subscribe to an offering (id, id prefix or name)."""

    def work(c: MarketClient) -> Any:
        target = _resolve(c, offering)
        return c.post("/v1/subscriptions", {"offering_id": target["id"], "plan": plan})

    sub = _run(ctx, work)["subscription"]
    out.print(f"subscribed: {sub['id']} to {sub['landlord']} (plan {sub['plan']})")


@app.command()
def subscriptions(ctx: typer.Context, as_json: AsJson = False) -> None:
    """Your subscriptions."""
    doc = _run(ctx, lambda c: c.get("/v1/subscriptions"))
    if not _show(doc, as_json):
        rows = [
            [
                s["id"],
                s["landlord"],
                s["offering_id"][:8],
                s["plan"],
                s["status"],
                _when(s["created_at"]),
            ]
            for s in doc["subscriptions"]
        ]
        _table("Subscriptions", ["id", "landlord", "offering", "plan", "status", "since"], rows)


@app.command()
def cancel(ctx: typer.Context, subscription: str) -> None:
    """Cancel a subscription: no new use; what is stored stays (and is billed) until deleted."""
    sub = _run(ctx, lambda c: c.delete(f"/v1/subscriptions/{subscription}"))["subscription"]
    out.print(f"cancelled: {sub['id']}. {sub.get('note', '')}")


@app.command()
def offers(ctx: typer.Context, as_json: AsJson = False) -> None:
    """Capacity on offer for a time window, and what of it is still free."""
    doc = _run(ctx, lambda c: c.get("/v1/offers"))
    if not _show(doc, as_json):
        rows = [
            [
                o["id"],
                o["name"],
                o["landlord"],
                json.dumps(o["free"]),
                json.dumps(o["prices"]),
                _when(o["start"]),
                _when(o["end"]),
                f"{o['expiry_action']} after {o['grace_seconds']}s",
            ]
            for o in doc["offers"]
        ]
        _table(
            "Offers",
            ["id", "name", "landlord", "free", "prices", "from", "until", "at expiry"],
            rows,
        )


def _amounts(items: list[str]) -> dict[str, int]:
    found = {}
    for item in items:
        name, _, value = item.partition("=")
        if not value.isdigit():
            raise typer.BadParameter(f"{item!r} is not NAME=NUMBER")
        found[name] = int(value)
    return found


def _lease_rows(leases: list[dict[str, Any]]) -> list[list[Any]]:
    return [
        [
            x["id"],
            x["landlord"],
            json.dumps(x["amounts"]),
            _when(x["start"]),
            _when(x["end"]),
            x["status"],
        ]
        for x in leases
    ]


LEASE_COLUMNS = ["id", "landlord", "amounts", "from", "until", "status"]


@lease_app.command("create")
def lease_create(
    ctx: typer.Context,
    offer: str,
    amount: Annotated[list[str], typer.Option(help="NAME=NUMBER, e.g. vcpus=8")],
    hours: Annotated[float | None, typer.Option(help="How long, from now.")] = None,
) -> None:
    """Claim part of an offer as a lease."""
    body: dict[str, Any] = {"offer_id": offer, "amounts": _amounts(amount)}
    if hours is not None:
        body["end"] = time.time() + hours * 3600
    lease = _run(ctx, lambda c: c.post("/v1/leases", body))["lease"]
    _table("Lease", LEASE_COLUMNS, _lease_rows([lease]))


@lease_app.command("list")
def lease_list(
    ctx: typer.Context,
    every: Annotated[bool, typer.Option("--all")] = False,
    as_json: AsJson = False,
) -> None:
    """Your leases (live ones, or --all)."""
    doc = _run(ctx, lambda c: c.get("/v1/leases", status="all" if every else "live"))
    if not _show(doc, as_json):
        _table("Leases", LEASE_COLUMNS, _lease_rows(doc["leases"]))


@lease_app.command("extend")
def lease_extend(ctx: typer.Context, lease: str, hours: Annotated[float, typer.Option()]) -> None:
    """Move a lease's end later, within its offer's window."""

    def work(c: MarketClient) -> Any:
        current = c.get(f"/v1/leases/{lease}")["lease"]
        return c.patch(f"/v1/leases/{lease}", {"end": current["end"] + hours * 3600})

    _table("Lease", LEASE_COLUMNS, _lease_rows([_run(ctx, work)["lease"]]))


@lease_app.command("delete")
def lease_delete(ctx: typer.Context, lease: str) -> None:
    """End a lease now (and everything sub-leased out of it)."""
    _table(
        "Lease",
        LEASE_COLUMNS,
        _lease_rows([_run(ctx, lambda c: c.delete(f"/v1/leases/{lease}"))["lease"]]),
    )


@app.command()
def events(ctx: typer.Context, since: int = 0, as_json: AsJson = False) -> None:
    """What you should know: expiry warnings, budget warnings, amendments."""
    doc = _run(ctx, lambda c: c.get("/v1/events", since=since))
    if not _show(doc, as_json):
        rows = [[e["seq"], _when(e["created_at"]), e["kind"], e["message"]] for e in doc["events"]]
        _table("Events", ["#", "when", "kind", "message"], rows)


def _this_month() -> str:
    return datetime.now(UTC).strftime("%Y-%m")


Period = Annotated[str | None, typer.Option("--period", help="YYYY-MM; default: this month.")]


@app.command()
def usage(ctx: typer.Context, period: Period = None, as_json: AsJson = False) -> None:
    """Your rated usage records of a month, across every landlord."""
    doc = _run(ctx, lambda c: c.get("/v1/usage", period=period or _this_month(), limit=1000))
    if not _show(doc, as_json):
        rows = [
            [
                u["landlord"],
                u["resource_id"],
                u["metric"],
                _when(u["start"]),
                u["quantity"],
                u["unit"],
                u["unit_price"],
                u["cost"],
            ]
            for u in doc["usage"]
        ]
        _table(
            "Usage",
            ["landlord", "resource", "metric", "start", "quantity", "unit", "price", "cost"],
            rows,
        )


@app.command()
def invoice(
    ctx: typer.Context,
    period: Period = None,
    fmt: Annotated[str, typer.Option("--format", help="table, json or csv")] = "table",
) -> None:
    """One invoice for the month across every landlord you used."""
    month = period or _this_month()
    if fmt == "csv":
        typer.echo(_run(ctx, lambda c: c.get(f"/v1/invoices/{month}", format="csv")), nl=False)
        return
    doc = _run(ctx, lambda c: c.get(f"/v1/invoices/{month}"))["invoice"]
    if _show(doc, fmt == "json"):
        return
    rows = [
        [
            x["landlord"],
            x["offering"],
            x["metric"],
            x["quantity"],
            x["unit"],
            x["unit_price"],
            x["cost"],
        ]
        for x in doc["lines"]
    ]
    _table(
        f"Invoice {month} ({doc['status']})",
        ["landlord", "offering", "metric", "quantity", "unit", "unit price", "cost"],
        rows,
    )
    out.print(
        f"total: [bold]{doc['total']} {doc['currency']}[/bold] "
        f"from {', '.join(doc['landlords']) or 'no landlord'}"
    )
    if doc.get("amendment"):
        out.print(f"amendment after issue: {doc['amendment']['total']} {doc['currency']}")


@app.command()
def budget(
    ctx: typer.Context,
    cap: Annotated[str | None, typer.Option("--set", help="Monthly cap, e.g. 100.00")] = None,
    refuse: Annotated[bool, typer.Option("--refuse-over", help="Refuse new use at 100 %.")] = False,
) -> None:
    """Show or set your monthly budget (warning at 80 %)."""
    if cap is not None:
        doc = _run(ctx, lambda c: c.put("/v1/budget", {"monthly_cap": cap, "refuse_over": refuse}))
    else:
        doc = _run(ctx, lambda c: c.get("/v1/budget"))
    b = doc["budget"]
    out.print(
        f"{b['period']}: spent {b['spent']} of {b['monthly_cap'] or 'no cap'}"
        + (" (new use refused over the cap)" if b["refuse_over"] else "")
    )


broker_app = typer.Typer(
    help="Brokers: policies that choose offerings and explain why.", no_args_is_help=True
)
app.add_typer(broker_app, name="broker")


@broker_app.command("choose")
def broker_choose(
    ctx: typer.Context,
    service_type: Annotated[str, typer.Option("--type")],
    amount: Annotated[str, typer.Option()] = "1",
    hours: Annotated[str, typer.Option()] = "720",
    metric: Annotated[str | None, typer.Option()] = None,
    max_price: Annotated[str | None, typer.Option("--max-price")] = None,
    region: Annotated[list[str] | None, typer.Option()] = None,
    capability: Annotated[list[str] | None, typer.Option()] = None,
    sla_floor: Annotated[str | None, typer.Option("--sla-floor")] = None,
    distinct_owners: Annotated[int, typer.Option("--distinct-owners")] = 1,
    policy: Annotated[
        str, typer.Option(help="cheapest, most-available, non-colluding")
    ] = "cheapest",
    explain: Annotated[
        bool, typer.Option("--explain", help="Reasons for each rank and exclusion.")
    ] = False,
    as_json: AsJson = False,
) -> None:
    """Ask a broker to choose offerings for a need."""
    need = {
        "service_type": service_type,
        "amount": amount,
        "hours": hours,
        "metric": metric,
        "max_price": max_price,
        "regions": region or [],
        "capabilities": capability or [],
        "sla_floor": sla_floor,
        "distinct_owners": distinct_owners,
        "policy": policy,
    }
    doc = _run(ctx, lambda c: c.post("/v1/broker/choose", need))
    if _show(doc, as_json):
        return
    out.print(doc["summary"])
    rows = [
        [
            r["rank"],
            r["name"],
            r["landlord"],
            r["owner"],
            r["estimated_cost"],
            "chosen" if r in doc["chosen"] else "",
        ]
        + (["; ".join(r["reasons"])] if explain else [])
        for r in doc["ranked"]
    ]
    _table(
        "Ranked",
        ["rank", "offering", "landlord", "owner", "estimated cost", ""]
        + (["why"] if explain else []),
        rows,
    )
    if explain and doc["excluded"]:
        rows = [[e["name"], e["landlord"], "; ".join(e["reasons"])] for e in doc["excluded"]]
        _table("Excluded", ["offering", "landlord", "why"], rows)
    for note in doc["notes"] if explain else []:
        out.print(note)
