"""``ocx market landlord …``: what a landlord's operator says to the exchange.

The landlord's own admin cloud (``--landlord-cloud stor``) logs in at the landlord's identity,
which signs each statement; ``--cloud`` (of ``ocx market``) finds the exchange.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from ocx.exchange.client import LandlordAgent, MarketError
from ocx.proxy.client import session_for_cloud

app = typer.Typer(help="What a landlord's operator says to the exchange.", no_args_is_help=True)
out = Console(width=200)
err = Console(stderr=True)
Period = Annotated[str | None, typer.Option("--period", help="YYYY-MM; default: this month.")]


def _table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*[("" if v is None else str(v)) for v in row])
    out.print(table)


def _this_month() -> str:
    return datetime.now(UTC).strftime("%Y-%m")


LandlordCloud = Annotated[
    str, typer.Option("--landlord-cloud", help="The landlord's admin cloud (stor).")
]


def _agent(ctx: typer.Context, landlord_cloud: str) -> LandlordAgent:
    session = session_for_cloud(landlord_cloud, ctx.obj.clouds_file)
    identity = session.get_endpoint(service_type="identity", interface="public")
    market = ctx.obj.client()
    token = session.get_token()
    if identity is None or token is None:
        raise MarketError(401, f"cloud {landlord_cloud!r} gives no identity endpoint or token")
    name = market.get("/v1")["exchange"]
    return LandlordAgent(landlord_cloud, identity.removesuffix("/v3"), token, market.url, name)


# Offering service types as the OpenStack catalog names them.
CATALOG_TYPES = {"volume": "block-storage", "proxy": "object-store"}


def _catalog_endpoint(ctx: typer.Context, landlord_cloud: str, service_type: str) -> str:
    session = session_for_cloud(landlord_cloud, ctx.obj.clouds_file)
    found = session.get_endpoint(
        service_type=CATALOG_TYPES.get(service_type, service_type), interface="public"
    )
    if not found:
        err.print(f"[red]ocx market landlord:[/red] {landlord_cloud} lists no {service_type}")
        raise typer.Exit(1)
    return str(found)


def _landlord_run(ctx: typer.Context, landlord_cloud: str, work: Any) -> Any:
    try:
        return work(_agent(ctx, landlord_cloud))
    except MarketError as exc:
        err.print(f"[red]ocx market landlord:[/red] {exc.message} ({exc.status})")
        raise typer.Exit(1) from exc


@app.command("enrol")
def landlord_enrol(
    ctx: typer.Context, landlord_cloud: LandlordCloud, owner: Annotated[str, typer.Option()]
) -> None:
    """Enrol the landlord (its identity signs; --cloud must be the exchange's operator)."""

    def work(agent: LandlordAgent) -> Any:
        statement = agent.enrolment(owner)
        return ctx.obj.client().post("/v1/landlords", {"statement": statement})

    doc = _landlord_run(ctx, landlord_cloud, work)
    out.print(f"enrolled: {doc['landlord']['name']} (owner {doc['landlord']['owner']})")


@app.command("publish")
def landlord_publish(
    ctx: typer.Context,
    landlord_cloud: LandlordCloud,
    offering_file: Path,
    version: Annotated[int, typer.Option()] = 1,
) -> None:
    """Publish an offering (a JSON file), signed by the landlord's identity.

    Without an ``endpoint`` in the file, the landlord's own catalog gives it."""
    doc = json.loads(offering_file.read_text())
    if "endpoint" not in doc:
        doc["endpoint"] = _catalog_endpoint(ctx, landlord_cloud, str(doc.get("service_type")))
    found = _landlord_run(ctx, landlord_cloud, lambda a: a.publish(version, **doc))
    out.print(f"offering {found['id']}: {found['status']} ({found['status_reason']})")


@app.command("offer")
def landlord_offer(ctx: typer.Context, landlord_cloud: LandlordCloud, offer_file: Path) -> None:
    """Offer capacity for a window (a JSON file), signed by the landlord's identity."""
    doc = json.loads(offer_file.read_text())
    found = _landlord_run(ctx, landlord_cloud, lambda a: a.offer(**doc))
    out.print(f"offer {found['id']}: {found['status']}")


@app.command("usage")
def landlord_usage(ctx: typer.Context, landlord_cloud: LandlordCloud, records_file: Path) -> None:
    """Send a batch of usage records (a JSON list), signed by the landlord's identity."""
    records = json.loads(records_file.read_text())
    found = _landlord_run(ctx, landlord_cloud, lambda a: a.send_usage(records))
    out.print(f"accepted {found['accepted']}, duplicates {found['duplicates']}")


@app.command("feed")
def landlord_feed(ctx: typer.Context, landlord_cloud: LandlordCloud, since: int = 0) -> None:
    """The landlord's grants (each signature checked against the exchange's JWKS)."""
    grants, cursor = _landlord_run(ctx, landlord_cloud, lambda a: a.feed(since))
    rows = [
        [g["kind"], g["id"], g.get("customer_name", g.get("customer")), g["status"]] for g in grants
    ]
    _table(f"Grants (next: {cursor})", ["kind", "id", "customer", "status"], rows)


@app.command("settlement")
def landlord_settlement(
    ctx: typer.Context, landlord_cloud: LandlordCloud, period: Period = None
) -> None:
    """What the exchange owes the landlord for a month, by customer."""
    doc = _landlord_run(ctx, landlord_cloud, lambda a: a.settlement(period or _this_month()))
    rows = [
        [x["customer"], x["offering"], x["metric"], x["quantity"], x["cost"]] for x in doc["lines"]
    ]
    _table(
        f"Settlement {doc['period']}", ["customer", "offering", "metric", "quantity", "cost"], rows
    )
    out.print(f"total: {doc['total']} {doc['currency']}")
