"""The ``ocx`` command."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import Awaitable
from pathlib import Path
from typing import Annotated

import platformdirs
import typer
from rich.console import Console
from rich.table import Table

from ocx import __version__, clouds, topology
from ocx import parts as parts_table
from ocx.common import logs
from ocx.compute import cli as compute_cli
from ocx.exchange import cli as market_cli
from ocx.identity.federation import mapping_cli
from ocx.proxy import cli as proxy_cli
from ocx.supervisor import Supervisor
from ocx.vault import cli as vault_cli

app = typer.Typer(
    help="OCX, the Open Cloud eXchange: many independent cloud landlords, one customer identity.",
    no_args_is_help=True,
    add_completion=False,
)
# soft_wrap: a message piped to a file or a test is one line, not cut at 80 columns.
console = Console(stderr=True, soft_wrap=True)

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
StartTimeout = Annotated[
    float | None,
    typer.Option(
        "--start-timeout",
        min=1,
        max=3600,
        envvar="OCX_START_TIMEOUT",
        help="Seconds a landlord's process may take to start (default: the topology's"
        " start_timeout, 120).",
    ),
]


LogJson = Annotated[
    bool,
    typer.Option("--log-json", help="JSON log lines (access log included) on the console too."),
]


@app.command()
def up(
    data_dir: DataDir = DEFAULT_DATA_DIR,
    topology_file: TopologyFile = None,
    database_url: DatabaseUrl = None,
    log_level: LogLevel = "INFO",
    log_json: LogJson = False,
    start_timeout: StartTimeout = None,
) -> None:
    """Start every landlord of the topology, each in its own process, until Ctrl-C."""
    topo = _topology(topology_file, "ocx up", start_timeout)
    data = data_dir.expanduser().resolve()
    logs.configure_process(log_level, log_file=data / "logs" / "ocx.jsonl", json_console=log_json)
    supervisor = Supervisor(topo, data, database_url, log_json=log_json, log_level=log_level)
    try:
        asyncio.run(_up(supervisor))
    except RuntimeError as exc:
        console.print(f"[red]ocx up failed:[/red] {exc}")
        raise typer.Exit(1) from exc


def _topology(path: Path | None, command: str, start_timeout: float | None) -> topology.Topology:
    try:
        found = topology.load(path)
    except topology.TopologyError as exc:
        console.print(f"[red]{command}:[/red] {exc}")
        raise typer.Exit(2) from exc
    if start_timeout is None:
        return found
    exchange = found.exchange.model_copy(update={"start_timeout": start_timeout})
    return found.model_copy(update={"exchange": exchange})


async def _supervise(supervisor: Supervisor, starting: Awaitable[object]) -> bool:
    """Start, then serve until SIGINT or SIGTERM (which may come during the start too);
    False if stopped before the start finished."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    start = asyncio.ensure_future(starting)
    stopped = asyncio.ensure_future(stop.wait())
    await asyncio.wait([start, stopped], return_when=asyncio.FIRST_COMPLETED)
    if not start.done():
        start.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await start
        await supervisor.stop()
        return False
    start.result()
    return True


async def _until_signal(supervisor: Supervisor) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    console.print("stopping…")
    await supervisor.stop()


async def _up(supervisor: Supervisor) -> None:
    began = time.monotonic()
    if not await _supervise(supervisor, supervisor.start_exchange()):
        return
    path = clouds.write(supervisor, supervisor.data_dir / "clouds.yaml")
    _announce(supervisor, path, time.monotonic() - began)
    await _until_signal(supervisor)


def _announce(supervisor: Supervisor, path: Path, took: float) -> None:
    table = Table(title=f"OCX is up ({took:.1f} s)")
    for column in ("landlord", "part", "endpoint", "pid"):
        table.add_column(column)
    for child in supervisor.children:
        pid = str(child.proc.pid) if child.proc else "-"
        for part in child.sockets:
            table.add_row(child.landlord.name, part, child.landlord.url(part), pid)
    console.print(table)
    for landlord in supervisor.landlords.values():
        if "dashboard" in landlord.config.parts:
            console.print(
                f"Dashboard: [bold]{landlord.url('dashboard')}[/bold] ({landlord.name}'s; "
                "Horizon starts with the first page)"
            )
    first = next(iter(supervisor.landlords))
    console.print(
        f"clouds.yaml: [bold]{path}[/bold]\n"
        f"  export OS_CLIENT_CONFIG_FILE={path}\n"
        f"  openstack --os-cloud {first} token issue\n"
        f"Logs (JSON): {supervisor.log_dir}\n"
        "Ctrl-C stops; data stays in the data directory."
    )


@app.command()
def serve(
    landlord: Annotated[str, typer.Option("--landlord", help="Which landlord of the topology.")],
    part: Annotated[str, typer.Option("--part", help="Which of its parts to serve.")],
    workers: Annotated[int, typer.Option("--workers", min=1, max=64)] = 1,
    port: Annotated[
        int | None, typer.Option("--port", help="Listen here, not on the topology's port.")
    ] = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    topology_file: TopologyFile = None,
    database_url: DatabaseUrl = None,
    log_level: LogLevel = "INFO",
    log_json: LogJson = False,
    start_timeout: StartTimeout = None,
) -> None:
    """Serve one part of one landlord alone, in N worker processes sharing its socket."""
    topo = _topology(topology_file, "ocx serve", start_timeout)
    names = [c.name for c in topo.landlords]
    if landlord not in names:
        console.print(f"[red]ocx serve:[/red] no landlord {landlord!r} (known: {names})")
        raise typer.Exit(2)
    parts = next(c.parts for c in topo.landlords if c.name == landlord)
    if part not in parts:
        console.print(f"[red]ocx serve:[/red] {landlord} runs {list(parts)}, not {part!r}")
        raise typer.Exit(2)
    reason = parts_table.spec(part).one_process
    if workers > 1 and reason:
        why = f"the {part} part runs in one process (--workers 1): {reason}"
        console.print(f"[red]ocx serve:[/red] {why}")
        raise typer.Exit(2)
    if topo.exchange.base_port == 0:
        console.print("[red]ocx serve:[/red] the topology needs a base_port (not 0)")
        raise typer.Exit(2)
    data = data_dir.expanduser().resolve()
    logs.configure_process(log_level, log_file=None, json_console=log_json)
    supervisor = Supervisor(topo, data, database_url, log_json=log_json, log_level=log_level)
    try:
        asyncio.run(_serve_part(supervisor, landlord, part, workers, port))
    except RuntimeError as exc:
        console.print(f"[red]ocx serve failed:[/red] {exc}")
        raise typer.Exit(1) from exc


async def _serve_part(
    supervisor: Supervisor, landlord: str, part: str, workers: int, port: int | None
) -> None:
    starting = supervisor.start_part(landlord, part, workers, port)
    if not await _supervise(supervisor, starting):
        return
    url = supervisor.landlords[landlord].url(part)
    console.print(f"{landlord} {part} at {url} ({workers} worker(s)); Ctrl-C stops")
    await _until_signal(supervisor)


@app.command()
def version() -> None:
    """Print the OCX version."""
    typer.echo(__version__)


def main() -> None:
    app()
