"""``ocx vault …`` against live stores (in-process, with Typer's runner)."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ocx.cli import app
from tests.vault.helpers import World

TOPOLOGY = str(Path(__file__).resolve().parents[2] / "docs" / "scenario5.toml")


@pytest.fixture
def run(world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> object:
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(world.clouds_file))
    monkeypatch.setenv("OCX_VAULT", str(tmp_path / "vault.json"))
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def invoke(*args: str, code: int = 0) -> str:
        done = runner.invoke(app, ["vault", *args])
        assert done.exit_code == code, done.output
        return done.output

    return invoke


def test_put_get_range_ls_rm(run: object, tmp_path: Path) -> None:
    invoke = run  # type: ignore[assignment]
    out = invoke("init", "--k", "2", "--n", "3", "--topology", TOPOLOGY)
    assert "vault 2-of-3" in out and "vast: not needed" in out
    saved = json.loads((tmp_path / "vault.json").read_text())
    saved["container"] = "cli-rm"  # rm leaves its tombstone, signed with this vault's key
    (tmp_path / "vault.json").write_text(json.dumps(saved))
    assert stat.S_IMODE((tmp_path / "vault.json").stat().st_mode) == 0o600
    invoke("init", "--topology", TOPOLOGY, code=1)  # exists: refused without --force
    (tmp_path / "notes.txt").write_bytes(b"0123456789" * 100)
    assert "notes.txt: version" in invoke("put", "notes.txt")
    invoke("get", "notes.txt", "back.txt")
    assert (tmp_path / "back.txt").read_bytes() == b"0123456789" * 100
    assert invoke("get", "notes.txt", "-", "--range", "10-14").startswith("01234")
    assert "notes.txt" in invoke("ls")
    assert "ok" in invoke("verify")
    assert "notes.txt: removed" in invoke("rm", "notes.txt")
    assert "not in the vault (deleted at version" in invoke("get", "notes.txt", code=1)
    assert "not in the vault (deleted at version" in invoke("rm", "notes.txt", code=1)
    assert "notes.txt" not in invoke("ls")


def test_migrate_and_status(run: object, tmp_path: Path) -> None:
    invoke = run  # type: ignore[assignment]
    invoke("init", "--topology", TOPOLOGY)
    (tmp_path / "a.bin").write_bytes(bytes(range(256)) * 50)
    invoke("put", "a.bin")
    out = invoke("migrate", "mit", "vast", "--topology", TOPOLOGY)
    assert "mit → vast" in out
    landlords = [
        p["landlord"] for p in json.loads((tmp_path / "vault.json").read_text())["providers"]
    ]
    assert landlords == ["harvard", "vast", "stor"]
    assert "vast" in invoke("status")
    invoke("get", "a.bin", "b.bin")
    assert (tmp_path / "b.bin").read_bytes() == (tmp_path / "a.bin").read_bytes()
    out = invoke("migrate", "vast", "stor", "--topology", TOPOLOGY, code=1)
    assert "left out, owner stor excluded" in out


def test_too_many_shares_for_the_owners_there_are(run: object) -> None:
    invoke = run  # type: ignore[assignment]
    out = invoke("init", "--k", "2", "--n", "5", "--topology", TOPOLOGY, code=1)
    assert "only 4 object stores of distinct owners fit, 5 needed" in out


def test_wrapped_vault_needs_its_key(run: object, tmp_path: Path) -> None:
    invoke = run  # type: ignore[assignment]
    invoke("init", "--topology", TOPOLOGY, "--new-wrap-key", str(tmp_path / "wrap.key"))
    (tmp_path / "s.txt").write_bytes(b"secret")
    invoke("put", "s.txt", "--wrap-key", str(tmp_path / "wrap.key"))
    assert "give --wrap-key" in invoke("get", "s.txt", code=1)
    invoke("get", "s.txt", "t.txt", "--wrap-key", str(tmp_path / "wrap.key"))
    assert (tmp_path / "t.txt").read_bytes() == b"secret"


def test_repair_in_place(run: object, tmp_path: Path) -> None:
    invoke = run  # type: ignore[assignment]
    invoke("init", "--topology", TOPOLOGY)
    saved = json.loads((tmp_path / "vault.json").read_text())
    saved["container"] = "cli-repair"  # not the other tests' names: repair covers every name
    (tmp_path / "vault.json").write_text(json.dumps(saved))
    (tmp_path / "a.bin").write_bytes(b"x" * 5000)
    invoke("put", "a.bin")
    assert "mit → mit" in invoke("repair", "mit", "--to", "mit", "--topology", TOPOLOGY)
    invoke("get", "a.bin", "b.bin")
    assert (tmp_path / "b.bin").read_bytes() == b"x" * 5000
    assert "ok" in invoke("verify", "--full")
    assert "min shares must be k .. n" in invoke(
        "init", "--force", "--min-shares", "1", "--topology", TOPOLOGY, code=1
    )
