"""The ``swift`` command (python-swiftclient) against a live landlord, as a user types it."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import requests

from tests.object.conftest import Customer, Landlord

MIB = 1024 * 1024


def _file(path: Path, size: int, seed: int = 1) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    block = hashlib.sha256(str(seed).encode()).digest() * (64 * 1024 // 32)
    with path.open("wb") as out:
        left = size
        while left:
            out.write(block[: min(left, len(block))])
            left -= min(left, len(block))
    return path


def test_stat_post_and_account_metadata(alice: Customer) -> None:
    alice.swift("post", "-m", "Color:blue")
    out = alice.swift("stat").stdout
    assert f"Account: AUTH_{alice.project_id}" in out
    assert "Containers: 0" in out
    assert "Meta Color: blue" in out


def test_upload_list_download_copy_delete(alice: Customer, tmp_path: Path) -> None:
    _file(tmp_path / "docs" / "a.txt", 10)
    _file(tmp_path / "docs" / "sub" / "b.txt", 20, seed=2)
    alice.swift("upload", "box", "docs", cwd=tmp_path)
    listed = alice.swift("list", "box").stdout.split()
    assert listed == ["docs/a.txt", "docs/sub/b.txt"]
    assert alice.swift("list", "box", "--prefix", "docs/s").stdout.split() == ["docs/sub/b.txt"]
    folded = alice.swift("list", "box", "--prefix", "docs/", "--delimiter", "/").stdout.split()
    assert folded == ["docs/a.txt", "docs/sub/"]
    alice.swift("copy", "box", "docs/a.txt", "--destination", "/box/copied.txt")
    out = tmp_path / "out"
    alice.swift("download", "box", "copied.txt", "-o", str(out))
    assert out.read_bytes() == (tmp_path / "docs" / "a.txt").read_bytes()
    alice.swift("delete", "box", "copied.txt")
    assert alice.swift("list", "box").stdout.split() == ["docs/a.txt", "docs/sub/b.txt"]
    alice.swift("delete", "box")
    assert alice.swift("list").stdout.split() == []


def test_segmented_uploads_slo_and_dlo(alice: Customer, tmp_path: Path) -> None:
    big = _file(tmp_path / "big.bin", 3 * MIB + 12345)
    alice.swift("upload", "big", "big.bin", "--segment-size", str(MIB), cwd=tmp_path)
    alice.swift(
        "upload",
        "big",
        "big.bin",
        "--segment-size",
        str(MIB),
        "--use-dlo",
        "--object-name",
        "dlo.bin",
        cwd=tmp_path,
    )
    stat = alice.swift("stat", "big", "big.bin").stdout
    assert "Manifest" not in stat or "big_segments" in stat
    assert "Content Length: 3158073" in stat
    assert "X-Static-Large-Object: True" in stat
    dlo_stat = alice.swift("stat", "big", "dlo.bin").stdout
    assert "Manifest: big_segments/dlo.bin/" in dlo_stat
    for name in ("big.bin", "dlo.bin"):
        target = tmp_path / f"down-{name}"
        alice.swift("download", "big", name, "-o", str(target))
        assert target.read_bytes() == big.read_bytes()
    assert len(alice.swift("list", "big_segments").stdout.split()) == 8
    alice.swift("delete", "big", "big.bin")
    alice.swift("delete", "big", "dlo.bin")
    assert alice.swift("list", "big_segments").stdout.split() == []


def test_download_a_range(alice: Customer, tmp_path: Path) -> None:
    data = _file(tmp_path / "r.bin", 100_000).read_bytes()
    alice.swift("upload", "r", "r.bin", cwd=tmp_path)
    out = tmp_path / "part"
    alice.swift("download", "r", "r.bin", "-o", str(out), "-H", "Range: bytes=10-99")
    assert out.read_bytes() == data[10:100]


def test_tempurl_from_the_cli(alice: Customer, landlord: Landlord, tmp_path: Path) -> None:
    _file(tmp_path / "t.txt", 1000)
    alice.swift("upload", "t", "t.txt", cwd=tmp_path)
    alice.swift("post", "-m", "Temp-URL-Key:secret")
    path = f"/v1/AUTH_{alice.project_id}/t/t.txt"
    signed = alice.swift("tempurl", "GET", "60", path, "secret").stdout.strip()
    got = requests.get(landlord.object_url + signed, timeout=10)
    assert got.status_code == 200
    assert got.content == (tmp_path / "t.txt").read_bytes()
    put = alice.swift("tempurl", "PUT", "60", f"/v1/AUTH_{alice.project_id}/t/new", "secret")
    assert (
        requests.put(landlord.object_url + put.stdout.strip(), data=b"x", timeout=10).status_code
        == 201
    )
    tampered = signed.replace("t.txt", "other")
    assert requests.get(landlord.object_url + tampered, timeout=10).status_code == 401


def test_capabilities(alice: Customer) -> None:
    out = alice.swift("capabilities", "--json").stdout
    caps = json.loads(out)
    assert {"swift", "slo", "dlo", "tempurl", "bulk_delete"} <= set(caps)
    assert os.path.basename(__file__)
