"""The floor under a relayed download: what moving bytes over loopback TCP costs, without HTTP
and without Python per byte.

    .venv/bin/python bench/hop.py [--gib N]

Three processes at most, each a tight loop: a sender (``send`` from one buffer), a receiver
(``recv_into`` one buffer, as bench/proxy.py's client reads) and, for the relayed figures, a
relay between them, moving the bytes with ``splice(2)`` (as the proxy does) or with
``recv_into``/``send`` (one buffer, reused). One more direct figure has the sender use
``sendfile(2)`` from a file in the page cache (what a landlord could do instead of reading
the file and sending what it read). Printed: CPU seconds per GiB of each process.
On loopback the sender's process also pays for the receiving side's TCP processing (the
kernel delivers in the sender's context), so these are the costs each process of
bench/proxy.py cannot go below, whatever the proxy is written in.
"""

from __future__ import annotations

import argparse
import fcntl
import multiprocessing
import os
import socket
import tempfile
import time
from multiprocessing.queues import Queue
from typing import Any

MIB, GIB = 1024 * 1024, 1024 * 1024 * 1024
MODES = ("direct", "sendfile", "splice", "copy")
NAMES = {
    "direct": "direct",
    "sendfile": "direct (sendfile)",
    "splice": "relayed (splice)",
    "copy": "relayed (copy)",
}


def _cpu() -> float:
    times = os.times()
    return times.user + times.system


def _listener() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    return sock


def _connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _sender(port: int, total: int, out: Queue[Any], from_file: bool) -> None:
    sock, data, sent = _connect(port), os.urandom(MIB), 0
    with tempfile.TemporaryFile() as file:
        for _ in range(64):
            file.write(data)
        file.flush()
        began = _cpu()
        while sent < total:
            if from_file:
                sent += os.sendfile(sock.fileno(), file.fileno(), sent % (64 * MIB), 64 * MIB)
            else:
                sent += sock.send(data)
        used = _cpu() - began
    sock.close()
    out.put(("sender", used))


def _receiver(listener: socket.socket, out: Queue[Any]) -> None:
    conn, _ = listener.accept()
    buffer, got = memoryview(bytearray(MIB)), 0
    began, started = _cpu(), time.perf_counter()
    while n := conn.recv_into(buffer):
        got += n
    out.put(("receiver", _cpu() - began))
    out.put(("MiB/s", got / MIB / (time.perf_counter() - started)))


def _relay(listener: socket.socket, port: int, mode: str, out: Queue[Any]) -> None:
    source, _ = listener.accept()
    sink = _connect(port)
    began = _cpu()
    if mode == "splice":
        pipe_out, pipe_in = os.pipe()
        fcntl.fcntl(pipe_in, fcntl.F_SETPIPE_SZ, MIB)
        while n := os.splice(source.fileno(), pipe_in, MIB):
            while n:
                n -= os.splice(pipe_out, sink.fileno(), n)
    else:
        buffer = memoryview(bytearray(MIB))
        while n := source.recv_into(buffer):
            sink.sendall(buffer[:n])
    sink.close()
    out.put(("relay", _cpu() - began))


def one(mode: str, total: int) -> dict[str, float]:
    """CPU seconds per GiB of each process (and MiB/s) moving ``total`` bytes once."""
    ctx = multiprocessing.get_context("fork")
    out: Queue[Any] = ctx.Queue()
    receiving = _listener()
    procs = [ctx.Process(target=_receiver, args=(receiving, out))]
    target = receiving.getsockname()[1]
    if mode in ("splice", "copy"):
        relaying = _listener()
        procs.append(ctx.Process(target=_relay, args=(relaying, target, mode, out)))
        target = relaying.getsockname()[1]
    procs.append(ctx.Process(target=_sender, args=(target, total, out, mode == "sendfile")))
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join()
    found = dict(out.get() for _ in range(len(procs) + 1))
    return {k: (v if k == "MiB/s" else v / (total / GIB)) for k, v in found.items()}


def floor(gib: float = 2.0, rounds: int = 2) -> dict[str, dict[str, float]]:
    """Per mode, the least CPU seconds per GiB of each process over ``rounds``."""
    best: dict[str, dict[str, float]] = {}
    for _round in range(rounds):
        for mode in MODES:
            if mode in ("splice", "sendfile") and not hasattr(os, "splice"):
                continue
            for who, value in one(mode, int(gib * GIB)).items():
                kept = best.setdefault(mode, {}).get(who)
                if kept is None or (value > kept if who == "MiB/s" else value < kept):
                    best[mode][who] = value
    return best


def report(best: dict[str, dict[str, float]]) -> None:
    print("Bare loopback TCP, no HTTP, C-speed loops (bench/hop.py), CPU seconds per GiB:")
    for mode, used in best.items():
        relay = used.get("relay", 0.0)
        total = used["sender"] + relay + used["receiver"]
        print(
            f"  {NAMES[mode]:18} sender {used['sender']:5.2f}  relay {relay:5.2f}"
            f"  receiver {used['receiver']:5.2f}  total {total:5.2f}"
            f"  ({used['MiB/s']:,.0f} MiB/s)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gib", type=float, default=2.0, help="GiB per figure")
    report(floor(parser.parse_args().gib))


if __name__ == "__main__":
    main()
