"""openstacksdk's ``conn.object_store`` and the ``openstack container``/``object`` commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import openstack
import pytest

from ocx import clouds
from tests.object.conftest import Landlord

OPENSTACK = str(Path(sys.executable).with_name("openstack"))


@pytest.fixture
def cloud(landlord: Landlord, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = clouds.write(landlord.exchange, landlord.exchange.data_dir / "clouds.yaml")
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(path))
    for name in [k for k in os.environ if k.startswith("OS_") and k != "OS_CLIENT_CONFIG_FILE"]:
        monkeypatch.delenv(name)
    return path


def test_openstacksdk_object_store(cloud: Path, tmp_path: Path) -> None:
    conn = openstack.connect(cloud="harvard")
    store = conn.object_store
    store.create_container(name="sdk")
    store.upload_object(container="sdk", name="hello.txt", data=b"hello sdk")
    names = [o.name for o in store.objects("sdk")]
    assert names == ["hello.txt"]
    assert store.download_object("hello.txt", container="sdk") == b"hello sdk"
    store.set_object_metadata("hello.txt", container="sdk", color="green")
    assert store.get_object_metadata("hello.txt", container="sdk").metadata["color"] == "green"
    store.set_account_metadata(owner="harvard")
    assert store.get_account_metadata().metadata["owner"] == "harvard"
    info = conn.object_store.get_info()
    assert info.swift["container_listing_limit"] == 10000
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(3 * 1024 * 1024 + 7))
    conn.create_object("sdk", "big.bin", filename=str(big), segment_size=1024 * 1024)
    assert store.download_object("big.bin", container="sdk") == big.read_bytes()
    conn.delete_object("sdk", "big.bin")
    store.delete_object("hello.txt", container="sdk")
    store.delete_container("sdk")
    assert [c.name for c in store.containers()] == []
    conn.close()


def run(*args: str) -> str:
    done = subprocess.run(
        [OPENSTACK, "--os-cloud", "harvard", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_openstack_cli(cloud: Path, tmp_path: Path) -> None:
    run("container", "create", "cli")
    listed = json.loads(run("container", "list", "-f", "json"))
    assert [c["Name"] for c in listed] == ["cli"]
    source = tmp_path / "note.txt"
    source.write_text("from the cli\n")
    run("object", "create", "cli", str(source), "--name", "note.txt")
    objects = json.loads(run("object", "list", "cli", "-f", "json"))
    assert [o["Name"] for o in objects] == ["note.txt"]
    shown = json.loads(run("object", "show", "cli", "note.txt", "-f", "json"))
    assert shown["content-length"] == "13"
    run("object", "set", "--property", "kind=note", "cli", "note.txt")
    shown = json.loads(run("object", "show", "cli", "note.txt", "-f", "json"))
    assert shown["properties"] == {"kind": "note"}
    out = tmp_path / "saved.txt"
    run("object", "save", "cli", "note.txt", "--file", str(out))
    assert out.read_text() == "from the cli\n"
    container = json.loads(run("container", "show", "cli", "-f", "json"))
    assert container["object_count"] == "1"
    account = json.loads(run("object", "store", "account", "show", "-f", "json"))
    assert account["Containers"] == "1"
    run("object", "delete", "cli", "note.txt")
    run("container", "delete", "cli")
    assert json.loads(run("container", "list", "-f", "json")) == []
