"""Files: sparse volumes, clones that copy only data, and recovery after a crash."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ocx.volume.storage import GiB, Storage
from tests.volume.conftest import Api, Landlord


@pytest.fixture
def storage(tmp_path: Path) -> Storage:
    store = Storage(tmp_path / "volume")
    store.prepare()
    return store


def test_blank_volumes_are_sparse(storage: Storage) -> None:
    target = storage.volume("v1")
    storage.create_blank(target, 2)
    assert target.stat().st_size == 2 * GiB
    assert storage.allocated_bytes(target) < 1024 * 1024
    assert list(storage.volumes.iterdir()) == [target]


def test_clone_copies_data_and_keeps_holes(storage: Storage) -> None:
    source = storage.volume("v1")
    storage.create_blank(source, 1)
    chunk = os.urandom(1024 * 1024)
    with open(source, "r+b") as handle:
        handle.seek(512 * 1024 * 1024)
        handle.write(chunk)
    snap = storage.snapshot("s1")
    how = storage.clone(source, snap, 1)
    assert how in ("reflink", "extents")
    with open(snap, "rb") as handle:
        handle.seek(512 * 1024 * 1024)
        assert handle.read(len(chunk)) == chunk
    assert storage.allocated_bytes(snap) < 8 * 1024 * 1024
    bigger = storage.volume("v2")
    storage.clone(snap, bigger, 3)
    assert bigger.stat().st_size == 3 * GiB


def test_a_failed_build_leaves_nothing(storage: Storage) -> None:
    with pytest.raises(FileNotFoundError):
        storage.clone(storage.volume("missing"), storage.volume("v9"), 1)
    assert list(storage.volumes.iterdir()) == []


def test_sweep_removes_partial_and_orphan_files(storage: Storage) -> None:
    storage.create_blank(storage.volume("keep"), 1)
    storage.create_blank(storage.volume("orphan"), 1)
    (storage.volumes / ".half.tmp").write_bytes(b"x")
    (storage.snapshots / "gone.img").write_bytes(b"x")
    removed = storage.sweep(["keep"], [])
    assert sorted(removed) == [".half.tmp", "gone.img", "orphan.img"]
    assert [p.name for p in storage.volumes.iterdir()] == ["keep.img"]


def test_restart_finishes_what_a_crash_left(stor: Landlord, api: Api) -> None:
    """Rows left ``creating``/``deleting`` and stray files, as a kill at each step leaves."""
    from sqlalchemy import update

    from ocx.volume.models import Volume

    svc = stor.service
    creating = api.volume(1, name="creating")
    deleting = api.volume(1, name="deleting")
    kept = api.volume(1, name="kept")

    async def crash_state() -> None:
        async with svc.db.session() as session:
            await session.execute(
                update(Volume).where(Volume.id == creating["id"]).values(status="creating")
            )
            await session.execute(
                update(Volume).where(Volume.id == deleting["id"]).values(status="deleting")
            )

    stor.run(crash_state())
    svc.storage.volume(creating["id"]).unlink()  # killed before the rename
    (svc.storage.volumes / f".{creating['id']}.tmp").write_bytes(b"half")
    (svc.storage.volumes / "no-such-volume.img").write_bytes(b"leak")
    stor.run(svc.recover())
    volumes = {v["name"]: v for v in api.ok("GET", "/volumes/detail")["volumes"]}
    assert volumes["creating"]["status"] == "error"
    assert "deleting" not in volumes and volumes["kept"]["status"] == "available"
    files = sorted(p.name for p in svc.storage.volumes.iterdir())
    assert files == [f"{kept['id']}.img"]
    api.ok("DELETE", f"/volumes/{creating['id']}", status=202)


def test_pagination_and_filters(api: Api) -> None:
    made = [api.volume(1, name=f"v{i}", metadata={"n": str(i % 2)}) for i in range(5)]
    first = api.ok("GET", "/volumes/detail?limit=2")
    assert [v["name"] for v in first["volumes"]] == ["v4", "v3"]
    link = first["volumes_links"][0]["href"]
    assert "marker=" in link
    second = api.ok("GET", "/volumes/detail?limit=2&marker=" + first["volumes"][-1]["id"])
    assert [v["name"] for v in second["volumes"]] == ["v2", "v1"]
    by_name = api.ok("GET", "/volumes?sort=name:asc")["volumes"]
    assert [v["name"] for v in by_name] == ["v0", "v1", "v2", "v3", "v4"]
    odd = api.ok("GET", "/volumes/detail", params={"metadata": "{'n': '1'}"})["volumes"]
    assert sorted(v["name"] for v in odd) == ["v1", "v3"]
    like = api.ok("GET", "/volumes?name~=v&with_count=true")
    assert like["count"] == 5
    assert api.ok("GET", "/volumes?name=v0")["volumes"][0]["id"] == made[0]["id"]


def test_exports_turn_off_chacha_where_aes_is_fast() -> None:
    from ocx.volume.nbd import gnutls_config

    assert "tls-disabled-cipher = CHACHA20-POLY1305" in gnutls_config(True)
    assert "CHACHA20" not in gnutls_config(False)
