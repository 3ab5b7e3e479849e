"""Block storage: the NBD data path of an attachment against its peers, and control-plane
latency, in one run.

    .venv/bin/python bench/volume.py [--size-gib 1] [--rounds 3] [--samples 20]
                                     [--nbdcopy-flag=--connections=1 ...]

Starts a landlord (identity + volume, SQLite, ephemeral ports), makes a 1 GiB volume and
attaches it (its own nbdkit with TLS-PSK, as a compute would get it). Then ``nbdcopy`` writes
1 GiB of random bytes into it and reads them back (to ``null:``) three ways, taking turns on
every round:

- ``attachment (TLS)`` — the attachment's ``nbds://`` URI with its PSK;
- ``nbdkit plain``     — the same nbdkit build, same filters, on the same file, without TLS;
- ``local file``       — nbdcopy on the volume's file itself (the physical baseline).

Every nbdcopy gets the same flags (``--nbdcopy-flag``, none by default), and both nbdkits
are the same build with the same filters on the same file and advertise the same flags
(multi-conn among them, so nbdcopy opens the same number of connections to each): the
only difference is TLS. Prints MiB/s (best of the rounds), the ratios, the negotiated cipher,
CPU seconds per GiB (nbdcopy + nbdkit), and the ratio those allow when both paths are
CPU-bound on the same cores (plain CPU / TLS CPU: what the throughput ratio tends to on a
busy or small machine), then the p50 of volume create → available and of attach (reserve +
connector) → connection info. Goal: read through the attachment >= 0.7x plaintext nbdkit.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from ocx import clouds, topology  # noqa: E402
from ocx.runner import BackgroundExchange, Exchange  # noqa: E402

MIB = 1024 * 1024
VERSION = {"OpenStack-API-Version": "volume 3.67"}


def start(data: Path) -> tuple[BackgroundExchange, Exchange]:
    doc = {
        "exchange": {
            "base_port": 0,
            "password_hash": {"time_cost": 1, "memory_kib": 1024, "parallelism": 1},
        },
        "landlords": [{"name": "stor", "parts": ["identity", "volume"]}],
    }
    bg = BackgroundExchange(topology.Topology.model_validate(doc), data)
    return bg, bg.__enter__()


class Cinder:
    def __init__(self, exchange: Exchange):
        auth = clouds.entries(exchange)["clouds"]["stor"]["auth"]
        session = ks_session.Session(auth=v3.Password(**auth))
        self.token = session.get_token()
        self.project_id = session.get_project_id()
        self.base = exchange.landlords["stor"].base_urls["volume"] + "/v3"
        self.http = requests.Session()
        self.http.headers.update({"X-Auth-Token": str(self.token), **VERSION})

    def call(self, method: str, path: str, body: Any = None, ok: int = 200) -> Any:
        resp = self.http.request(method, self.base + path, json=body, timeout=60)
        if resp.status_code != ok:
            raise RuntimeError(f"{method} {path}: {resp.status_code} {resp.text}")
        return resp.json() if resp.content else None

    def volume(self, size: int) -> str:
        vol = self.call("POST", "/volumes", {"volume": {"size": size}}, ok=202)["volume"]
        while vol["status"] != "available":
            if vol["status"] == "error":
                raise RuntimeError("volume went to error")
            vol = self.call("GET", f"/volumes/{vol['id']}")["volume"]
        return str(vol["id"])

    def attach(self, volume_id: str) -> dict[str, Any]:
        body = {"volume_uuid": volume_id, "connector": {"host": "bench", "ip": "127.0.0.1"}}
        return dict(self.call("POST", "/attachments", {"attachment": body})["attachment"])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def plain_nbdkit(path: Path, export: str) -> tuple[subprocess.Popen[bytes], str]:
    """The same nbdkit and filters as an attachment's export, without TLS."""
    port = free_port()
    proc = subprocess.Popen(
        [
            "nbdkit", "-f", "-p", str(port), "-i", "127.0.0.1", "--exit-with-parent",
            "--filter=limit", "--filter=exportname", "file", str(path), "limit=8",
            f"exportname={export}", "exportname-strict=true", f"default-export={export}",
        ]
    )  # fmt: skip
    uri = f"nbd://127.0.0.1:{port}/{export}"
    for _ in range(500):
        if subprocess.run(["nbdinfo", "--size", uri], capture_output=True).returncode == 0:
            return proc, uri
        time.sleep(0.01)
    proc.kill()
    raise RuntimeError("plaintext nbdkit did not start")


def cpu_of(pid: int | None) -> float:
    """User + system CPU seconds a live process has used so far (0 for none)."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed(args: list[str], server: int | None) -> tuple[float, float]:
    """Wall seconds, and CPU seconds of client and server together."""
    began, served = time.perf_counter(), cpu_of(server)
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - began
    proc.returncode = os.waitstatus_to_exitcode(status)
    stderr = proc.stderr.read().decode() if proc.stderr else ""
    if proc.stderr:
        proc.stderr.close()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)}: {stderr}")
    return wall, usage.ru_utime + usage.ru_stime + cpu_of(server) - served


def p50(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def latency(cinder: Cinder, samples: int) -> tuple[float, float]:
    creates, attaches, made = [], [], []
    for _ in range(samples):
        began = time.perf_counter()
        volume_id = cinder.volume(1)
        creates.append(time.perf_counter() - began)
        began = time.perf_counter()
        att = cinder.attach(volume_id)
        if att["connection_info"]["driver_volume_type"] != "nbd":
            raise RuntimeError("no connection info")
        attaches.append(time.perf_counter() - began)
        made.append((volume_id, att["id"]))
    for volume_id, attachment_id in made:
        cinder.call("DELETE", f"/attachments/{attachment_id}")
        cinder.call("DELETE", f"/volumes/{volume_id}", ok=202)
    return p50(creates), p50(attaches)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-gib", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument(
        "--nbdcopy-flag",
        action="append",
        default=[],
        help="passed to every nbdcopy, on every path alike (repeat for several)",
    )
    args = parser.parse_args()
    size = args.size_gib * 1024 * MIB
    with tempfile.TemporaryDirectory(prefix="ocx-bench-volume-") as tmp:
        root = Path(tmp)
        bg, exchange = start(root / "data")
        try:
            run(exchange, root, size, args)
        finally:
            bg.__exit__(None, None, None)


def run(exchange: Exchange, root: Path, size: int, args: argparse.Namespace) -> None:
    cinder = Cinder(exchange)
    unlimited = {"quota_set": {"volumes": -1, "gigabytes": -1}}
    cinder.call("PUT", f"/os-quota-sets/{cinder.project_id}", unlimited)
    volume_id = cinder.volume(args.size_gib)
    att = cinder.attach(volume_id)
    data = att["connection_info"]["data"]
    psk = root / "att.psk"
    psk.write_text(f"{data['psk_identity']}:{data['psk_key']}\n")
    psk.chmod(0o600)
    tls_uri = f"{data['uri']}?tls-psk-file={psk}"
    volume_file = root / "data" / "stor" / "volume" / "volumes" / f"{volume_id}.img"
    payload = root / "payload.raw"
    with open(payload, "wb") as handle:
        for _ in range(size // (64 * MIB)):
            handle.write(os.urandom(64 * MIB))
    plain, plain_uri = plain_nbdkit(volume_file, volume_id)
    report_session(tls_uri, plain_uri, args.nbdcopy_flag)
    export_pid = next(iter(exchange_exports(exchange).running().values()))
    targets: dict[str, tuple[str, int | None]] = {
        "attachment (TLS)": (tls_uri, export_pid),
        "nbdkit plain": (plain_uri, plain.pid),
        "local file": (str(volume_file), None),
    }
    best: dict[tuple[str, str], float] = {}
    cpu: dict[tuple[str, str], float] = {}
    try:
        for _ in range(args.rounds):
            for name, (target, server) in targets.items():
                flags = args.nbdcopy_flag
                for op, cmd in (
                    ("write", ["nbdcopy", *flags, str(payload), target]),
                    ("read", ["nbdcopy", *flags, target, "null:"]),
                ):
                    wall, used = timed(cmd, server)
                    rate = size / MIB / wall
                    best[(name, op)] = max(best.get((name, op), 0.0), rate)
                    per_gib = used / (size / (1024 * MIB))
                    cpu[(name, op)] = min(cpu.get((name, op), per_gib), per_gib)
    finally:
        plain.terminate()
        plain.wait(timeout=10)
    cinder.call("DELETE", f"/attachments/{att['id']}")
    report_copies(best, cpu, size, args.rounds)
    create_p50, attach_p50 = latency(cinder, args.samples)
    report_latency(best, create_p50, attach_p50, args.samples)


def report_session(tls_uri: str, plain_uri: str, flags: list[str]) -> None:
    """What the two servers offer and what TLS negotiates (libnbd's debug line says)."""
    print(f"machine load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"nbdcopy flags on every path: {' '.join(flags) or '(none: its defaults)'}")
    for name, target in (("attachment", tls_uri), ("plain", plain_uri)):
        shown = subprocess.run(["nbdinfo", target], capture_output=True, text=True).stdout
        multi = "can_multi_conn: true" in shown
        print(f"{name}: multi-conn {'advertised' if multi else 'not advertised'}")
    debug = subprocess.run(
        ["nbdinfo", "--size", tls_uri],
        capture_output=True,
        text=True,
        env={**os.environ, "LIBNBD_DEBUG": "1"},
    ).stderr
    print(f"attachment TLS: {negotiated(debug)}")


def negotiated(debug: str) -> str:
    for line in debug.splitlines():
        if "using TLS: " in line:
            return line.split("using TLS: ", 1)[1]
    return "unknown"


def exchange_exports(exchange: Exchange) -> Any:
    run = next(r for r in exchange.running if r.part == "volume")
    return run.service.service.exports  # type: ignore[attr-defined]


def ratio(best: dict[tuple[str, str], float], a: str, b: str, op: str) -> float:
    return best[(a, op)] / best[(b, op)]


def report_copies(
    best: dict[tuple[str, str], float], cpu: dict[tuple[str, str], float], size: int, rounds: int
) -> None:
    print(f"\nnbdcopy of a {size // MIB} MiB volume, MiB/s (best of {rounds}), loopback;")
    print("CPU s/GiB: nbdcopy + the serving nbdkit, user + system (the load-independent cost)")
    print(f"{'path':<18} {'write':>9} {'read':>9} {'cpu w':>7} {'cpu r':>7}")
    for name in ("attachment (TLS)", "nbdkit plain", "local file"):
        print(
            f"{name:<18} {best[(name, 'write')]:>9.0f} {best[(name, 'read')]:>9.0f} "
            f"{cpu[(name, 'write')]:>7.2f} {cpu[(name, 'read')]:>7.2f}"
        )
    for op in ("write", "read"):
        ceiling = cpu[("nbdkit plain", op)] / cpu[("attachment (TLS)", op)]
        print(
            f"{op:<5} TLS/plain {ratio(best, 'attachment (TLS)', 'nbdkit plain', op):.2f}x   "
            f"TLS/local {ratio(best, 'attachment (TLS)', 'local file', op):.2f}x   "
            f"CPU-bound ceiling (plain CPU / TLS CPU) {ceiling:.2f}x",
            flush=True,
        )


def report_latency(
    best: dict[tuple[str, str], float], create_p50: float, attach_p50: float, samples: int
) -> None:
    print(f"\nvolume create -> available p50: {create_p50:.1f} ms ({samples} volumes)")
    print(f"attach (reserve + connector) -> connection info p50: {attach_p50:.1f} ms")
    goal = ratio(best, "attachment (TLS)", "nbdkit plain", "read")
    verdict = "met" if goal >= 0.7 else "NOT met"
    print(f"\nread through the attachment goal (>= 0.70x plaintext nbdkit): {goal:.2f}x, {verdict}")
    print(f"(machine load average now: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")


if __name__ == "__main__":
    main()
