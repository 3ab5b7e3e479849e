"""``ocx identity mapping test``, driven through its Typer sub-app."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from ocx.identity.federation.mapping_cli import app

DATA = Path(__file__).parent / "data"
EXAMPLES = {ex["name"]: ex for ex in json.loads((DATA / "keystone_examples.json").read_text())}


def write(path: Path, content: Any) -> Path:
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


def run(tmp_path: Path, rules: Any, assertion: Any, *extra: str) -> Result:
    rules_file = write(tmp_path / "rules.json", rules)
    input_file = write(tmp_path / "input.json", assertion)
    args = ["test", "--rules", str(rules_file), "--input", str(input_file), *extra]
    return CliRunner().invoke(app, args)


@pytest.mark.parametrize("name", ["whitelist-groups", "auto-provisioning", "regex"])
def test_good_input_prints_the_mapped_json(tmp_path: Path, name: str) -> None:
    example = EXAMPLES[name]
    result = run(tmp_path, example["rules"], example["cases"][0]["input"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == example["cases"][0]["expected"]
    assert result.stderr == ""


def test_no_match_exits_1_with_a_message(tmp_path: Path) -> None:
    example = EXAMPLES["any-one-of"]
    result = run(tmp_path, example["rules"], {"UserName": "grace", "Affiliation": "student"})
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.strip() == (
        "ocx identity mapping test: no match: no rule matched the assertion"
    )


def test_invalid_rules_exit_1_and_say_where(tmp_path: Path) -> None:
    rules = {"rules": [{"local": [{"user": {"name": "{0}"}}], "remote": [{"tpye": "UserName"}]}]}
    result = run(tmp_path, rules, {"UserName": "ada"})
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "ocx identity mapping test: invalid: rules[0].remote[0]: unknown key(s) 'tpye'"
    )


def test_bad_regex_exits_1(tmp_path: Path) -> None:
    remote = [{"type": "u"}, {"type": "g", "whitelist": ["[a-"], "regex": True}]
    rules = {"rules": [{"local": [{"user": {"name": "{0}"}}], "remote": remote}]}
    result = run(tmp_path, rules, {"u": "ada"})
    assert result.exit_code == 1
    assert "rules[0].remote[1].whitelist[0]: invalid regular expression" in result.stderr


@pytest.mark.parametrize(
    ("rules", "assertion", "message"),
    [
        ("{not json", {"u": "x"}, "rules: "),
        ({"rules": []}, "[1, 2]", "must hold a JSON object"),
        ({"rules": []}, b"\xff\xfe{}", "input: "),
    ],
)
def test_unreadable_files_exit_1(tmp_path: Path, rules: Any, assertion: Any, message: str) -> None:
    result = run(tmp_path, rules, assertion)
    assert result.exit_code == 1
    assert message in result.stderr


def test_missing_file_exits_1(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.json")
    result = CliRunner().invoke(app, ["test", "--rules", missing, "--input", missing])
    assert result.exit_code == 1
    assert "rules: cannot read" in result.stderr


def test_schema_version_option(tmp_path: Path) -> None:
    project = {"name": "p", "roles": [{"name": "member"}], "domain": {"name": "lab"}}
    rules = {
        "rules": [
            {"local": [{"user": {"name": "{0}"}, "projects": [project]}], "remote": [{"type": "u"}]}
        ]
    }
    refused = run(tmp_path, rules, {"u": "ada"})
    assert refused.exit_code == 1 and "needs schema_version 2.0" in refused.stderr
    accepted = run(tmp_path, rules, {"u": "ada"}, "--schema-version", "2.0")
    assert accepted.exit_code == 0, accepted.output
    assert json.loads(accepted.stdout)["projects"] == [
        {"name": "p", "roles": [{"name": "member"}], "domain": {"name": "lab"}}
    ]
    unknown = run(tmp_path, rules, {"u": "ada"}, "--schema-version", "9.9")
    assert unknown.exit_code == 1 and "'9.9' is unknown" in unknown.stderr


def test_remote_user_option(tmp_path: Path) -> None:
    example = EXAMPLES["k2k-group-by-id"]
    case = example["cases"][0]
    result = run(tmp_path, example["rules"], case["input"], "--remote-user", case["remote_user"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == case["expected"]


def test_ambiguous_assertion_exits_1(tmp_path: Path) -> None:
    rules = {"rules": [{"local": [{"user": {"name": "{0}"}}], "remote": [{"type": "u"}]}]}
    result = run(tmp_path, rules, {"u": "ada;eve"})
    assert result.exit_code == 1
    assert "rules[0].local[0].user.name: {0} has 2 values here, not one" in result.stderr


def test_help_lists_the_test_command() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "test" in result.stdout
