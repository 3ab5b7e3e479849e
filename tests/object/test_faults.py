"""Nothing half-written is ever visible: killed writes, failed commits, racing PUTs."""

from __future__ import annotations

import concurrent.futures
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from ocx.common import tmpfiles
from ocx.object import storage
from ocx.object.service import ObjectService
from ocx.object.store import Store
from tests.object.conftest import Customer, Landlord, raw

MIB = 1024 * 1024


@pytest.fixture
def box(alice: Customer) -> tuple[str, str]:
    url, token = alice.token()
    raw("PUT", url + "/box", token)
    return url, token


def files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def object_root(landlord: Landlord) -> Path:
    return landlord.exchange.landlords["harvard"].data_dir / "object"


def service(landlord: Landlord) -> ObjectService:
    part = next(r.service for r in landlord.exchange.running if r.part == "object")
    return part.service  # type: ignore[attr-defined, no-any-return]


def crash(*_args: object) -> None:
    raise OSError("simulated crash between the temporary write and the rename")


def test_killed_write_leaves_nothing_visible(
    landlord: Landlord, box: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, token = box
    raw("PUT", url + "/box/obj", token, data=b"old version")
    # A process killed before the rename: the temporary file stays, the rename never happens.
    monkeypatch.setattr(storage.Storage, "publish", crash)
    monkeypatch.setattr(storage.Draft, "discard", lambda self: None)
    failed = raw("PUT", url + "/box/obj", token, data=b"n" * MIB)
    assert failed.status_code == 500
    failed = raw("PUT", url + "/box/new", token, data=iter([b"n" * MIB]))
    assert failed.status_code == 500
    assert raw("GET", url + "/box/obj", token).content == b"old version"
    assert raw("HEAD", url + "/box/new", token).status_code == 404
    assert raw("GET", url + "/box", token).text == "obj\n"
    head = raw("HEAD", url + "/box", token).headers
    assert (head["X-Container-Object-Count"], head["X-Container-Bytes-Used"]) == ("1", "11")
    root = object_root(landlord)
    assert len(files(root / "tmp")) == 2
    assert len(files(root / "data")) == 1
    # The next start sweeps what the crash left (its writer is gone by then).
    monkeypatch.setattr(tmpfiles, "_owner_alive", lambda _name: False)
    service(landlord).storage.prepare()
    assert files(root / "tmp") == []


def test_failed_commit_removes_the_new_file(
    landlord: Landlord, box: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, token = box

    async def broken(*_args: object, **_kwargs: object) -> None:
        raise OSError("database went away")

    monkeypatch.setattr(Store, "put_object", broken)
    assert raw("PUT", url + "/box/obj", token, data=b"data").status_code == 500
    monkeypatch.undo()
    assert raw("HEAD", url + "/box/obj", token).status_code == 404
    assert files(object_root(landlord) / "data") == []
    assert files(object_root(landlord) / "tmp") == []


def until(condition: Callable[[], bool], what: str, limit: float = 60.0) -> None:
    """Wait for a condition the server reports (the deadline only guards a broken server)."""
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, f"the server never reported {what}"
        time.sleep(0.02)


def partial_put(url: str, token: str, name: str) -> socket.socket:
    """A PUT promising 4 MiB that sends one: the connection is left open."""
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port))
    head = (
        f"PUT {parts.path}/box/{name} HTTP/1.1\r\nHost: x\r\nX-Auth-Token: {token}\r\n"
        f"Content-Length: {4 * MIB}\r\n\r\n"
    )
    sock.sendall(head.encode() + b"p" * MIB)
    return sock


def test_client_gone_mid_upload_leaves_nothing(landlord: Landlord, box: tuple[str, str]) -> None:
    url, token = box
    store = service(landlord).storage
    ended = store.ended
    partial_put(url, token, "partial").close()
    until(lambda: store.ended > ended, "the upload's end")
    assert store.in_progress == set()
    assert raw("HEAD", url + "/box/partial", token).status_code == 404
    assert files(object_root(landlord) / "tmp") == []
    assert files(object_root(landlord) / "data") == []


def test_a_body_that_stops_arriving_times_out(landlord: Landlord, box: tuple[str, str]) -> None:
    url, token = box
    svc = service(landlord)
    svc.body_timeout = 0.5
    ended = svc.storage.ended
    with partial_put(url, token, "stalled") as sock:
        sock.settimeout(30)
        answer = b""  # the server answers while the client still holds on
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert b"did not produce a request within the time" in answer
    until(lambda: svc.storage.ended > ended, "the upload's end")
    assert raw("HEAD", url + "/box/stalled", token).status_code == 404
    assert files(object_root(landlord) / "tmp") == []
    assert files(object_root(landlord) / "data") == []


def _body(marker: int, size: int) -> Iterator[bytes]:
    piece = bytes([marker]) * (64 * 1024)
    for _ in range(size // len(piece)):
        yield piece


def test_concurrent_puts_leave_one_whole_object(landlord: Landlord, box: tuple[str, str]) -> None:
    url, token = box
    size = 4 * MIB
    writers = 6

    def put(marker: int) -> int:
        return raw("PUT", url + "/box/contested", token, data=_body(marker, size)).status_code

    with concurrent.futures.ThreadPoolExecutor(writers) as pool:
        statuses = list(pool.map(put, range(1, writers + 1)))
    assert statuses == [201] * writers
    body = raw("GET", url + "/box/contested", token).content
    assert len(body) == size
    assert body == bytes([body[0]]) * size  # one writer's bytes, never a mix
    head = raw("HEAD", url + "/box", token).headers
    assert (head["X-Container-Object-Count"], head["X-Container-Bytes-Used"]) == ("1", str(size))
    # The replaced versions' files are removed after the answers (ObjectService._unlink_later).
    data = object_root(landlord) / "data"
    until(lambda: len(files(data)) == 1, "only the winner's data file left")


def test_reads_during_overwrites_see_whole_versions(box: tuple[str, str]) -> None:
    url, token = box
    size = 2 * MIB
    raw("PUT", url + "/box/hot", token, data=bytes([1]) * size)

    def write(marker: int) -> int:
        return raw("PUT", url + "/box/hot", token, data=bytes([marker]) * size).status_code

    def read(_: int) -> bool:
        body = raw("GET", url + "/box/hot", token).content
        return len(body) == size and body == bytes([body[0]]) * size

    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        writes = pool.map(write, range(2, 8))
        reads = pool.map(read, range(12))
        assert all(reads)
        assert all(s == 201 for s in writes)
