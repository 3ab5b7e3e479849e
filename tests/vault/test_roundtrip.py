"""Round trips through live object stores of three owners, over K2K tokens."""

from __future__ import annotations

import hashlib
import io
import random
import tracemalloc
from pathlib import Path

import pytest

from ocx.vault import config as vault_config
from ocx.vault.errors import VaultNotFound
from tests.vault.helpers import SEGMENT, World, data, get, put


@pytest.mark.parametrize("size", [0, 1, SEGMENT - 1, SEGMENT, SEGMENT + 1, 5 * SEGMENT + 17])
def test_round_trip(world: World, size: int) -> None:
    payload = data(size)
    with world.vault() as vault:
        put(vault, "genome.fa", payload)
        got, problems = get(vault, "genome.fa")
    assert got == payload
    assert problems == []


def test_shares_in_parts_and_ranges(world: World) -> None:
    payload = data(10 * SEGMENT + 5)
    with world.vault(world.config(fragments_per_part=3)) as vault:
        put(vault, "big", payload)
        store = vault.stores[0]
        assert len([n for n in store.list("d/")]) == 4  # 11 segments in parts of 3
        for start, end in [(0, 1), (SEGMENT - 1, SEGMENT + 1), (3 * SEGMENT + 9, 10 * SEGMENT + 5)]:
            got, problems = get(vault, "big", start=start, end=end)
            assert got == payload[start:end]
            assert problems == []


def test_new_version_replaces_the_old(world: World) -> None:
    with world.vault() as vault:
        put(vault, "notes", b"first")
        put(vault, "notes", b"second")
        assert get(vault, "notes")[0] == b"second"
        assert [(e.name, e.size) for e in vault.ls()] == [("notes", 6)]
        # one version's manifest and data at each provider, nothing more
        for store in vault.stores:
            assert len(store.list("m/")) == 1
            assert len(store.list("d/")) == 1
        vault.rm("notes")
        assert vault.ls() == []
        with pytest.raises(VaultNotFound):
            get(vault, "notes")


def test_providers_see_no_name_and_no_plaintext(world: World) -> None:
    payload = b"ACGT" * 5000
    with world.vault() as vault:
        put(vault, "patient-42.vcf", payload)
        for store in vault.stores:
            for name in store.list(""):
                assert "patient" not in name
                body = store.get(name)
                assert b"patient-42" not in body
                assert b"ACGTACGTACGT" not in body


def _file(path: Path, mib: int) -> str:
    digest = hashlib.sha256()
    rng = random.Random(5)
    with path.open("wb") as out:
        for _ in range(mib):
            block = rng.randbytes(1024 * 1024)
            digest.update(block)
            out.write(block)
    return digest.hexdigest()


def _sha(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while block := source.read(1024 * 1024):
            digest.update(block)
    return digest.hexdigest()


@pytest.mark.slow
def test_300_mib_round_trip_in_bounded_memory(world: World, tmp_path: Path) -> None:
    source = tmp_path / "big.bin"
    want = _file(source, 300)
    cfg = world.config(segment_size=vault_config.DEFAULT_SEGMENT, fragments_per_part=128)
    with world.vault(cfg) as vault:
        tracemalloc.start()
        vault.put_file(source, "big")
        _, put_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        report = vault.get_file("big", tmp_path / "back.bin")
        _, get_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert report.problems == [] and report.bytes == 300 * 1024 * 1024
    assert _sha(tmp_path / "back.bin") == want
    assert put_peak < 64 * 1024 * 1024, put_peak
    assert get_peak < 64 * 1024 * 1024, get_peak


@pytest.mark.parametrize("delta", [-1, 0, 1])
def test_default_segment_boundaries(world: World, delta: int) -> None:
    size = vault_config.DEFAULT_SEGMENT + delta
    payload = data(size, seed=delta + 2)
    cfg = world.config(segment_size=vault_config.DEFAULT_SEGMENT)
    with world.vault(cfg) as vault:
        manifest = vault.put("edge", io.BytesIO(payload))
        assert manifest.segments == (1 if delta <= 0 else 2)
        assert get(vault, "edge") == (payload, [])


def test_the_customer_api(world: World, tmp_path: Path) -> None:
    from ocx.clients import vault as api

    path = tmp_path / "vault.json"
    api.save_config(world.config(), path)
    (tmp_path / "in.txt").write_bytes(b"through ocx.clients.vault")
    with api.Vault.open(api.load_config(path), world.clouds_file) as vault:
        vault.put_file(tmp_path / "in.txt")
        report = vault.get_file("in.txt", tmp_path / "out.txt")
        assert [e.name for e in vault.ls()] == ["in.txt"]
        assert [c.problems for c in api.verify(vault)] == [()]
    assert report.problems == [] and report.bytes == 25
    assert (tmp_path / "out.txt").read_bytes() == b"through ocx.clients.vault"
