"""Orphaned data files are reclaimed, and only those (issue #17, R4).

A crash is simulated at every step of a write: the step fails and nothing after it runs (no
cleanup either). Then the service "restarts" (its memory of writes in progress is gone, the
start's sweeps run) and exactly the files that rows refer to remain, every object whole.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from ocx.common import tmpfiles
from ocx.object import storage
from ocx.object.service import ObjectService
from ocx.object.store import Store
from tests.object.conftest import Customer, Landlord, raw
from tests.object.test_faults import files, object_root, service, until


class Crash(OSError):
    pass


def crash(*_args: Any, **_kwargs: Any) -> None:
    raise Crash("simulated crash")


async def crash_async(*_args: Any, **_kwargs: Any) -> None:
    raise Crash("simulated crash")


def no_cleanup(monkeypatch: pytest.MonkeyPatch) -> None:
    """A crashed process runs no cleanup: drafts stay, files are never unlinked."""
    monkeypatch.setattr(storage.Draft, "discard", lambda self: None)

    async def keep(self: storage.Storage, file_ids: object) -> None:
        return None

    monkeypatch.setattr(storage.Storage, "remove_all", keep)


def at_write(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(storage.Draft, "write", crash)


def at_fsync(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(storage.Draft, "seal", crash)


def at_rename(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(storage.os, "replace", crash)


def at_dir_fsync(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(storage, "_fsync_dir", crash)


def at_commit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Store, "put_object", crash_async)


def after_commit(monkeypatch: pytest.MonkeyPatch) -> None:
    """The row is committed; the displaced version's file is never unlinked (a DELETE's
    unlink is before its answer, a PUT's after)."""
    monkeypatch.setattr(storage.Storage, "remove_all", crash_async)


STEPS = [at_write, at_fsync, at_rename, at_dir_fsync, at_commit, after_commit]


def referred(svc: ObjectService, landlord: Landlord) -> set[str]:
    bg = landlord.exchange.background  # type: ignore[attr-defined]
    return set(bg.call(svc.store.file_ids()))


def on_disk(root: Path) -> set[str]:
    return {p.name for p in files(root / "data")}


def restart(svc: ObjectService, landlord: Landlord) -> int:
    svc.storage.in_progress.clear()  # a new process remembers no writes
    with mock.patch.object(tmpfiles, "_owner_alive", lambda _name: False):  # nor its tmp files
        svc.storage.prepare()
    bg = landlord.exchange.background  # type: ignore[attr-defined]
    return int(bg.call(svc.sweep(grace=0)))


@pytest.mark.parametrize("step", STEPS, ids=lambda f: f.__name__)
def test_a_crash_at_any_step_leaves_nothing_after_the_sweep(
    landlord: Landlord, alice: Customer, monkeypatch: pytest.MonkeyPatch, step: Any
) -> None:
    url, token = alice.token()
    raw("PUT", url + "/box", token)
    raw("PUT", url + "/box/obj", token, data=b"old version")
    raw("PUT", url + "/box/other", token, data=b"untouched")
    svc = service(landlord)
    with monkeypatch.context() as patch:
        no_cleanup(patch)
        step(patch)
        # After the commit the answer is given: the displaced file's unlink runs later.
        status = 201 if step is after_commit else 500
        for name, data in (("obj", b"new version"), ("fresh", b"brand new")):
            assert raw("PUT", f"{url}/box/{name}", token, data=data).status_code == status
        bg = landlord.exchange.background  # type: ignore[attr-defined]
        bg.call(svc.unlinked())
        copied = raw("PUT", url + "/box/copy", token, headers={"X-Copy-From": "box/other"})
        assert copied.status_code in (201, 500)
    root = object_root(landlord)
    restart(svc, landlord)
    assert files(root / "tmp") == []
    assert on_disk(root) == referred(svc, landlord)
    committed = step is after_commit
    want = b"new version" if committed else b"old version"
    assert raw("GET", url + "/box/obj", token).content == want
    assert raw("GET", url + "/box/other", token).content == b"untouched"
    assert raw("HEAD", url + "/box/fresh", token).status_code == (200 if committed else 404)


def test_a_crash_between_a_delete_and_its_unlink(
    landlord: Landlord, alice: Customer, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, token = alice.token()
    raw("PUT", url + "/box", token)
    raw("PUT", url + "/box/gone", token, data=b"x")
    svc = service(landlord)
    with monkeypatch.context() as patch:
        after_commit(patch)
        assert raw("DELETE", url + "/box/gone", token).status_code == 500
    root = object_root(landlord)
    assert len(on_disk(root)) == 1
    assert restart(svc, landlord) == 1
    assert on_disk(root) == set()


def test_the_sweeper_never_takes_a_write_in_progress(
    landlord: Landlord, alice: Customer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file renamed into place whose row is not committed yet belongs to a live write."""
    url, token = alice.token()
    raw("PUT", url + "/box", token)
    svc = service(landlord)
    bg = landlord.exchange.background  # type: ignore[attr-defined]
    swept: list[int] = []
    real_put = Store.put_object

    async def sweep_first(self: Store, *args: Any, **kwargs: Any) -> Any:
        swept.append(await svc.sweep(grace=0))  # the new file is published, its row not yet there
        return await real_put(self, *args, **kwargs)

    monkeypatch.setattr(Store, "put_object", sweep_first)
    assert raw("PUT", url + "/box/live", token, data=b"alive").status_code == 201
    monkeypatch.undo()
    assert swept == [0]
    assert raw("GET", url + "/box/live", token).content == b"alive"
    assert svc.storage.in_progress == set()
    assert bg.call(svc.sweep(grace=0)) == 0
    assert len(on_disk(object_root(landlord))) == 1


def test_the_sweeper_runs_at_start(landlord: Landlord, alice: Customer) -> None:
    svc = service(landlord)
    stray = svc.storage.path("ab" + "0" * 30)
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_bytes(b"orphan")
    young = svc.storage.path("cd" + "0" * 30)
    young.parent.mkdir(parents=True, exist_ok=True)
    young.write_bytes(b"maybe another worker's, its row not yet committed")
    os.utime(stray, (0, 0))  # left long ago (past the grace another worker's write gets)
    bg = landlord.exchange.background  # type: ignore[attr-defined]
    fresh = ObjectService(svc.settings)  # a second start on the same data
    bg.call(fresh.start())
    try:
        until(lambda: fresh.sweeps > 0, "a sweep")
    finally:
        bg.call(fresh.stop())
    assert not stray.exists()
    assert young.exists()
