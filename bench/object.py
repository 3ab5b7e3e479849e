"""Object storage throughput: OCX against real Swift and a static file server, in one run.

    .venv/bin/python bench/object.py [--loop asyncio|uvloop] [--quick] [--small] [--no-swift]
                                     [--profile SECONDS]

Starts a landlord (identity + object, SQLite, in a child process so client and server do not
share a GIL), real OpenStack Swift (bench/peers/swift.py: PyPI ``swift`` in .venv-swift,
installed on first use; proxy, account, container and object servers, one process each, one
replica on a directory, tempauth, memcached from Debian) and nginx (Debian's package; one
worker) serving the same bytes from a directory, with WebDAV PUT for uploads. Prints PUT and
GET throughput in MiB/s for 4 KiB, 1 MiB and 64 MiB objects, small-object requests per second
with four clients, and the OCX/Swift and OCX/nginx ratios: the best of three rounds, the
servers taking turns on every figure. Goals: 64 MiB GET >= 0.7x nginx; 4 KiB GET >= 3,000
req/s and >= 2x real Swift. ``--small`` measures only the 4 KiB request rates.

Every server gets the same client: Python's http.client on keep-alive connections, reading
into a reused 1 MiB buffer. OCX and Swift fsync every PUT before answering; nginx does not.
On a shared machine only the ratios of one run mean much.

``--profile SECONDS`` then samples the OCX server with py-spy (``pip install py-spy``) for that
long while four clients GET 4 KiB objects, and prints the functions it spent its time in.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import concurrent.futures
import contextlib
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parents[1]
if __package__ in (None, ""):  # run as a script: make `bench` (and `ocx`) importable
    sys.path[:0] = [str(REPO), str(REPO / "src")]

from bench.peers.swift import running_swift  # noqa: E402

KIB, MIB = 1024, 1024 * 1024
SIZES = (4 * KIB, MIB, 64 * MIB)
NGINX_CONF = """
{user}
worker_processes 1;
daemon off;
pid {root}/nginx.pid;
error_log {root}/nginx-error.log;
events {{ worker_connections 256; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    client_max_body_size 0;
    client_body_temp_path {root}/body-tmp;
    proxy_temp_path {root}/proxy-tmp;
    fastcgi_temp_path {root}/fastcgi-tmp;
    uwsgi_temp_path {root}/uwsgi-tmp;
    scgi_temp_path {root}/scgi-tmp;
    server {{
        listen 127.0.0.1:{port};
        root {root}/www;
        location / {{ dav_methods PUT; create_full_put_path on; }}
    }}
}}
"""


@dataclass(frozen=True)
class Target:
    name: str
    base: str  # URL prefix objects are under
    token: str | None = None


class Client:
    """One keep-alive connection; reads bodies into a reused buffer, as a fast client would."""

    def __init__(self, target: Target):
        parts = urlsplit(target.base)
        self.prefix = parts.path
        self.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        self.headers = {"X-Auth-Token": target.token} if target.token else {}
        self.buffer = bytearray(MIB)

    def get(self, name: str) -> int:
        self.conn.request("GET", f"{self.prefix}/{name}", headers=self.headers)
        resp = self.conn.getresponse()
        assert resp.status == 200, resp.status
        view, total = memoryview(self.buffer), 0
        while (n := resp.readinto(view)) > 0:
            total += n
        return total

    def put(self, name: str, data: bytes) -> int:
        headers = {**self.headers, "Content-Length": str(len(data))}
        self.conn.request("PUT", f"{self.prefix}/{name}", body=data, headers=headers)
        resp = self.conn.getresponse()
        resp.read()
        assert resp.status in (201, 204), resp.status
        return len(data)

    def close(self) -> None:
        self.conn.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(url: str, timeout: float = 30.0) -> None:
    parts = urlsplit(url)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection((parts.hostname, parts.port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} did not come up")


def start_nginx(root: Path) -> tuple[subprocess.Popen[bytes], Target]:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not os.path.exists(nginx):
        raise SystemExit("nginx is missing: apt-get install nginx-light")
    (root / "www" / "bench").mkdir(parents=True)
    port = free_port()
    conf = root / "nginx.conf"
    # As root, nginx's worker would drop to nobody and could not write the directory.
    user = "user root;" if os.geteuid() == 0 else ""
    conf.write_text(NGINX_CONF.format(root=root, port=port, user=user))
    proc = subprocess.Popen([nginx, "-c", str(conf), "-p", str(root)], stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    wait_for(base)
    return proc, Target("nginx", base + "/bench")


@contextlib.contextmanager
def swift_target(root: Path) -> Iterator[Target]:
    """Real Swift (bench/peers/swift.py: PyPI ``swift`` in .venv-swift, installed on first
    use; one replica on a directory, tempauth, memcached), its bench container made."""
    with running_swift(root) as swift:
        port = int(swift.url.rsplit(":", 1)[1])
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request(
            "GET", "/auth/v1.0", headers={"X-Auth-User": swift.user, "X-Auth-Key": swift.key}
        )
        resp = conn.getresponse()
        resp.read()
        token, url = resp.headers["X-Auth-Token"], resp.headers["X-Storage-Url"]
        conn.close()
        client = Client(Target("swift", url, token))
        client.conn.request("PUT", f"{client.prefix}/bench", headers=client.headers)
        client.conn.getresponse().read()
        client.close()
        yield Target("swift", url + "/bench", token)


def start_ocx(root: Path, loop: str) -> tuple[subprocess.Popen[str], Target]:
    cmd = [sys.executable, __file__, "--serve", str(root), "--loop", loop]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stdin=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    doc = json.loads(proc.stdout.readline())
    return proc, Target("ocx", doc["url"] + "/bench", doc["token"])


def serve(root: Path, loop: str) -> None:
    """The child process: one landlord until stdin closes."""
    import logging

    logging.disable(logging.INFO)
    if loop == "uvloop":
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    from ocx import topology
    from ocx.runner import BackgroundExchange

    topo = topology.Topology.model_validate(
        {
            "exchange": {"base_port": 0},
            "landlords": [{"name": "bench", "parts": ["identity", "object"]}],
        }
    )
    with BackgroundExchange(topo, root) as exchange:
        landlord = exchange.landlords["bench"]
        token, url = _token(landlord.auth_url, landlord.admin_password)
        conn = Client(Target("ocx", url, token))
        conn.conn.request("PUT", f"{conn.prefix}/bench", headers=conn.headers)
        conn.conn.getresponse().read()
        print(json.dumps({"url": url, "token": token}), flush=True)
        sys.stdin.read()


def _token(auth_url: str, password: str) -> tuple[str, str]:
    import httpx

    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {"name": "admin", "domain": {"id": "default"}, "password": password}
                },
            },
            "scope": {"project": {"name": "admin", "domain": {"id": "default"}}},
        }
    }
    resp = httpx.post(auth_url + "/auth/tokens", json=body)
    resp.raise_for_status()
    catalog = resp.json()["token"]["catalog"]
    url = next(
        e["url"]
        for s in catalog
        if s["type"] == "object-store"
        for e in s["endpoints"]
        if e["interface"] == "public"
    )
    return resp.headers["X-Subject-Token"], url


def timed(
    work: Callable[[Client], int], target: Target, count: int, clients: int = 1
) -> tuple[float, int]:
    """Seconds and bytes for ``count`` calls of ``work`` spread over ``clients`` connections."""
    pool = [Client(target) for _ in range(clients)]
    per = [count // clients + (1 if i < count % clients else 0) for i in range(clients)]

    def run(index: int) -> int:
        return sum(work(pool[index]) for _ in range(per[index]))

    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(clients) as ex:
        total = sum(ex.map(run, range(clients)))
    took = time.perf_counter() - started
    for client in pool:
        client.close()
    return took, total


Measure = Callable[[Target], float]
SMALL_GET = "GET 4 KiB req/s (4 clients)"


def measures(quick: bool, small_only: bool = False) -> dict[str, Measure]:
    """Every figure of the table, each a function of the server it measures."""
    budget = 128 * MIB if quick else 512 * MIB
    table: dict[str, Measure] = {}
    for size in () if small_only else SIZES:
        count = max(4, min(1000, budget // size))
        table[f"PUT {label(size)} MiB/s"] = lambda t, s=size, n=count: _put_rate(t, s, n)
        table[f"GET {label(size)} MiB/s"] = lambda t, s=size, n=count: _get_rate(t, s, n)
    small = 500 if quick else 2000
    table[SMALL_GET] = lambda t: _get_requests(t, small)
    table["PUT 4 KiB req/s (4 clients)"] = lambda t: _put_requests(t, small)
    return table


def _put_rate(target: Target, size: int, count: int) -> float:
    data = os.urandom(size)
    took, total = timed(lambda c: c.put(f"obj-{size}", data), target, count)
    return total / MIB / took


def _get_rate(target: Target, size: int, count: int) -> float:
    took, total = timed(lambda c: c.get(f"obj-{size}"), target, count)
    assert total == size * count
    return total / MIB / took


def _get_requests(target: Target, count: int) -> float:
    took, _ = timed(lambda c: c.get(f"obj-{4 * KIB}"), target, count, clients=4)
    return count / took


def _put_requests(target: Target, count: int) -> float:
    data = os.urandom(4 * KIB)
    took, _ = timed(lambda c: c.put(f"small-{time.perf_counter_ns()}", data), target, count, 4)
    return count / took


def measure_all(
    targets: list[Target], quick: bool, small_only: bool = False
) -> dict[str, dict[str, float]]:
    """Best of several rounds, the servers taking turns figure by figure, so that a noisy
    neighbour on a shared machine does not land on one server only."""
    for target in targets:
        for size in (4 * KIB,) if small_only else SIZES:
            Client(target).put(f"obj-{size}", os.urandom(size))
    best: dict[str, dict[str, float]] = {t.name: {} for t in targets}
    for _round in range(1 if quick else 3):
        for key, work in measures(quick, small_only).items():
            for target in targets:
                value = work(target)
                best[target.name][key] = max(value, best[target.name].get(key, 0.0))
    return best


def label(size: int) -> str:
    return f"{size // KIB} KiB" if size < MIB else f"{size // MIB} MiB"


def report(
    ocx: dict[str, float], nginx: dict[str, float], swift: dict[str, float] | None, loop: str
) -> None:
    print(f"\nOCX object storage (event loop: {loop}) vs real Swift and nginx, loopback, one run")
    head = f"{'measure':30} {'OCX':>9}"
    if swift:
        head += f" {'swift':>9} {'OCX/swift':>10}"
    print(head + f" {'nginx':>9} {'OCX/nginx':>10}")
    for key in ocx:
        line = f"{key:30} {ocx[key]:9.1f}"
        if swift:
            line += f" {swift[key]:9.1f} {ocx[key] / swift[key]:10.2f}"
        print(line + f" {nginx[key]:9.1f} {ocx[key] / nginx[key]:10.2f}")
    print()
    if "GET 64 MiB MiB/s" in ocx:
        big = ocx["GET 64 MiB MiB/s"] / nginx["GET 64 MiB MiB/s"]
        print(f"goal 64 MiB GET >= 0.70x nginx: {big:.2f}x, {_verdict(big >= 0.7)}")
    small = ocx[SMALL_GET]
    print(f"goal 4 KiB GET >= 3,000 req/s: {small:,.0f}, {_verdict(small >= 3000)}")
    if swift:
        ratio = small / swift[SMALL_GET]
        print(f"goal 4 KiB GET >= 2x real Swift: {ratio:.2f}x, {_verdict(ratio >= 2)}")
    else:
        print("real Swift skipped (--no-swift)")
    print("(a shared machine: the ratios, measured in this run, are what counts)")


def profile(target: Target, pid: int, seconds: float, out: Path) -> None:
    """py-spy the server ``pid`` while four clients GET 4 KiB objects; print the top frames."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not os.path.exists(spy):
        print("py-spy is missing: .venv/bin/pip install py-spy")
        return
    cmd = [spy, "record", "-p", str(pid), "-d", str(int(seconds)), "-r", "250", "-f", "raw"]
    spying = subprocess.Popen([*cmd, "-o", str(out), "--nonblocking"], stdout=subprocess.DEVNULL)
    while spying.poll() is None:
        timed(lambda c: c.get(f"obj-{4 * KIB}"), target, 400, clients=4)
    if spying.returncode != 0 or not out.exists():
        print(f"py-spy failed ({spying.returncode}); it needs ptrace rights on the server")
        return
    print_profile(out.read_text())


def print_profile(raw: str, top: int = 30) -> None:
    """Where the samples of a py-spy raw profile (collapsed stacks) are: each function with
    its callees (inclusive), and on its own (self)."""
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        frames = [re.sub(r" \((?:.*/)?([^/]+):\d+\)$", r" (\1)", f) for f in stack.split(";")]
        total += int(count)
        for frame in set(frames):
            inclusive[frame] += int(count)
        own[frames[-1]] += int(count)
    print(f"\nOCX server, 4 KiB GETs: {total} samples (py-spy), % of samples")
    for title, counter, rows in (("with callees", inclusive, top), ("own", own, top // 2)):
        print(f"  {title}:")
        for frame, count in counter.most_common(rows):
            print(f"  {100 * count / total:5.1f}%  {frame}")


def _verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio")
    parser.add_argument("--quick", action="store_true", help="smaller budgets, for a smoke run")
    parser.add_argument("--small", action="store_true", help="only the 4 KiB req/s figures")
    parser.add_argument("--no-swift", action="store_true", help="leave real Swift out")
    parser.add_argument(
        "--profile", type=float, metavar="SECONDS", help="then py-spy the OCX server's GETs"
    )
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.loop)
        return
    with (
        tempfile.TemporaryDirectory(
            prefix="ocx-bench-", dir=os.environ.get("OCX_BENCH_DIR")
        ) as tmp,
        contextlib.ExitStack() as stack,
    ):
        root = Path(tmp)
        nginx_proc, nginx = start_nginx(root / "nginx")
        ocx_proc, ocx = start_ocx(root / "ocx", args.loop)
        try:
            targets = [nginx, ocx]
            if not args.no_swift:
                targets.append(stack.enter_context(swift_target(root / "swift")))
            results = measure_all(targets, args.quick, args.small)
            if args.profile:
                profile(ocx, ocx_proc.pid, args.profile, root / "profile.txt")
        finally:
            stack.close()
            nginx_proc.terminate()
            assert ocx_proc.stdin is not None
            ocx_proc.stdin.close()
            ocx_proc.wait(30)
            nginx_proc.wait(30)
    report(results["ocx"], results["nginx"], results.get("swift"), args.loop)


if __name__ == "__main__":
    main()
