"""The mix-and-match proxy's cost: the same requests proxied (over wire.py, and over aiohttp's
client) and direct, in one run.

    .venv/bin/python bench/proxy.py [--quick]

Processes, as in production each part runs on its own: the landlords (harvard: identity and
object storage, user alice; mit: identity and object storage, admitting harvard's users
through K2K), the proxy alone (twice: over its own client, wire.py, and over aiohttp's client
with its C parser, bench/aiohttp_pool.py), a third proxy over ten stub landlords, and the stubs;
the client is this process (Python's http.client on keep-alive connections, reading into a
reused buffer). The proxy over wire.py relays big downloads with splice(2) (as served by
`ocx up`); a fourth proxy process, "no splice", is the same with that hidden from it, for
the downloads only. Objects live at mit, so the proxied path is the federated one: the customer's
harvard token in, the proxy's K2K token at mit out.

Figures (best of three rounds, direct and both proxies taking turns on every figure):
- PUT and GET throughput for 1 MiB and 64 MiB objects; goal: proxied >= 0.9x direct;
- p50 and p99 latency of 1 KiB GETs; goal: the proxy adds <= 1 ms at p50;
- the merged account listing over ten landlords against the slowest of them alone: the stubs
  answer a Swift JSON listing after a fixed delay each (2 to 20 ms, standing for the
  landlord's own work and its network), so what differs is the proxy's fan-out and merge;
  goal: <= 1.2x the slowest landlord;
- CPU seconds per GiB of each process on the 64 MiB GET, beside the floor of bare loopback
  TCP (bench/hop.py: the same bytes moved by C-speed loops, directly and through a relay),
  and the bound that floor puts on the proxied/direct ratio when the machine's cores are
  all busy (each process then gets its turn, so throughput goes as 1 / total CPU per GiB).
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parents[1]
if __package__ in (None, ""):  # run as a script: make `bench` (and `ocx`) importable
    sys.path[:0] = [str(REPO), str(REPO / "src")]

from bench import hop  # noqa: E402 (importable once the path is set)

KIB, MIB = 1024, 1024 * 1024
STUBS = 10
STUB_DELAYS_MS = [2 + 2 * i for i in range(STUBS)]


# --- the client -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    base: str  # the container URL objects go under
    token: str


class Client:
    def __init__(self, target: Target):
        parts = urlsplit(target.base)
        self.prefix = parts.path
        self.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
        self.headers = {"X-Auth-Token": target.token}
        self.buffer = memoryview(bytearray(MIB))

    def get(self, path: str) -> int:
        self.conn.request("GET", self.prefix + path, headers=self.headers)
        resp = self.conn.getresponse()
        assert resp.status in (200, 204), (resp.status, resp.read()[:200])
        total = 0
        while (n := resp.readinto(self.buffer)) > 0:
            total += n
        return total

    def put(self, path: str, data: bytes) -> int:
        headers = {**self.headers, "Content-Length": str(len(data))}
        self.conn.request("PUT", self.prefix + path, body=data, headers=headers)
        resp = self.conn.getresponse()
        resp.read()
        assert resp.status in (201, 202), resp.status
        return len(data)

    def close(self) -> None:
        self.conn.close()


def throughput(target: Target, work: Callable[[Client, int], int], count: int) -> float:
    """MiB/s over ``count`` calls (after one warm-up call)."""
    client = Client(target)
    work(client, 0)
    started = time.perf_counter()
    moved = sum(work(client, i) for i in range(count))
    took = time.perf_counter() - started
    client.close()
    return moved / MIB / took


def latencies(target: Target, path: str, count: int) -> list[float]:
    """Milliseconds of each of ``count`` GETs (after a warm-up)."""
    client = Client(target)
    for _ in range(20):
        client.get(path)
    out = []
    for _ in range(count):
        started = time.perf_counter()
        client.get(path)
        out.append((time.perf_counter() - started) * 1000)
    client.close()
    return out


def percentile(values: Sequence[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


# --- the child processes --------------------------------------------------------------------


def child(*args: str) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    """A child running this file with ``args``; it prints one JSON line when ready."""
    cmd = [sys.executable, __file__, *args]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stdin=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        raise RuntimeError(f"{' '.join(args)} did not start")
    return proc, json.loads(line)


def serve_landlords(root: Path) -> None:
    from ocx import topology
    from ocx.runner import BackgroundExchange

    topo = topology.Topology.model_validate(
        {
            "exchange": {"base_port": 0},
            "landlords": [
                {"name": "harvard", "parts": ["identity", "object"], "demo_users": ["alice"]},
                {"name": "mit", "parts": ["identity", "object"], "trusts": ["harvard"]},
            ],
        }
    )
    with BackgroundExchange(topo, root) as exchange:
        harvard = exchange.landlords["harvard"]
        ready = {
            "identity": harvard.identity_url,
            "object": harvard.base_urls["object"],
            "password": harvard.demo_passwords["alice"],
        }
        print(json.dumps(ready), flush=True)
        sys.stdin.read()


def serve_proxy(landlords: dict[str, Any], stubs: list[str], client: str) -> None:
    from ocx.common.serving import bind, server
    from ocx.common.settings import ServingLimits, VerifierSettings
    from ocx.proxy.part import build
    from ocx.proxy.service import ProxyService
    from ocx.proxy.settings import ProxySettings

    sock = bind("127.0.0.1", 0)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    settings = ProxySettings(
        landlord="harvard",
        public_url=url,
        verifier=VerifierSettings(identity_url=landlords["identity"], audience="harvard"),
        identity_url=landlords["identity"],
        proxy_id="bench-proxy",
        home_object_url=landlords["object"],
    )
    service = ProxyService(settings, source=StubLandlords(stubs) if stubs else None)
    if client == "aiohttp":  # the same proxy over aiohttp's client instead of wire.py
        from bench.aiohttp_pool import AiohttpPool

        from ocx.proxy.upstream import Upstream

        pool = AiohttpPool(
            settings.connect_timeout, settings.read_timeout, settings.max_idle_connections
        )
        service.data, service.upstream = pool, Upstream(pool)  # type: ignore[assignment,arg-type]
    app = build(service)
    served = server(app if client != "copy" else without_splice(app), ServingLimits())

    async def run() -> None:
        task = asyncio.create_task(served.serve(sockets=[sock]))
        while not served.started:
            await asyncio.sleep(0.01)
        print(json.dumps({"url": url}), flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        served.should_exit = True
        await task
        await service.stop()

    asyncio.run(run())


def without_splice(app: Any) -> Any:
    """``app`` with the server's zero-copy relay hidden from it: the proxy then reads and
    writes every body itself (its plain path), for the same-run comparison."""

    async def plain(scope: dict[str, Any], receive: Any, send: Any) -> None:
        scope.get("extensions", {}).pop("ocx.splice", None)
        await app(scope, receive, send)

    return plain


class StubLandlords:
    """The listing figure's landlords: ten stubs the proxy reaches directly."""

    def __init__(self, urls: list[str]):
        from ocx.proxy.landlords import Candidate

        self.found = [
            Candidate(f"stub{i}", i, "direct", storage_url=u, token="stub")
            for i, u in enumerate(urls)
        ]

    async def candidates(self, caller: object) -> list[Any]:
        return self.found


def stub_listing(index: int, containers: int) -> bytes:
    """A Swift JSON account listing; names interleave across stubs, as a real spread would."""
    entries = [
        {
            "name": f"c{j * STUBS + index:06d}",
            "count": j,
            "bytes": j * 1000,
            "last_modified": "2026-01-01T00:00:00.000000",
        }
        for j in range(containers)
    ]
    return json.dumps(entries).encode()


def serve_stubs(containers: int) -> None:
    async def run() -> None:
        urls = []
        for index, delay in enumerate(STUB_DELAYS_MS):
            body = stub_listing(index, containers)
            server = await asyncio.start_server(_stub(body, delay / 1000), "127.0.0.1", 0)
            urls.append(f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/v1/AUTH_stub")
        print(json.dumps({"urls": urls}), flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)

    asyncio.run(run())


def _stub(body: bytes, delay: float) -> Callable[..., Any]:
    head = (
        "HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\n"
        f"X-Account-Container-Count: {body.count(b'name')}\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while await reader.readuntil(b"\r\n\r\n"):
                await asyncio.sleep(delay)
                writer.write(head + body)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()
        except asyncio.CancelledError:  # the stub landlords are stopping: nothing to report
            writer.close()

    return handle


# --- set-up and figures ---------------------------------------------------------------------


def alice(landlords: dict[str, Any]) -> tuple[str, str, str, str]:
    """alice's harvard token and project, and her K2K token and account URL at mit."""
    from keystoneauth1 import session as ks_session
    from keystoneauth1.identity import v3

    home = v3.Password(
        auth_url=landlords["identity"] + "/v3",
        username="alice",
        password=landlords["password"],
        user_domain_id="default",
        project_name="alice-project",
        project_domain_id="default",
    )
    sess = ks_session.Session(auth=home)
    k2k = ks_session.Session(
        auth=v3.Keystone2Keystone(
            home, "mit", project_name="harvard-alice", project_domain_name="harvard-federated"
        )
    )
    mit_url = k2k.get_endpoint(service_type="object-store", interface="public")
    return sess.get_token(), sess.get_project_id(), k2k.get_token(), mit_url


def prepare(proxied: Target, direct: Target) -> None:
    import httpx

    headers = {"X-Auth-Token": proxied.token, "X-OCX-Landlord": "mit"}
    placed = httpx.put(proxied.base, headers=headers)
    assert placed.status_code in (201, 202) and placed.headers["x-ocx-landlord"] == "mit"
    client = Client(direct)
    client.put("/small", os.urandom(KIB))
    for size in (MIB, 64 * MIB):
        client.put(f"/get-{size}", os.urandom(size))
    client.close()


def figures(quick: bool) -> dict[str, Callable[[Target], Any]]:
    one, big = os.urandom(MIB), os.urandom(64 * MIB)
    n1, n64 = (20, 2) if quick else (60, 5)
    return {
        "PUT 1 MiB": lambda t: throughput(t, lambda c, i: c.put(f"/put-1-{i}", one), n1),
        "PUT 64 MiB": lambda t: throughput(t, lambda c, i: c.put(f"/put-64-{i % 2}", big), n64),
        "GET 1 MiB": lambda t: throughput(t, lambda c, i: c.get(f"/get-{MIB}"), n1 * 2),
        "GET 64 MiB": lambda t: throughput(t, lambda c, i: c.get(f"/get-{64 * MIB}"), n64 * 2),
        "GET 1 KiB": lambda t: latencies(t, "/small", 300 if quick else 1000),
    }


def cpu_seconds(pid: int | None) -> float:
    """User and system CPU time of a process (``None``: this one, all its threads)."""
    if pid is None:
        times = os.times()
        return times.user + times.system
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


CPU_FIGURE = "GET 64 MiB"
# The proxy without splice: measured on the downloads only (uploads are not spliced).
PLAIN_ONLY = {"no splice": ("GET 1 MiB", CPU_FIGURE)}


def measure(
    targets: dict[str, Target], quick: bool, pids: dict[str, int | None]
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, float]]]:
    """The best figures, and for ``CPU_FIGURE`` each process's CPU seconds per GiB moved
    (the least over the rounds): what the relay costs, whatever the machine's load."""
    best: dict[str, dict[str, Any]] = {}
    cpu: dict[str, dict[str, float]] = {}
    gib = 64 * MIB * ((2 if quick else 5) * 2 + 1) / (1024 * MIB)  # with the warm-up GET
    for _round in range(2 if quick else 3):
        for figure, run in figures(quick).items():
            for name, target in targets.items():
                if name in PLAIN_ONLY and figure not in PLAIN_ONLY[name]:
                    continue
                before = {who: cpu_seconds(pid) for who, pid in pids.items()}
                value = run(target)
                if figure == CPU_FIGURE:
                    for who, pid in pids.items():
                        used = (cpu_seconds(pid) - before[who]) / gib
                        kept = cpu.setdefault(name, {}).get(who, float("inf"))
                        cpu[name][who] = min(kept, used)
                kept = best.setdefault(figure, {}).get(name)
                if isinstance(value, list):
                    if kept is None or statistics.median(value) < statistics.median(kept):
                        best[figure][name] = value
                elif kept is None or value > kept:
                    best[figure][name] = value
    return best, cpu


def listing_figure(
    stubs: list[str], proxy: str, token: str, project: str, count: int
) -> dict[str, float]:
    slowest = Target(stubs[-1], "stub")
    merged = Target(f"{proxy}/v1/AUTH_{project}", token)
    out: dict[str, float] = {}
    for _round in range(2):
        for name, target in (("slowest", slowest), ("merged", merged)):
            p50 = statistics.median(latencies(target, "?format=json", count))
            out[name] = min(out.get(name, float("inf")), p50)
    return out


def report(
    best: dict[str, dict[str, Any]],
    listing: dict[str, float],
    containers: int,
    cpu: dict[str, dict[str, float]],
    floors: dict[str, dict[str, float]],
) -> None:
    print("proxied: the proxy with its own client (wire.py); aiohttp: the same proxy over")
    print("aiohttp's client (C parser), in a process of its own; measured in this one run\n")
    head = f"{'figure':30} {'direct':>9} {'wire.py':>9} {'aiohttp':>9}"
    print(head + f" {'wire/dir':>9} {'aio/dir':>8} {'aio/wire':>9}   goal")
    for figure, values in best.items():
        direct, wire, aio = values["direct"], values["proxied"], values["aiohttp"]
        if isinstance(direct, list):
            for p in (50, 99):
                d, w, a = (percentile(v, p) for v in (direct, wire, aio))
                goal = "added <= 1 ms" if p == 50 else ""
                print(
                    f"{figure + f' p{p} (ms)':30} {d:9.3f} {w:9.3f} {a:9.3f} "
                    f"{w - d:+8.3f}ms {a - d:+6.3f}ms {a / w:8.2f}x   {goal}"
                )
            continue
        print(
            f"{figure + ' (MiB/s)':30} {direct:9.1f} {wire:9.1f} {aio:9.1f} "
            f"{wire / direct:8.2f}x {aio / direct:7.2f}x {aio / wire:8.2f}x   >= 0.9x direct"
        )
    for figure in PLAIN_ONLY["no splice"]:
        values = best[figure]
        plain, direct, wire = values["no splice"], values["direct"], values["proxied"]
        print(
            f"{figure + ' (MiB/s), no splice':30} {direct:9.1f} {plain:9.1f} {'':9}"
            f" {plain / direct:8.2f}x {'':8} {'':9}   (wire.py with splice: {wire / direct:.2f}x)"
        )
    label = f"listing, {STUBS} landlords x {containers} (ms p50)"
    slow, merged = listing["slowest"], listing["merged"]
    print(
        f"{label:30} {slow:9.2f} {merged:9.2f} {'':9} {merged / slow:8.2f}x   <= 1.2x the slowest"
    )
    print("\naio/wire: aiohttp's figure over wire.py's (throughput: >= 0.95x to replace wire.py;")
    print("latency: <= 1.05x). A shared machine: the ratios of one run are what counts.")
    print(f"\nCPU seconds per GiB, {CPU_FIGURE} (least of the rounds; client, landlord, proxy):")
    for name, used in cpu.items():
        proxy = used.get(name, 0.0) if name != "direct" else 0.0
        print(
            f"  {name:8} client {used['client']:5.2f}  landlord {used['landlords']:5.2f}"
            f"  proxy {proxy:5.2f}  total {used['client'] + used['landlords'] + proxy:5.2f}"
        )
    print()
    hop.report(floors)
    relayed = floors.get("splice") or floors["copy"]
    extra = sum(relayed[k] for k in ("sender", "relay", "receiver")) - sum(
        floors["direct"][k] for k in ("sender", "receiver")
    )
    direct = cpu["direct"]["client"] + cpu["direct"]["landlords"]
    print(
        f"A hop costs at least {extra:.2f} s/GiB more than none; with the direct path's"
        f" {direct:.2f}, a proxy on busy cores reaches at most {direct / (direct + extra):.2f}x"
        " direct"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds and requests")
    parser.add_argument("--containers", type=int, default=100, help="containers per stub")
    parser.add_argument("--serve-landlords", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--serve-proxy", help=argparse.SUPPRESS)
    parser.add_argument("--stubs", default="", help=argparse.SUPPRESS)
    parser.add_argument("--client", default="wire", help=argparse.SUPPRESS)
    parser.add_argument("--serve-stubs", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_landlords or args.serve_proxy or args.serve_stubs:
        logging.disable(logging.INFO)
    if args.serve_landlords:
        return serve_landlords(args.serve_landlords)
    if args.serve_proxy:
        return serve_proxy(
            json.loads(args.serve_proxy), json.loads(args.stubs or "[]"), args.client
        )
    if args.serve_stubs:
        return serve_stubs(args.serve_stubs)
    run(args.quick, args.containers)


def run(quick: bool, containers: int) -> None:
    children: list[subprocess.Popen[str]] = []
    try:
        with tempfile.TemporaryDirectory(prefix="ocx-bench-proxy-") as root:
            proc, landlords = child("--serve-landlords", root)
            children.append(proc)
            proc, stubs = child("--serve-stubs", str(containers))
            children.append(proc)
            proc, proxy = child("--serve-proxy", json.dumps(landlords))
            children.append(proc)
            proc, via_aiohttp = child("--serve-proxy", json.dumps(landlords), "--client", "aiohttp")
            children.append(proc)
            proc, copying = child("--serve-proxy", json.dumps(landlords), "--client", "copy")
            children.append(proc)
            proc, proxy10 = child(
                "--serve-proxy", json.dumps(landlords), "--stubs", json.dumps(stubs["urls"])
            )
            children.append(proc)
            token, project, mit_token, mit_url = alice(landlords)
            targets = {
                "direct": Target(f"{mit_url}/bench", mit_token),
                "proxied": Target(f"{proxy['url']}/v1/AUTH_{project}/bench", token),
                "aiohttp": Target(f"{via_aiohttp['url']}/v1/AUTH_{project}/bench", token),
                "no splice": Target(f"{copying['url']}/v1/AUTH_{project}/bench", token),
            }
            prepare(targets["proxied"], targets["direct"])
            pids: dict[str, int | None] = {
                "client": None,
                "landlords": children[0].pid,
                "proxied": children[2].pid,
                "aiohttp": children[3].pid,
                "no splice": children[4].pid,
            }
            best, cpu = measure(targets, quick, pids)
            listing = listing_figure(
                stubs["urls"], proxy10["url"], token, project, 50 if quick else 200
            )
            floors = hop.floor(1.0 if quick else 2.0)
            report(best, listing, containers, cpu, floors)
    finally:
        for proc in children:
            assert proc.stdin is not None
            proc.stdin.close()
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
