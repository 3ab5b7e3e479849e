"""``ocx proxy …``: the mix-and-match proxy from the command line."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Annotated

import typer
from keystoneauth1 import exceptions as ks_exceptions
from rich.console import Console
from rich.table import Table

from ocx.parts import PROXY_REGION
from ocx.proxy import client

app = typer.Typer(
    help="The mix-and-match proxy: one Swift account over the object stores of many landlords.",
    no_args_is_help=True,
    add_completion=False,
)
out = Console()
err = Console(stderr=True)

Cloud = Annotated[
    str, typer.Option("--cloud", envvar="OS_CLOUD", help="A clouds.yaml entry (harvard-alice).")
]
CloudsFile = Annotated[
    Path | None,
    typer.Option(
        "--clouds-file",
        envvar="OS_CLIENT_CONFIG_FILE",
        help="clouds.yaml; default: the one `ocx up` writes.",
    ),
]
Region = Annotated[str, typer.Option("--region", help="The proxy's catalog region.")]
AsJson = Annotated[bool, typer.Option("--json", help="JSON instead of a table.")]


@app.callback()
def proxy() -> None:
    """The mix-and-match proxy: one Swift account over the object stores of many landlords."""


@app.command()
def where(
    cloud: Cloud,
    clouds_file: CloudsFile = None,
    region: Region = PROXY_REGION,
    as_json: AsJson = False,
) -> None:
    """Show which landlord holds each container of the combined account."""
    try:
        found = client.where(client.session_for_cloud(cloud, clouds_file), region)
    except (LookupError, OSError, ks_exceptions.ClientException) as exc:
        err.print(f"[red]ocx proxy where:[/red] {exc}")
        raise typer.Exit(1) from exc
    if as_json:
        typer.echo(json.dumps(dataclasses.asdict(found), indent=2))
        return
    table = Table(title=f"containers of {cloud} (landlords: {', '.join(found.landlords)})")
    for column in ("container", "landlord", "objects", "bytes"):
        table.add_column(column, justify="right" if column in ("objects", "bytes") else "left")
    for placed in found.containers:
        table.add_row(placed.container, placed.landlord, str(placed.objects), str(placed.bytes))
    out.print(table)
    if found.missing:
        err.print(f"[yellow]not answering:[/yellow] {found.missing}")
