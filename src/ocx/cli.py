"""The ``ocx`` command."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from pathlib import Path
from typing import Annotated

import platformdirs
import typer
from rich.console import Console
from rich.table import Table

from ocx import __version__, clouds, topology
from ocx.common import logs
from ocx.compute import cli as compute_cli
from ocx.exchange import cli as market_cli
from ocx.identity.federation import mapping_cli
from ocx.proxy import cli as proxy_cli
from ocx.runner import Exchange
from ocx.vault import cli as vault_cli

app = typer.Typer(
    help="OCX, the Open Cloud eXchange: many independent cloud landlords, one customer identity.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console(stderr=True)

identity_app = typer.Typer(help="Identity tools that work offline.", no_args_is_help=True)
identity_app.add_typer(mapping_cli.app, name="mapping")
app.add_typer(identity_app, name="identity")
app.add_typer(proxy_cli.app, name="proxy")
app.add_typer(market_cli.app, name="market")
app.add_typer(vault_cli.app, name="vault")
app.add_typer(compute_cli.app, name="compute")

DEFAULT_DATA_DIR = Path(platformdirs.user_data_dir("ocx"))

DataDir = Annotated[
    Path,
    typer.Option(
        "--data-dir",
        envvar="OCX_DATA_DIR",
        help="Where databases, object data, keys and clouds.yaml live.",
    ),
]
TopologyFile = Annotated[
    Path | None,
    typer.Option(
        "--topology",
        exists=True,
        dir_okay=False,
        help="A TOML topology; the built-in default has harvard and mit.",
    ),
]
DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        envvar="OCX_DATABASE_URL",
        help="PostgreSQL URL (one schema per landlord part); "
        "default: SQLite files in the data directory.",
    ),
]
LogLevel = Annotated[str, typer.Option("--log-level", envvar="OCX_LOG_LEVEL")]


@app.command()
def up(
    data_dir: DataDir = DEFAULT_DATA_DIR,
    topology_file: TopologyFile = None,
    database_url: DatabaseUrl = None,
    log_level: LogLevel = "INFO",
) -> None:
    """Start every landlord of the topology in this process, until Ctrl-C."""
    logs.configure(log_level)
    try:
        topo = topology.load(topology_file)
    except topology.TopologyError as exc:
        console.print(f"[red]ocx up:[/red] {exc}")
        raise typer.Exit(2) from exc
    exchange = Exchange(topo, data_dir.expanduser().resolve(), database_url)
    try:
        asyncio.run(_serve(exchange))
    except RuntimeError as exc:
        console.print(f"[red]ocx up failed:[/red] {exc}")
        raise typer.Exit(1) from exc


async def _serve(exchange: Exchange) -> None:
    await exchange.start()
    path = clouds.write(exchange, exchange.data_dir / "clouds.yaml")
    _announce(exchange, path)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    serving = asyncio.ensure_future(exchange.serve_forever())
    await asyncio.wait(
        [serving, asyncio.ensure_future(stop.wait())], return_when=asyncio.FIRST_COMPLETED
    )
    console.print("stopping…")
    await exchange.stop()
    with contextlib.suppress(BaseException):
        await serving


def _announce(exchange: Exchange, path: Path) -> None:
    table = Table(title="OCX is up")
    for column in ("landlord", "part", "endpoint"):
        table.add_column(column)
    for run in exchange.running:
        table.add_row(run.landlord, run.part, run.url)
    console.print(table)
    first = next(iter(exchange.landlords))
    console.print(
        f"clouds.yaml: [bold]{path}[/bold]\n"
        f"  export OS_CLIENT_CONFIG_FILE={path}\n"
        f"  openstack --os-cloud {first} token issue\n"
        "Ctrl-C stops; data stays in the data directory."
    )


@app.command()
def version() -> None:
    """Print the OCX version."""
    typer.echo(__version__)


def main() -> None:
    app()
