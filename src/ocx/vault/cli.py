"""``ocx vault …``: a customer's files split over object stores of distinct owners."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any, BinaryIO

import platformdirs
import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn
from rich.table import Table

from ocx import topology
from ocx.common.errors import OCXError
from ocx.proxy.client import clouds_file as default_clouds_file
from ocx.vault import config, maintenance
from ocx.vault.errors import Problem, VaultConfigError
from ocx.vault.providers import (
    Constraints,
    ExchangeOfferings,
    Offering,
    OfferingSource,
    TopologyOfferings,
    choose,
)
from ocx.vault.vault import Vault

app = typer.Typer(
    help="The vault: files encrypted, erasure-coded and spread over object stores of landlords "
    "with distinct owners, so that no k-1 of them can read them and n-k may be lost.",
    no_args_is_help=True,
    add_completion=False,
)
out = Console()
err = Console(stderr=True)

DEFAULT_VAULT = Path(platformdirs.user_data_dir("ocx")) / "vault.json"
VaultFile = Annotated[
    Path, typer.Option("--vault", envvar="OCX_VAULT", help="The vault's configuration file.")
]
CloudsFile = Annotated[
    Path | None,
    typer.Option("--clouds-file", envvar="OS_CLIENT_CONFIG_FILE", help="clouds.yaml"),
]
ExchangeUrl = Annotated[
    str | None,
    typer.Option(
        "--exchange",
        envvar="OCX_EXCHANGE_URL",
        help="The exchange whose catalogue to choose from (default: the topology's stores).",
    ),
]
WrapKey = Annotated[
    Path | None,
    typer.Option("--wrap-key", envvar="OCX_VAULT_WRAP_KEY", help="Your own key-wrapping key."),
]


@app.callback()
def vault() -> None:
    """The vault: split storage over object stores of non-colluding landlords."""


@contextlib.contextmanager
def _opened(vault_file: Path, clouds: Path | None, wrap: Path | None) -> Iterator[Vault]:
    with _failures("vault"):
        cfg = config.load(vault_file)
        found = Vault.open(cfg, clouds, config.load_wrap_key(wrap))
        try:
            yield found
        finally:
            found.close()


@contextlib.contextmanager
def _failures(what: str) -> Iterator[None]:
    try:
        yield
    except (OCXError, OSError) as exc:
        err.print(f"[red]ocx {what}:[/red] {getattr(exc, 'message', exc)}")
        raise typer.Exit(1) from exc


def _problems(problems: list[Problem] | tuple[Problem, ...]) -> None:
    for problem in problems:
        err.print(f"[yellow]problem:[/yellow] {problem}")


def _progress() -> Progress:
    return Progress(
        "{task.description}",
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )


class _Counting:
    """A file object that reports how many bytes pass through it."""

    def __init__(self, inner: BinaryIO, tick: Callable[[int], None]):
        self.inner, self.tick = inner, tick

    def read(self, size: int = -1) -> bytes:
        data = self.inner.read(size)
        self.tick(len(data))
        return data

    def write(self, data: bytes) -> int:
        self.tick(len(data))
        return self.inner.write(data)


@app.command()
def init(
    k: Annotated[int, typer.Option("--k", help="Shares needed to read.")] = 2,
    n: Annotated[int, typer.Option("--n", help="Shares written, one per owner.")] = 3,
    user: Annotated[str, typer.Option("--user", help="Your user at home.")] = "alice",
    home: Annotated[str, typer.Option("--home", help="Your home landlord.")] = "harvard",
    topology_file: Annotated[Path | None, typer.Option("--topology", exists=True)] = None,
    exchange: ExchangeUrl = None,
    max_price: Annotated[float | None, typer.Option("--max-price")] = None,
    min_availability: Annotated[float | None, typer.Option("--min-availability")] = None,
    region: Annotated[list[str] | None, typer.Option("--region")] = None,
    segment_size: Annotated[int, typer.Option("--segment-size")] = config.DEFAULT_SEGMENT,
    min_shares: Annotated[
        int,
        typer.Option("--min-shares", help="Providers a put needs (k .. n; default k + 1)."),
    ] = 0,
    new_wrap_key: Annotated[
        Path | None, typer.Option("--new-wrap-key", help="Also make a key-wrapping key here.")
    ] = None,
    vault_file: VaultFile = DEFAULT_VAULT,
    clouds: CloudsFile = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing vault.")] = False,
) -> None:
    """Choose n object stores of n distinct owners, show why, and record the vault."""
    with _failures("vault init"):
        if vault_file.exists() and not force:
            raise VaultConfigError(f"{vault_file} exists (--force replaces it)")
        source = _source(exchange, topology_file, clouds, user, home)
        limits = Constraints(max_price, min_availability, tuple(region or ()))
        choice = choose(source.object_stores(), n, limits)
        cfg = config.VaultConfig.new(
            k,
            choice.chosen,
            segment_size=segment_size,
            reasons=choice.reasons,
            min_shares=min_shares,
        )
        if new_wrap_key is not None:
            config.new_wrap_key(new_wrap_key)
        config.save(cfg, vault_file)
    _providers_table(f"vault {k}-of-{n} at {vault_file}", cfg.providers)
    for reason in choice.reasons:
        out.print(f"  {reason}")


def _source(
    exchange: str | None, topo: Path | None, clouds: Path | None, user: str, home: str
) -> OfferingSource:
    if exchange:
        return ExchangeOfferings(exchange, clouds or default_clouds_file(), user, home)
    return TopologyOfferings(topology.load(topo), clouds or default_clouds_file(), user, home)


def _providers_table(title: str, providers: tuple[Offering, ...]) -> None:
    table = Table(title=title)
    for column in ("slot", "landlord", "owner", "cloud"):
        table.add_column(column)
    for slot, offer in enumerate(providers):
        table.add_row(str(slot), offer.landlord, offer.owner, offer.cloud)
    out.print(table)


@app.command()
def put(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
    name: Annotated[str | None, typer.Argument()] = None,
    vault_file: VaultFile = DEFAULT_VAULT,
    clouds: CloudsFile = None,
    wrap_key: WrapKey = None,
) -> None:
    """Store FILE (as NAME) as a new version."""
    with _opened(vault_file, clouds, wrap_key) as v, _failures("vault put"), _progress() as bar:
        task = bar.add_task("put", total=file.stat().st_size)
        with file.open("rb") as source:
            counted: Any = _Counting(source, lambda size: bar.advance(task, size))
            manifest = v.put(name or file.name, counted)
    out.print(f"{name or file.name}: version {manifest.version}, {manifest.size} bytes")
    for share in manifest.shares:
        if not share.root:
            err.print(
                f"[yellow]problem:[/yellow] {share.landlord}: missing (took no share; "
                f"`ocx vault repair {share.landlord} --to {share.landlord}` once it answers)"
            )


def _range(text: str | None) -> tuple[int, int | None]:
    if not text:
        return 0, None
    first, _, last = text.partition("-")
    try:
        return int(first or 0), (int(last) + 1 if last else None)
    except ValueError:
        raise typer.BadParameter("a range is FIRST-LAST (bytes, inclusive)") from None


@app.command()
def get(
    name: str,
    file: Annotated[Path | None, typer.Argument(help="Where to write; '-' for stdout.")] = None,
    byte_range: Annotated[
        str | None, typer.Option("--range", help="FIRST-LAST bytes, inclusive.")
    ] = None,
    vault_file: VaultFile = DEFAULT_VAULT,
    clouds: CloudsFile = None,
    wrap_key: WrapKey = None,
) -> None:
    """Read NAME's newest version (or a byte range of it) into FILE."""
    start, end = _range(byte_range)
    with _opened(vault_file, clouds, wrap_key) as v, _failures("vault get"), _progress() as bar:
        task = bar.add_task("get", total=None)
        if str(file) == "-":
            sink: Any = _Counting(sys.stdout.buffer, lambda size: bar.advance(task, size))
            report = v.get(name, sink, start, end)
        else:
            target = file or Path(Path(name).name)
            report = v.get_file(name, target, start, end, lambda size: bar.advance(task, size))
    _problems(report.problems)
    err.print(f"{name}: {report.bytes} bytes of version {report.manifest.version}")


@app.command("ls")
def ls(
    vault_file: VaultFile = DEFAULT_VAULT, clouds: CloudsFile = None, wrap_key: WrapKey = None
) -> None:
    """List the names in the vault."""
    with _opened(vault_file, clouds, wrap_key) as v, _failures("vault ls"):
        entries = v.ls()
    table = Table()
    for column in ("name", "bytes", "version", "problems"):
        table.add_column(column)
    for e in entries:
        table.add_row(e.name, str(e.size), str(e.version), "; ".join(map(str, e.problems)))
    out.print(table)


@app.command()
def rm(
    name: str,
    vault_file: VaultFile = DEFAULT_VAULT,
    clouds: CloudsFile = None,
    wrap_key: WrapKey = None,
) -> None:
    """Remove NAME (every version, at every provider that answers); exits 3 naming what
    could not be removed."""
    with _opened(vault_file, clouds, wrap_key) as v, _failures("vault rm"):
        left = v.rm(name)
    if left:
        _problems(left)
        err.print(f"{name}: not removed everywhere (run rm again once they answer)")
        raise typer.Exit(3)
    out.print(f"{name}: removed")


@app.command()
def verify(
    full: Annotated[bool, typer.Option("--full", help="Check every fragment.")] = False,
    samples: Annotated[int, typer.Option("--samples", help="Fragments per share.")] = 3,
    vault_file: VaultFile = DEFAULT_VAULT,
    clouds: CloudsFile = None,
    wrap_key: WrapKey = None,
) -> None:
    """Check every share against its tree: spot checks of random fragments, or --full."""
    with _opened(vault_file, clouds, wrap_key) as v, _failures("vault verify"):
        checked = maintenance.verify(v, full, samples)
    bad = 0
    for c in checked:
        out.print(f"{c.name}: {'ok' if not c.problems else 'PROBLEMS'}")
        _problems(c.problems)
        bad += bool(c.problems)
    if bad:
        raise typer.Exit(3)


@app.command()
def status(
    vault_file: VaultFile = DEFAULT_VAULT, clouds: CloudsFile = None, wrap_key: WrapKey = None
) -> None:
    """Which providers answer, and what is degraded."""
    with _opened(vault_file, clouds, wrap_key) as v, _failures("vault status"):
        found = maintenance.status(v)
        entries = v.ls(deleted=True)
    table = Table(title=f"vault {v.config.k}-of-{v.config.n}")
    for column in ("slot", "landlord", "owner", "answers", "manifests"):
        table.add_column(column)
    for s in found:
        answers = "yes" if s.answers else f"[red]no[/red] ({s.detail})"
        table.add_row(str(s.slot), s.landlord, s.owner, answers, str(s.manifests))
    out.print(table)
    for e in entries:
        if e.problems:
            what = f"{e.name} (deleted)" if e.deleted else e.name
            out.print(f"degraded: {what}: " + "; ".join(map(str, e.problems)))


TopologyFile = Annotated[
    Path | None, typer.Option("--topology", exists=True, help="Default: the built-in one.")
]


def _replacement(
    v: Vault,
    replaced: str,
    landlord: str | None,
    who: tuple[str, str, Path | None, str | None],
    clouds: Path | None,
) -> Offering:
    user, home, topo, exchange = who
    if landlord is not None and landlord == replaced:
        return v.config.providers[v.config.slot_of(landlord)]  # in place: it answers again
    source = _source(exchange, topo, clouds, user, home)
    current = v.config.providers
    limits = Constraints(
        exclude_owners=tuple(p.owner for p in current),
        exclude_landlords=tuple(p.landlord for p in current),
    )
    offers = source.object_stores()
    if landlord is not None:
        offers = [o for o in offers if o.landlord == landlord]
    return choose(offers, 1, limits).chosen[0]


@app.command()
def repair(
    landlord: Annotated[str, typer.Argument(help="The provider whose share is lost or bad.")],
    to: Annotated[
        str | None, typer.Option("--to", help="The new provider (default: chosen).")
    ] = None,
    user: Annotated[str, typer.Option("--user")] = "alice",
    home: Annotated[str, typer.Option("--home")] = "harvard",
    topology_file: TopologyFile = None,
    exchange: ExchangeUrl = None,
    vault_file: VaultFile = DEFAULT_VAULT,
    clouds: CloudsFile = None,
    wrap_key: WrapKey = None,
) -> None:
    """Rebuild LANDLORD's share of every name at a new provider of a new owner (or at
    LANDLORD itself with --to LANDLORD, once it answers again)."""
    _move(
        landlord,
        to,
        (user, home, topology_file, exchange),
        vault_file,
        clouds,
        wrap_key,
        migrate=False,
    )


@app.command()
def migrate(
    landlord: Annotated[str, typer.Argument(help="The provider to move away from.")],
    to: Annotated[str, typer.Argument(help="The provider to move to.")],
    user: Annotated[str, typer.Option("--user")] = "alice",
    home: Annotated[str, typer.Option("--home")] = "harvard",
    topology_file: TopologyFile = None,
    exchange: ExchangeUrl = None,
    vault_file: VaultFile = DEFAULT_VAULT,
    clouds: CloudsFile = None,
    wrap_key: WrapKey = None,
) -> None:
    """Move LANDLORD's share to TO, then empty it at LANDLORD."""
    _move(
        landlord,
        to,
        (user, home, topology_file, exchange),
        vault_file,
        clouds,
        wrap_key,
        migrate=True,
    )


def _move(
    landlord: str,
    to: str | None,
    who: tuple[str, str, Path | None, str | None],
    vault_file: Path,
    clouds: Path | None,
    wrap_key: Path | None,
    migrate: bool,
) -> None:
    what = "vault migrate" if migrate else "vault repair"
    with _opened(vault_file, clouds, wrap_key) as v, _failures(what), _progress() as bar:
        offer = _replacement(v, landlord, to, who, clouds)
        task = bar.add_task(what, total=None)
        tick = lambda size: bar.advance(task, size)  # noqa: E731
        if migrate:
            cfg, failed = maintenance.migrate(v, landlord, offer, tick)
        else:
            cfg, failed = maintenance.repair(v, v.config.slot_of(landlord), offer, tick)
        config.save(cfg, vault_file)
    _providers_table(f"{landlord} → {offer.landlord} (owner {offer.owner})", cfg.providers)
    for f in failed:
        err.print(f"[red]not rebuilt:[/red] {f.name}")
        _problems(f.problems)
    if failed:
        raise typer.Exit(3)
