"""The NBD exports themselves: who may hold them, who may connect, and what a stranger can hold."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

import pytest

from ocx.volume.nbd import Exports
from tests.volume.conftest import Api, Landlord
from tests.volume.nbdtools import nbdinfo, uri


def test_a_second_process_cannot_serve_the_same_exports(tmp_path: Path) -> None:
    first, second = Exports(tmp_path, "127.0.0.1"), Exports(tmp_path, "127.0.0.1")
    first.prepare()
    first.prepare()  # the owner may prepare again (a restart in the same process)
    with pytest.raises(RuntimeError, match="one process"):
        second.prepare()
    first.release()
    second.prepare()
    second.release()


def export_for(api: Api, connector: dict[str, str], tmp_path: Path) -> tuple[str, int]:
    """A fresh volume attached with ``connector``: its URI with the key, and its port."""
    vol = api.volume(1)
    body = {"volume_uuid": vol["id"], "connector": {"host": "c1", **connector}}
    info = api.ok("POST", "/attachments", {"attachment": body})["attachment"]["connection_info"]
    return uri(info, tmp_path), int(info["data"]["ports"][0])


def tcp_from(source: str, port: int) -> socket.socket | None:
    """A bare TCP connection (no NBD, no key) from ``source``, or None if none is made."""
    sock = socket.socket()
    sock.settimeout(1)
    sock.bind((source, 0))
    try:
        sock.connect(("127.0.0.1", port))
    except OSError:
        sock.close()
        return None
    return sock


def test_only_the_consumers_address_reaches_the_export(api: Api, tmp_path: Path) -> None:
    target, port = export_for(api, {"ip": "127.0.0.1"}, tmp_path)
    # A stranger on another address gets no connection at all, however often it tries,
    # so it holds none of the export's slots...
    assert [tcp_from("127.0.0.3", port) for _ in range(10)] == [None] * 10
    # ...and the consumer, at its own address, is served.
    assert nbdinfo(target, "--size").returncode == 0
    # An attachment for a consumer at 127.0.0.2 is not reachable from 127.0.0.1, key or not.
    _, elsewhere = export_for(api, {"ip": "127.0.0.2"}, tmp_path)
    assert tcp_from("127.0.0.1", elsewhere) is None
    reached = tcp_from("127.0.0.2", elsewhere)
    assert reached is not None
    reached.close()


HOLD = """
held = []
for _ in range(COUNT):
    h = nbd.NBD()
    h.set_uri_allow_local_file(True)
    h.connect_uri(URI)
    held.append(h)
print("held", flush=True)
sys.stdin.read()
"""


def test_the_consumer_is_held_to_the_connection_limit(api: Api, tmp_path: Path) -> None:
    """nbdkit's limit filter: at most 8 connections with the key at once."""
    target, _ = export_for(api, {"ip": "127.0.0.1"}, tmp_path)
    script = "import nbd, sys\n" + HOLD.replace("COUNT", "8").replace("URI", repr(target))
    # The Debian python3-libnbd module, with the Debian python it is built for.
    with subprocess.Popen(
        ["/usr/bin/python3", "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as holder:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        refused = nbdinfo(target, "--size")
        assert refused.returncode != 0
        assert holder.stdin is not None
        holder.stdin.close()
    deadline = time.monotonic() + 30
    while nbdinfo(target, "--size").returncode != 0:
        assert time.monotonic() < deadline, "the slots never came back"


def test_without_a_consumer_address_strangers_cost_threads_not_slots(
    stor: Landlord, api: Api, tmp_path: Path
) -> None:
    """What is left (docs/volume.md): where the connector names no address, anyone who reaches
    the port can open connections that never start TLS. They do not count against the limit
    (it counts connections that finished the handshake), but nbdkit 1.32 never times them out
    and gives each a thread of its own."""
    target, port = export_for(api, {}, tmp_path)
    (pid,) = stor.service.exports.running().values()
    before = len(os.listdir(f"/proc/{pid}/task"))
    held = [tcp_from("127.0.0.3", port) for _ in range(40)]
    try:
        assert all(held)
        assert nbdinfo(target, "--size").returncode == 0
        assert len(os.listdir(f"/proc/{pid}/task")) >= before + 40
    finally:
        for sock in held:
            if sock is not None:
                sock.close()


def test_export_connections_are_kept_alive(api: Api, tmp_path: Path) -> None:
    """A consumer that vanishes without closing gives its slot back (TCP keepalive)."""
    _, port = export_for(api, {"ip": "127.0.0.1"}, tmp_path)
    sock = tcp_from("127.0.0.1", port)
    assert sock is not None
    with sock:
        shown = subprocess.run(
            ["ss", "-tnoH", "state", "established", f"( sport = :{port} )"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    assert "keepalive" in shown, shown
