"""Many concurrent clients against object storage, through the proxy and directly.

    .venv/bin/python bench/load.py [--clients 100,300,1000] [--seconds 20] [--procs 2]
    .venv/bin/python bench/load.py --clients 300 --paths direct --diagnose   # where time goes

A landlord (harvard: identity, object storage and the proxy, user alice) runs as ``ocx up``
runs it (a supervisor in a child process, the landlord in its own process). The clients run
in ``--procs`` processes of their own (two by default, one event loop each: a single loop
driving 300 connections at ~1,500 requests/s was itself late by up to a quarter of a second,
and counted that as the server's), each on its own keep-alive connection (reconnecting after
an error, as real clients do). Each client repeats, for a bounded time: PUT a 4 KiB object
of its own, GET it, check the bytes. The clock starts once every client has connected and
tried a PUT and a GET; until then they send as they will afterwards (the warm-up: 300
connections and first requests at once; its errors count, its worst latency is printed
apart). A request's latency runs from its first byte sent to its answer's last byte read.

Per level and path it prints requests/s, p50 and p99 latency (also per method), the errors
by kind with what the server said, the landlord process's CPU time per request while the
clock runs (the warm-up's requests, more or fewer with the machine's load, are left out),
how late the clients' own loops were (p99: if that is near
the latencies, the clients measured themselves), and the load average; then the ratio of the
proxied figures to the direct ones measured in the same run.

``--diagnose`` runs the landlord on a thread of its process (as the tests do) and watches it
from inside: each request's time in the server (first byte read to answer written), how late
its loop was, every garbage collection, the storage threads' and the database writer's waits,
and where requests older than half a second were waiting (their coroutines' innermost
frames, sampled every 0.2 s). That is how the tail was found (docs/object.md, "Load").

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
import multiprocessing
import os
import resource
import subprocess
import sys
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

OBJECT_SIZE = 4096
REQUEST_TIMEOUT = 30.0
WAITING = 0.5  # --diagnose: requests older than this are sampled for where they wait


@dataclass
class Tally:
    """What the clients saw in one level and path (all their processes together)."""

    # (started since the clock started, latency, method) of every measured request
    records: list[tuple[float, float, str]] = field(default_factory=list)
    errors: collections.Counter[str] = field(default_factory=collections.Counter)
    # the first answer of each error kind (what the server said), to explain the count
    samples: dict[str, str] = field(default_factory=dict)
    warmup: list[float] = field(default_factory=list)  # latencies of the warm-up requests
    lags: list[float] = field(default_factory=list)  # how late the clients' loops woke
    client_cpu: float = 0.0  # CPU seconds the client processes used
    started: float = 0.0  # wall clock, when the clock started
    elapsed: float = 0.0
    cpu: float = 0.0  # CPU seconds the landlord's process used while the clock ran
    clocked: int = 0  # requests answered while the clock ran (not the warm-up's, not after)

    def add(self, part: dict[str, Any]) -> None:
        self.records += [tuple(r) for r in part["records"]]
        self.errors.update(part["errors"])
        for kind, said in part["samples"].items():
            self.samples.setdefault(kind, said)
        self.warmup += part["warmup"]
        self.lags += part["lags"]
        self.client_cpu += part["cpu"]


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


class Worker:
    """The clients of one process: their figures, sent back to the parent whole."""

    def __init__(self) -> None:
        self.records: list[tuple[float, float, str]] = []
        self.errors: collections.Counter[str] = collections.Counter()
        self.samples: dict[str, str] = {}
        self.warmup: list[float] = []
        self.lags: list[float] = []
        self.ready = 0  # clients done warming up
        self.start = 0.0  # perf_counter when the clock started

    def error(self, kind: str, said: str | None = None) -> None:
        self.errors[kind] += 1
        if said is not None:
            self.samples.setdefault(kind, said)


async def one_client(
    index: int, base: str, token: str, worker: Worker, go: asyncio.Event, until: list[float]
) -> None:
    """PUT, GET, compare, again. Until the clock starts the requests warm up (their latency
    is kept apart; their errors count): a client keeps sending then, as an idle connection
    would be closed by the server's keep-alive timeout while the slowest client warms up."""
    parts = urlsplit(base)
    client = Client(parts.hostname or "127.0.0.1", parts.port or 80)
    data = os.urandom(OBJECT_SIZE)
    path = f"{parts.path}/load/c{index:04d}"
    headers = {"X-Auth-Token": token}
    step = attempts = 0
    while not go.is_set() or time.perf_counter() < until[0]:
        attempts += 1
        if attempts == 3:
            worker.ready += 1  # one PUT and one GET tried
        method = "PUT" if step % 2 == 0 else "GET"
        counted = go.is_set()
        started = time.perf_counter()
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT):
                status, body = await client.request(
                    method, path, headers, data if method == "PUT" else b""
                )
            latency = time.perf_counter() - started
            if counted:
                worker.records.append((started - worker.start, latency, method))
            else:
                worker.warmup.append(latency)
            if status >= 300:
                worker.error(f"{method} {status}", body[:300].decode("latin-1"))
            elif method == "GET" and body != data:
                worker.error("GET wrong bytes")
            else:
                step += 1
                continue
        except TimeoutError:
            client.close()
            worker.error(f"{method} timeout")
        except HttpError as exc:
            worker.error(f"{method} {exc.kind}")
        step = 0  # start again from a PUT
    client.close()


async def _lag(worker: Worker, until: list[float]) -> None:
    """How late this loop wakes from a 10 ms sleep: its own backlog, counted in every
    latency it measures."""
    while time.perf_counter() < until[0]:
        t = time.perf_counter()
        await asyncio.sleep(0.01)
        worker.lags.append(time.perf_counter() - t - 0.01)


async def run_clients(
    indices: range, base: str, token: str, seconds: float, pipe: Connection
) -> Worker:
    """Warm up, tell the parent, wait for its go, then run for ``seconds``."""
    worker = Worker()
    go = asyncio.Event()
    until = [float("inf")]
    warm = asyncio.Event()
    clients = [
        asyncio.ensure_future(one_client(i, base, token, worker, go, until)) for i in indices
    ]

    async def warmed() -> None:
        while worker.ready < len(indices):
            await asyncio.sleep(0.05)
        warm.set()

    watcher = asyncio.ensure_future(warmed())
    await asyncio.wait([watcher, *clients], return_when=asyncio.FIRST_COMPLETED)
    pipe.send("warm")
    loop = asyncio.get_running_loop()
    at = await loop.run_in_executor(None, pipe.recv)  # the wall-clock start, for everyone
    await asyncio.sleep(max(0.0, at - time.time()))
    worker.start = time.perf_counter()
    until[0] = worker.start + seconds
    go.set()
    lag = asyncio.ensure_future(_lag(worker, until))
    await asyncio.gather(*clients)
    await lag
    return worker


def client_process(indices: range, base: str, token: str, seconds: float, pipe: Connection) -> None:
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    worker = asyncio.run(run_clients(indices, base, token, seconds, pipe))
    used = resource.getrusage(resource.RUSAGE_SELF)
    pipe.send(
        {
            "records": worker.records,
            "errors": dict(worker.errors),
            "samples": worker.samples,
            "warmup": worker.warmup,
            "lags": worker.lags,
            "cpu": used.ru_utime + used.ru_stime - cpu.ru_utime - cpu.ru_stime,
        }
    )


def run_level(
    base: str, token: str, clients: int, seconds: float, procs: int, pid: int | None = None
) -> Tally:
    """``clients`` clients spread over ``procs`` processes, started together once all of
    them are warm; the CPU time process ``pid`` uses while the clock runs."""
    context = multiprocessing.get_context("fork")
    procs = max(1, min(procs, clients))
    workers = []
    for n in range(procs):
        ours, theirs = context.Pipe()
        indices = range(n * clients // procs, (n + 1) * clients // procs)
        proc = context.Process(target=client_process, args=(indices, base, token, seconds, theirs))
        proc.start()
        workers.append((proc, ours))
    for _, pipe in workers:
        assert pipe.recv() == "warm"
    tally = Tally(started=time.time() + 0.2)
    for _, pipe in workers:
        pipe.send(tally.started)
    if pid is not None:
        time.sleep(max(0.0, tally.started - time.time()))
        cpu = cpu_seconds(pid)
        time.sleep(max(0.0, tally.started + seconds - time.time()))
        tally.cpu = cpu_seconds(pid) - cpu
    for proc, pipe in workers:
        tally.add(pipe.recv())
        proc.join()
    ends = [start + latency for start, latency, _ in tally.records]
    tally.elapsed = max([seconds, *ends])
    tally.clocked = sum(1 for end in ends if end <= seconds)
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


def serve(
    root: Path, inline: bool, profile: Path | None = None, diagnose: Path | None = None
) -> None:
    """The landlord under ``ocx up``'s supervisor (its own process, ``python -m ocx.process``),
    or with ``inline`` on a thread of this process (``BackgroundExchange``, as the tests run
    it; needed for ``--profile`` and ``--diagnose``)."""
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
        watch = Watch() if diagnose is not None else None
        if watch is not None:
            bg.call(_on_loop(watch.start))
        _announce(harvard, os.getpid())
        sys.stdin.read()
        if watch is not None and diagnose is not None:
            watch.parts = dict(harvard.base_urls)
            bg.call(_on_loop(lambda: watch.dump(diagnose)))
        if profiler is not None:
            bg.call(_on_loop(profiler.disable))
            profiler.dump_stats(str(profile))


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


class Watch:
    """``--diagnose``: the landlord watched from inside its own loop (see the docstring)."""

    def __init__(self) -> None:
        self.requests: list[tuple[float, float, str]] = []  # (began, seconds, method)
        self.collections: list[tuple[float, float, int]] = []  # (began, seconds, generation)
        self.lags: list[tuple[float, float]] = []
        self.calls: dict[str, list[tuple[float, float, float]]] = {"writer": []}
        self.waiting: list[tuple[float, str]] = []
        self.connections: list[tuple[float, int]] = []  # (made, the server's port)
        self.parts: dict[str, str] = {}
        self._gc_began = 0.0
        self._tasks: list[asyncio.Future[None]] = []

    def start(self) -> None:
        import gc

        gc.callbacks.append(self._on_gc)
        gc.collect()
        gc.freeze()  # as a landlord's process does once started (ocx.process)
        self._patch_server()
        self._patch_object_store()
        self._tasks = [asyncio.ensure_future(self._lag()), asyncio.ensure_future(self._sample())]

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._gc_began = time.time()
        else:
            self.collections.append(
                (self._gc_began, time.time() - self._gc_began, info["generation"])
            )

    def _patch_server(self) -> None:
        from ocx.common.serving import GuardedProtocol as Protocol

        begin, complete = Protocol.on_message_begin, Protocol.on_response_complete
        made = Protocol.connection_made
        requests, connections = self.requests, self.connections

        def connection_made(self: Any, transport: Any) -> None:
            made(self, transport)
            connections.append((time.time(), transport.get_extra_info("sockname")[1]))

        def on_message_begin(self: Any) -> None:
            self._watch_began = time.time()
            begin(self)

        def on_response_complete(self: Any) -> None:
            complete(self)
            began = getattr(self, "_watch_began", time.time())
            method = self.cycle.scope["method"] if self.cycle is not None else "?"
            requests.append((began, time.time() - began, method))

        Protocol.connection_made = connection_made  # type: ignore[method-assign]
        Protocol.on_message_begin = on_message_begin  # type: ignore[method-assign]
        Protocol.on_response_complete = on_response_complete  # type: ignore[method-assign]

    def _patch_object_store(self) -> None:
        from ocx.object import storage, writes

        run_io, run_writer = storage.Storage.run, writes.GroupWriter.run
        calls = self.calls

        async def timed_io(self: Any, func: Any, *args: Any) -> Any:
            queued = time.time()
            began = [queued]

            def timed(*args: Any) -> Any:
                began[0] = time.time()
                return func(*args)

            try:
                return await run_io(self, timed, *args)
            finally:
                name = getattr(func, "__name__", "io")
                calls.setdefault(f"io {name}", []).append(
                    (queued, began[0] - queued, time.time() - queued)
                )

        async def timed_writer(self: Any, write: Any) -> Any:
            queued = time.time()
            try:
                return await run_writer(self, write)
            finally:
                calls["writer"].append((queued, 0.0, time.time() - queued))

        storage.Storage.run = timed_io  # type: ignore[method-assign]
        writes.GroupWriter.run = timed_writer  # type: ignore[method-assign]

    async def _lag(self) -> None:
        while True:
            t = time.time()
            await asyncio.sleep(0.01)
            self.lags.append((t, time.time() - t - 0.01))

    async def _sample(self) -> None:
        first_seen: dict[asyncio.Task[Any], float] = {}
        while True:
            await asyncio.sleep(0.2)
            now = time.time()
            tasks = asyncio.all_tasks()
            for task in tasks:
                if now - first_seen.setdefault(task, now) > WAITING:
                    self.waiting.append((now, _where(task.get_coro())))
            for task in [t for t in first_seen if t not in tasks]:
                del first_seen[task]

    def dump(self, path: Path) -> None:
        for task in self._tasks:
            task.cancel()
        fields = ("requests", "collections", "lags", "calls", "waiting", "connections", "parts")
        path.write_text(json.dumps({name: getattr(self, name) for name in fields}))


def _where(coro: Any) -> str:
    """The innermost frames of a suspended coroutine chain: where it waits."""
    chain = []
    while coro is not None:
        frame = getattr(coro, "cr_frame", None) or getattr(coro, "ag_frame", None)
        if frame is not None:
            code = frame.f_code
            chain.append(f"{code.co_filename.rsplit('/', 1)[-1]}:{frame.f_lineno} {code.co_name}")
        coro = getattr(coro, "cr_await", None) or getattr(coro, "ag_await", None)
    return " > ".join(chain[-3:])


async def _on_loop(action: Any) -> None:
    action()


def diagnosis(watched: dict[str, Any], row: dict[str, Any]) -> None:
    """What the landlord saw during one level and path (``row``'s window)."""

    def within(items: list[Any]) -> list[Any]:
        return [item for item in items if row["window"][0] <= item[0] <= row["window"][1]]

    def spread(values: list[float]) -> str:
        if not values:
            return "none"
        return (
            f"p50 {percentile(values, 50) * 1000:.0f} ms, p99 {percentile(values, 99) * 1000:.0f}"
            f" ms, max {max(values) * 1000:.0f} ms"
        )

    print(f"{row['path']} {row['clients']} clients, seen by the landlord:")
    requests = within(watched["requests"])
    for method in ("GET", "PUT"):
        times = [seconds for _, seconds, m in requests if m == method]
        print(f"  {method} in the server (first byte read to answer written): {spread(times)}")
    made = collections.Counter(port for _, port in within(watched["connections"]))
    ports = {urlsplit(url).port: part for part, url in watched["parts"].items()}
    print(
        "  connections opened: "
        + (", ".join(f"{n} to {ports.get(port, port)}" for port, n in made.items()) or "none")
    )
    print(f"  its loop's lateness: {spread([lag for _, lag in within(watched['lags'])])}")
    for generation in (0, 1, 2):
        pauses = [s for _, s, g in within(watched["collections"]) if g == generation]
        if pauses:
            print(
                f"  gc generation {generation}: {len(pauses)} collections, "
                f"{sum(pauses) * 1000:.0f} ms in all, longest {max(pauses) * 1000:.0f} ms"
            )
    for name in sorted(watched["calls"]):
        calls = within(watched["calls"][name])
        label = "database writer" if name == "writer" else f"storage threads, {name[3:]}"

        if calls:
            print(
                f"  {label}: {len(calls)} calls; queued {spread([c[1] for c in calls])}; "
                f"in all {spread([c[2] for c in calls])}"
            )
    waits = collections.Counter(where for _, where in within(watched["waiting"]))
    if waits:
        print(f"  where requests older than {WAITING} s waited (samples every 0.2 s):")
        for where, count in waits.most_common(6):
            print(f"    {count:6d}  {where}")


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


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def report_line(path: str, clients: int, tally: Tally) -> dict[str, Any]:
    latencies = [latency for _, latency, _ in tally.records] or [0.0]
    requests = len(tally.records)
    rps = requests / max(tally.elapsed, 1e-9)
    errors = sum(tally.errors.values())
    row: dict[str, Any] = {
        "path": path,
        "clients": clients,
        "rps": rps,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "errors": dict(tally.errors),
        # Load-independent: what each request cost the landlord's process (proxy included).
        "cpu_ms_per_request": tally.cpu * 1000 / max(tally.clocked, 1),
        "client_cpu_ms_per_request": tally.client_cpu * 1000 / max(requests, 1),
        "client_loop_late_p99_ms": percentile(tally.lags or [0.0], 99) * 1000,
        "warmup_max_ms": max(tally.warmup or [0.0]) * 1000,
        # A closed loop: clients / (requests/s) is the mean latency, whatever the server does.
        "littles_law_mean_ms": clients / max(rps, 1e-9) * 1000,
        "load_average": load_average(),
        "window": (tally.started, tally.started + tally.elapsed),
    }
    said = ", ".join(f"{k}: {v}" for k, v in sorted(tally.errors.items())) or "none"
    print(
        f"{path:8} {clients:6d} {rps:9.1f} {row['p50_ms']:9.1f} {row['p99_ms']:9.1f}"
        f"   {errors:6d}  {said}   (load average {row['load_average']})",
        flush=True,
    )
    print(
        f"         landlord CPU {row['cpu_ms_per_request']:.2f} ms/request; "
        f"mean latency {row['littles_law_mean_ms']:.0f} ms = clients / req/s (closed loop)",
        flush=True,
    )
    print(
        f"         clients: CPU {row['client_cpu_ms_per_request']:.2f} ms/request, their loops "
        f"late by {row['client_loop_late_p99_ms']:.0f} ms at p99; warm-up's slowest "
        f"{row['warmup_max_ms']:.0f} ms",
        flush=True,
    )
    for method in ("PUT", "GET"):
        values = [latency for _, latency, m in tally.records if m == method]
        if not values:
            continue
        row[f"{method}_p50_ms"] = percentile(values, 50) * 1000
        row[f"{method}_p99_ms"] = percentile(values, 99) * 1000
        print(
            f"         {method}: {len(values)}, p50 {row[f'{method}_p50_ms']:.1f} ms, "
            f"p99 {row[f'{method}_p99_ms']:.1f} ms",
            flush=True,
        )
    for kind, answer in sorted(tally.samples.items()):
        print(f"         {kind}, e.g.: {answer!r}", flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", default="100,300,1000", help="levels, comma-separated")
    parser.add_argument("--seconds", type=float, default=20.0, help="per level and path")
    parser.add_argument("--procs", type=int, default=2, help="client processes")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--paths", default="direct,proxied", help="direct, proxied or both")
    parser.add_argument(
        "--profile", type=Path, help="profile the landlord's event loop (cProfile) into this file"
    )
    parser.add_argument(
        "--diagnose",
        action="store_true",
        help="watch the landlord from inside (implies --inline) and say where the time went",
    )
    parser.add_argument(
        "--inline",
        action="store_true",
        help="run the landlord on a thread (as the tests do), not as `ocx up` does",
    )
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--watch", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        logging.disable(logging.WARNING)
        inline = args.inline or args.profile is not None or args.watch is not None
        return serve(args.serve, inline, args.profile, args.watch)
    import tempfile

    with tempfile.TemporaryDirectory() as root:
        cmd = [sys.executable, __file__, "--serve", root]
        if args.profile:
            cmd += ["--profile", str(args.profile.resolve())]
        if args.inline:
            cmd.append("--inline")
        watched = Path(root) / "watched.json"
        if args.diagnose:
            cmd += ["--watch", str(watched)]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stdin=subprocess.PIPE, text=True)
        assert proc.stdout is not None and proc.stdin is not None
        landlord = json.loads(proc.stdout.readline())
        try:
            levels = [int(c) for c in args.clients.split(",")]
            rows = measure(landlord, levels, args.seconds, args.paths.split(","), args.procs)
        finally:
            proc.stdin.close()
            proc.wait(timeout=60)
        if args.diagnose:
            print()
            for row in rows:
                diagnosis(json.loads(watched.read_text()), row)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


def measure(
    landlord: dict[str, Any], levels: list[int], seconds: float, paths: list[str], procs: int
) -> list[dict[str, Any]]:
    token, project = alice(landlord)
    bases = {
        "direct": f"{landlord['object']}/v1/AUTH_{project}",
        "proxied": f"{landlord['proxy']}/v1/AUTH_{project}",
    }
    prepare(bases["direct"], token)
    bases = {path: base for path, base in bases.items() if path in paths}
    print(f"clients in {procs} processes; {os.cpu_count()} cores")
    print(f"{'path':8} {'clients':>6} {'req/s':>9} {'p50 ms':>9} {'p99 ms':>9}   errors")
    rows = []
    for clients in levels:
        for path, base in bases.items():
            tally = run_level(base, token, clients, seconds, procs, landlord["pid"])
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
