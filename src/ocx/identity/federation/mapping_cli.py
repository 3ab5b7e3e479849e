"""``ocx identity mapping test``: try mapping rules on an assertion, offline.

The OCX counterpart of ``keystone-manage mapping_engine``, except that the input is a JSON
object (attribute name to a string, ``;`` between values, or a list of strings).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from ocx.identity.federation.mapping import MappingError, NoMatch, evaluate

app = typer.Typer(
    help="Federation mapping rules (Keystone's format), tested offline.",
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def _group() -> None:
    """Federation mapping rules (Keystone's format), tested offline."""


@app.command("test")
def test_rules(
    rules: Annotated[Path, typer.Option("--rules", help='Mapping JSON: {"rules": [...]}.')],
    input_file: Annotated[
        Path, typer.Option("--input", help="Assertion JSON: attribute name to value(s).")
    ],
    schema_version: Annotated[
        str | None,
        typer.Option("--schema-version", help="1.0 or 2.0; default: the file's, else 1.0."),
    ] = None,
    remote_user: Annotated[
        str | None,
        typer.Option("--remote-user", help="Keystone's REMOTE_USER: the name of last resort."),
    ] = None,
) -> None:
    """Print what RULES make of the INPUT assertion, as JSON; exit 1 if nothing maps."""
    document = _load(rules, "rules")
    assertion = _load(input_file, "input")
    if not isinstance(assertion, dict):
        _fail(f"input: {input_file} must hold a JSON object of attributes")
    try:
        mapped = evaluate(document, assertion, schema_version, remote_user=remote_user)
    except NoMatch as exc:
        _fail(f"no match: {exc}")
    except MappingError as exc:
        _fail(f"invalid: {exc}")
    typer.echo(json.dumps(mapped.as_dict(), indent=2))


def _load(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        _fail(f"{what}: cannot read {path}: {exc.strerror or exc}")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        _fail(f"{what}: {path} is not valid JSON: {exc}")


def _fail(message: str) -> NoReturn:
    typer.echo(f"ocx identity mapping test: {message}", err=True)
    raise typer.Exit(1)
