"""``ocx proxy where`` and the Python API behind it."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from ocx import clouds
from ocx.proxy import cli, client
from tests.proxy.conftest import Mixed, placed


@pytest.fixture
def clouds_file(mixed: Mixed, monkeypatch: pytest.MonkeyPatch) -> str:
    path = clouds.write(mixed.exchange, mixed.exchange.data_dir / "clouds.yaml")
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(path))
    return str(path)


def test_where_shows_each_containers_landlord(mixed: Mixed, clouds_file: str) -> None:
    conn = mixed.conn()
    for container, landlord in (("notes", "harvard"), ("data", "mit"), ("archive", "stor")):
        placed(conn, container, landlord)
    conn.put_object("data", "o", b"12345")
    found = client.where(client.session_for_cloud("harvard-alice"))
    assert found.containers == [
        client.Placement("archive", "stor", 0, 0),
        client.Placement("data", "mit", 1, 5),
        client.Placement("notes", "harvard", 0, 0),
    ]
    assert (found.landlords, found.missing) == (["harvard", "mit", "stor"], "")
    result = CliRunner().invoke(cli.app, ["where", "--cloud", "harvard-alice", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["containers"][1] == {
        "container": "data",
        "landlord": "mit",
        "objects": 1,
        "bytes": 5,
    }
    table = CliRunner().invoke(cli.app, ["where", "--cloud", "harvard-alice"])
    assert table.exit_code == 0
    assert "│ data      │ mit      │" in table.output


def test_where_names_a_landlord_that_does_not_answer(mixed: Mixed, clouds_file: str) -> None:
    mixed.stop("stor")
    result = CliRunner().invoke(cli.app, ["where", "--cloud", "harvard-alice", "--json"])
    assert json.loads(result.output)["missing"] == "stor (cannot connect)"


def test_where_explains_an_unknown_cloud(clouds_file: str) -> None:
    result = CliRunner().invoke(cli.app, ["where", "--cloud", "nobody"])
    assert result.exit_code == 1
    assert "no cloud 'nobody'" in result.output
