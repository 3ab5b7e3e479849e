"""Many concurrent clients against object storage, through the proxy and directly.

    .venv/bin/python bench/load.py [--clients 100,300,1000] [--seconds 20]

A landlord (harvard: identity, object storage and the proxy, user alice) runs as ``ocx up``
runs it (a supervisor in a child process, the landlord in its own process); the clients run
in this one, on one event loop, each on its own keep-alive connection (reconnecting after an
error, as real clients do). Each client repeats, for a bounded time: PUT a 4 KiB object of
its own, GET it, check the bytes. Per level and path it prints requests/s, p50 and p99
latency (also per method), the errors by kind with what the server said, and the landlord
process's CPU time per request (independent of what else loads the machine); then the ratio
of the proxied figures to the direct ones measured in the same run.

The clients send without pause (a closed loop), so the mean latency is clients / (req/s)
whatever the server does (Little's law): p99 under 1 s at 300 clients needs well over 300
requests/s.

Goal (issue #17): no errors, and p99 under 1 s at 300 clients, on this 2-core machine.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import logging
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

OBJECT_SIZE = 4096
REQUEST_TIMEOUT = 30.0


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    by_method: dict[str, list[float]] = field(default_factory=lambda: collections.defaultdict(list))
    errors: collections.Counter[str] = field(default_factory=collections.Counter)
    # the first answer of each error kind (what the server said), to explain the count
    samples: dict[str, str] = field(default_factory=dict)
    requests: int = 0
    elapsed: float = 0.0
    cpu: float = 0.0  # CPU seconds the landlord's process used meanwhile


class HttpError(Exception):
    def __init__(self, kind: str):
        super().__init__(kind)
        self.kind = kind


class Client:
    """One keep-alive HTTP/1.1 connection, sending one request at a time."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(
        self, method: str, path: str, headers: dict[str, str], body: bytes = b""
    ) -> tuple[int, bytes]:
        if self.writer is None:
            try:
                self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            except OSError as exc:
                raise HttpError(f"connect: {type(exc).__name__}") from exc
        assert self.reader is not None and self.writer is not None
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        lines.append(f"Content-Length: {len(body)}")
        try:
            self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
            await self.writer.drain()
            return await self._answer(method)
        except (OSError, asyncio.IncompleteReadError) as exc:
            self.close()
            raise HttpError(f"read: {type(exc).__name__}") from exc
        except HttpError:
            self.close()
            raise

    async def _answer(self, method: str) -> tuple[int, bytes]:
        assert self.reader is not None
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        fields = {}
        for line in header_lines:
            if ":" in line:
                name, _, value = line.partition(":")
                fields[name.strip().lower()] = value.strip()
        if "chunked" in fields.get("transfer-encoding", ""):
            raise HttpError("chunked answer (not expected here)")
        length = int(fields.get("content-length", "0"))
        body = b"" if method == "HEAD" else await self.reader.readexactly(length)
        if fields.get("connection", "").lower() == "close":
            self.close()
        return status, body

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def one_client(index: int, base: str, token: str, until: float, tally: Tally) -> None:
    parts = urlsplit(base)
    client = Client(parts.hostname or "127.0.0.1", parts.port or 80)
    data = os.urandom(OBJECT_SIZE)
    path = f"{parts.path}/load/c{index:04d}"
    headers = {"X-Auth-Token": token}
    step = 0
    while time.monotonic() < until:
        method = "PUT" if step % 2 == 0 else "GET"
        started = time.perf_counter()
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT):
                status, body = await client.request(
                    method, path, headers, data if method == "PUT" else b""
                )
            tally.latencies.append(time.perf_counter() - started)
            tally.by_method[method].append(tally.latencies[-1])
            tally.requests += 1
            if status >= 300:
                tally.errors[f"{method} {status}"] += 1
                tally.samples.setdefault(f"{method} {status}", body[:300].decode("latin-1"))
            elif method == "GET" and body != data:
                tally.errors["GET wrong bytes"] += 1
            else:
                step += 1
                continue
        except TimeoutError:
            client.close()
            tally.errors[f"{method} timeout"] += 1
        except HttpError as exc:
            tally.errors[f"{method} {exc.kind}"] += 1
        step = 0  # start again from a PUT
    client.close()


async def run_level(base: str, token: str, clients: int, seconds: float) -> Tally:
    tally = Tally()
    until = time.monotonic() + seconds
    started = time.monotonic()
    await asyncio.gather(*(one_client(i, base, token, until, tally) for i in range(clients)))
    tally.elapsed = time.monotonic() - started
    return tally


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far (Linux /proc), 0 where unknown."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


# --- the landlord, in a child process -------------------------------------------------------


def serve(root: Path, inline: bool, profile: Path | None = None) -> None:
    """The landlord under ``ocx up``'s supervisor (its own process, ``python -m ocx.process``),
    or with ``inline`` on a thread of this process (``BackgroundExchange``, as the tests run
    it; needed for ``--profile``)."""
    from ocx import topology

    topo = topology.Topology.model_validate(
        {
            "exchange": {"base_port": 0},
            "landlords": [
                {
                    "name": "harvard",
                    "parts": ["identity", "object", "proxy"],
                    "demo_users": ["alice"],
                }
            ],
        }
    )
    if not inline:
        return asyncio.run(_supervised(topo, root))
    from ocx.runner import BackgroundExchange

    bg = BackgroundExchange(topo, root)
    with bg as exchange:
        harvard = exchange.landlords["harvard"]
        profiler = None
        if profile is not None:
            import cProfile

            profiler = cProfile.Profile()
            bg.call(_on_loop(profiler.enable))  # the profiler is per thread: the loop's
        _announce(harvard, os.getpid())
        sys.stdin.read()
        if profiler is not None:
            bg.call(_on_loop(profiler.disable))
            profiler.dump_stats(profile)


async def _supervised(topo: Any, root: Path) -> None:
    from ocx.supervisor import Supervisor

    supervisor = Supervisor(topo, root, log_level="WARNING")
    await supervisor.start_exchange()
    try:
        proc = supervisor.children[0].proc
        assert proc is not None
        _announce(supervisor.landlords["harvard"], proc.pid)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    finally:
        await supervisor.stop()


def _announce(harvard: Any, pid: int) -> None:
    ready = {
        "pid": pid,
        "identity": harvard.identity_url,
        "object": harvard.base_urls["object"],
        "proxy": harvard.base_urls["proxy"],
        "password": harvard.demo_passwords["alice"],
    }
    print(json.dumps(ready), flush=True)


async def _on_loop(action: Any) -> None:
    action()


def alice(landlord: dict[str, Any]) -> tuple[str, str]:
    from keystoneauth1 import session as ks_session
    from keystoneauth1.identity import v3

    sess = ks_session.Session(
        auth=v3.Password(
            auth_url=landlord["identity"] + "/v3",
            username="alice",
            password=landlord["password"],
            user_domain_id="default",
            project_name="alice-project",
            project_domain_id="default",
        )
    )
    return str(sess.get_token()), str(sess.get_project_id())


def prepare(url: str, token: str) -> None:
    import httpx

    made = httpx.put(url + "/load", headers={"X-Auth-Token": token}, timeout=30)
    assert made.status_code in (201, 202), made.text


def report_line(path: str, clients: int, tally: Tally) -> dict[str, Any]:
    latencies = tally.latencies or [0.0]
    row = {
        "path": path,
        "clients": clients,
        "rps": tally.requests / max(tally.elapsed, 1e-9),
        "p50_ms": percentile(latencies, 50) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "errors": dict(tally.errors),
        # Load-independent: what each request cost the landlord's process (proxy included).
        "cpu_ms_per_request": tally.cpu * 1000 / max(tally.requests, 1),
        # A closed loop: clients / (requests/s) is the mean latency, whatever the server does.
        "littles_law_mean_ms": clients
        / max(tally.requests / max(tally.elapsed, 1e-9), 1e-9)
        * 1000,
    }
    errors = ", ".join(f"{k}: {v}" for k, v in sorted(tally.errors.items())) or "none"
    print(
        f"{path:8} {clients:6d} {row['rps']:9.1f} {row['p50_ms']:9.1f} {row['p99_ms']:9.1f}"
        f"   {sum(tally.errors.values()):6d}  {errors}",
        flush=True,
    )
    print(
        f"         landlord CPU {row['cpu_ms_per_request']:.2f} ms/request; "
        f"mean latency {row['littles_law_mean_ms']:.0f} ms = clients / req/s (closed loop)",
        flush=True,
    )
    for method, values in sorted(tally.by_method.items()):
        row[f"{method}_p50_ms"] = percentile(values, 50) * 1000
        row[f"{method}_p99_ms"] = percentile(values, 99) * 1000
        print(
            f"         {method}: {len(values)}, p50 {row[f'{method}_p50_ms']:.1f} ms, "
            f"p99 {row[f'{method}_p99_ms']:.1f} ms",
            flush=True,
        )
    for kind, said in sorted(tally.samples.items()):
        print(f"         {kind}, e.g.: {said!r}", flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", default="100,300,1000", help="levels, comma-separated")
    parser.add_argument("--seconds", type=float, default=20.0, help="per level and path")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--paths", default="direct,proxied", help="direct, proxied or both")
    parser.add_argument(
        "--profile", type=Path, help="profile the landlord's event loop (cProfile) into this file"
    )
    parser.add_argument(
        "--inline",
        action="store_true",
        help="run the landlord on a thread (as the tests do), not as `ocx up` does",
    )
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        logging.disable(logging.WARNING)
        return serve(args.serve, args.inline or args.profile is not None, args.profile)
    import tempfile

    with tempfile.TemporaryDirectory() as root:
        cmd = [sys.executable, __file__, "--serve", root]
        if args.profile:
            cmd += ["--profile", str(args.profile.resolve())]
        if args.inline:
            cmd.append("--inline")
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stdin=subprocess.PIPE, text=True)
        assert proc.stdout is not None and proc.stdin is not None
        landlord = json.loads(proc.stdout.readline())
        try:
            levels = [int(c) for c in args.clients.split(",")]
            rows = measure(landlord, levels, args.seconds, args.paths.split(","))
        finally:
            proc.stdin.close()
            proc.wait(timeout=60)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


def measure(
    landlord: dict[str, Any], levels: list[int], seconds: float, paths: list[str]
) -> list[dict[str, Any]]:
    token, project = alice(landlord)
    bases = {
        "direct": f"{landlord['object']}/v1/AUTH_{project}",
        "proxied": f"{landlord['proxy']}/v1/AUTH_{project}",
    }
    prepare(bases["direct"], token)
    bases = {path: base for path, base in bases.items() if path in paths}
    print(f"{'path':8} {'clients':>6} {'req/s':>9} {'p50 ms':>9} {'p99 ms':>9}   errors")
    rows = []
    for clients in levels:
        for path, base in bases.items():
            cpu = cpu_seconds(landlord["pid"])
            tally = asyncio.run(run_level(base, token, clients, seconds))
            tally.cpu = cpu_seconds(landlord["pid"]) - cpu
            rows.append(report_line(path, clients, tally))
    print("\nproxied / direct (same run):")
    for clients in levels if len(bases) == 2 else ():
        direct, proxied = (r for r in rows if r["clients"] == clients)
        print(
            f"  {clients:5d} clients: req/s {proxied['rps'] / max(direct['rps'], 1e-9):.2f}x, "
            f"p99 {proxied['p99_ms'] / max(direct['p99_ms'], 1e-9):.2f}x"
        )
    goal = [r for r in rows if r["clients"] == 300]
    met = all(not r["errors"] and r["p99_ms"] < 1000 for r in goal)
    if goal:
        print(f"goal at 300 clients (0 errors, p99 < 1 s): {'met' if met else 'NOT met'}")
    return rows


if __name__ == "__main__":
    main()
