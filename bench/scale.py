"""Scale: many landlords holding many servers each, behind one proxy, under many concurrent calls.

    .venv/bin/python bench/scale.py [--landlords 100] [--servers-per-landlord 10000]
        [--concurrency 1000] [--seconds 60] [--per-process 10] [--volume-landlords 2]
        [--quick] [--json]

**The exchange.** Landlords ``l000`` … each run identity, compute (one simulated host large
enough for their fleet, quotas to match) and images; the first ``--volume-landlords`` after
``l000`` also run block storage. ``l000`` is the customer's home (user alice) and runs the
proxy; every other landlord trusts ``l000`` (K2K), so alice's token lists them all and the
proxy fans out to every one: the real proxy, with its real federation, fan-out and merges.

**How landlords share processes.** This process binds every part's socket (ephemeral ports),
then starts the proxy alone in one process and the landlords ``--per-process`` to a process
(``python bench/scale.py --host``, the sockets inherited): each such process serves its
landlords' parts, each part on its own port with its own database, on one event loop
(:func:`ocx.process.serve_all`, the code ``ocx up`` runs for one landlord). They share the
interpreter and the imported code, nothing else: no landlord reads another's state.

**Seeding.** Each landlord's fleet is written through the compute domain layer in the process
that serves it (:meth:`ocx.compute.servers.Servers.seed`: placed, counted, one
``executemany`` in one transaction per landlord, ACTIVE at once), not through the API, once
the customer's project exists there (a first server created through the proxy tells its id).

**Levels.** The landlords come in steps (10, 30, 100, up to ``--landlords``); at each step the
new ones are started, wired to ``l000``, given an image (through the proxy) and seeded, and
the proxy's cost is measured at low concurrency: a list page and a show through the proxy
against the same calls straight at ``l000``'s compute, in the same minute.

**The load** (at the last step): ``--concurrency`` clients for ``--seconds``, each a closed
loop of calls through the proxy, drawn by weight: ``list`` (``GET /servers/detail?limit=20``,
Horizon's page, or the page after one seen), ``show`` (a server seen in a listing or made),
``find`` (a seeded server the proxy has never seen: it asks every landlord), ``create`` (one
server at a landlord drawn at random, ``--availability-zone``), ``delete`` (one made here).
**Attach** is fair only at the scale of the volume landlords: every attach starts an NBD
export (an nbdkit process) at the volume's landlord, so ``--attach-clients`` (default 4 per
volume landlord) of the clients each own one volume and loop: attach it to a seeded server
at a landlord drawn at random (so across landlords), detach it, wait until it is available.

Printed: failures by kind (goal 0; a listing missing a landlord counts), p50/p99 per call
type, the resident memory of every process summed by role (client, proxy, landlord hosts,
nbdkit) and their CPU during the load, and the proxy's cost at each step, with the load
average. The issue's goal (#14): 100 landlords x 10,000 servers, 1,000 concurrent calls,
zero failures, on this 2-core machine.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if __package__ in (None, ""):
    sys.path[:0] = [str(REPO), str(REPO / "src")]

from bench import harness  # noqa: E402
from bench.load import cpu_seconds, percentile  # noqa: E402

HOME = "l000"
VERSION = {"OpenStack-API-Version": "compute 2.100"}
PAGE = 20  # Horizon's page size
# A client gives a call the proxy's patience (``--patience``: how long a call may queue in
# the proxy, its read_timeout) and this much more before it counts the call timed out.
CLIENT_MARGIN = 60.0
WEIGHTS = {"list": 20, "show": 35, "find": 5, "create": 20, "delete": 20}
IMAGE_BYTES = b"\0" * 4096
SETUP_CALLS = 8  # landlords made ready at once (image, volumes, first server)


def names(count: int) -> list[str]:
    return [f"l{i:03d}" for i in range(count)]


def topology(count: int, servers: int, volumes: int, patience: float = 60.0) -> Any:
    """The landlords, with room and quotas for each one's fleet (and what the load makes)."""
    room = servers + 10_000
    compute = {
        "hosts": [{"name": "big", "vcpus": room, "ram_mb": 512 * room, "disk_gb": room}],
        "quotas": {"instances": room, "cores": room, "ram": 512 * room},
    }
    landlords: dict[str, dict[str, Any]] = {}
    for index, name in enumerate(names(count)):
        parts = ["identity", "compute", "image"] + (["volume"] if 1 <= index <= volumes else [])
        landlords[name] = {"parts": parts, "options": {"compute": compute}}
        if name == HOME:
            landlords[name].update(parts=[*parts, "proxy"], demo_users=["alice"])
            landlords[name]["options"] = {**landlords[name]["options"],
                                          "proxy": {"read_timeout": patience}}  # fmt: skip
        else:
            landlords[name]["trusts"] = [HOME]
    return harness.topology(landlords)


# --- the landlords' processes -----------------------------------------------------------------


def host() -> None:
    """A child: the parts its specs name, until stdin closes; seeds on request (JSON lines)."""
    import logging
    import threading

    from ocx.common import serving
    from ocx.process import Spec, Started, serve_all

    logging.basicConfig(level=logging.WARNING, filename=sys.argv[sys.argv.index("--host") + 1])
    serving.raise_open_file_limit()
    specs = [Spec.model_validate(s) for s in json.loads(sys.stdin.readline())]

    async def ready(started: list[Started]) -> None:
        loop = asyncio.get_running_loop()
        computes = {spec.landlord: part for spec, name, part in started if name == "compute"}
        print(json.dumps({"pid": os.getpid()}), flush=True)

        def commands() -> None:
            for line in sys.stdin:
                work = seed(computes, json.loads(line))
                answer = asyncio.run_coroutine_threadsafe(work, loop).result()
                print(json.dumps(answer), flush=True)
            os.kill(os.getpid(), 15)  # stdin closed: stop serving (SIGTERM)

        threading.Thread(target=commands, daemon=True).start()

    asyncio.run(serve_all(specs, ready))


async def seed(computes: dict[str, Any], order: dict[str, Any]) -> dict[str, Any]:
    """Each named landlord's fleet through its compute's domain layer; a sample of ids."""
    from ocx.common.auth import Principal
    from ocx.compute.boot import BootRequest

    sample: dict[str, list[str]] = {}
    started = time.perf_counter()
    for landlord, owner in order["landlords"].items():
        who = Principal(
            user_id=owner["user"], user_name="alice", user_domain_id="", roles=("member",),
            methods=("mapped",), audit_id="", audit_chain_id="", issued_at=0.0,
            expires_at=float("inf"), project_id=owner["project"],
        )  # fmt: skip
        req = BootRequest(name="fleet", flavor_ref="1", image_ref=owner["image"], networks="none")
        ids = await computes[landlord].service.servers.seed(who, req, order["count"])
        sample[landlord] = random.sample(ids, min(order["sample"], len(ids)))
    return {"sample": sample, "seconds": time.perf_counter() - started}


@dataclass
class Host:
    """One landlord process as this process sees it: its pipes and pid."""

    proc: subprocess.Popen[str]
    landlords: list[str]
    pid: int = 0

    def send(self, doc: Any) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(doc) + "\n")
        self.proc.stdin.flush()

    def receive(self) -> Any:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the process of {', '.join(self.landlords)} ended")
        return json.loads(line)


class Fleet:
    """Every landlord's sockets bound here; their processes started step by step."""

    def __init__(
        self, root: Path, count: int, servers: int, volumes: int, per_process: int,
        patience: float = 60.0,
    ) -> None:  # fmt: skip
        from ocx import runner

        self.root = root
        self.per_process = per_process
        self.patience = patience
        self.topology = topology(count, servers, volumes, patience)
        self.landlords = runner.landlords(self.topology, root, None)
        self.sockets = runner.bind_all(self.topology, self.landlords)
        self.hosts: list[Host] = []
        self.proxy: Host | None = None

    def start(self, new: list[str]) -> None:
        """Processes for the ``new`` landlords (and the proxy, first), until all serve."""
        started = []
        if self.proxy is None:
            self.proxy = self._spawn([(HOME, ["proxy"])], "proxy")
            started.append(self.proxy)
        for at in range(0, len(new), self.per_process):
            group = new[at : at + self.per_process]
            parts = [(n, [p for p in self.landlords[n].config.parts if p != "proxy"])
                     for n in group]  # fmt: skip
            self.hosts.append(self._spawn(parts, f"host-{len(self.hosts)}"))
            started.append(self.hosts[-1])
        for each in started:
            each.pid = each.receive()["pid"]

    def _spawn(self, parts: list[tuple[str, list[str]]], name: str) -> Host:
        from ocx.process import Spec

        specs, fds = [], []
        for landlord_name, mine in parts:
            landlord = self.landlords[landlord_name]
            sockets = {p: self.sockets[(landlord_name, p)].fileno() for p in mine}
            fds += sockets.values()
            spec = Spec(
                topology=self.topology, landlord=landlord_name, data_dir=landlord.data_dir,
                admin_password=landlord.admin_password,
                demo_passwords=landlord.demo_passwords, base_urls=landlord.base_urls,
                peers=landlord.peers, sockets=sockets,
            )  # fmt: skip
            specs.append(spec.model_dump(mode="json"))
        log = self.root / f"{name}.log"
        proc = subprocess.Popen(
            [sys.executable, __file__, "--host", str(log)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, pass_fds=fds,
            env={**os.environ, "PYTHONPATH": f"{REPO}:{REPO / 'src'}"},
        )  # fmt: skip
        found = Host(proc, [n for n, _ in parts])
        found.send(specs)
        return found

    def seed(self, owners: dict[str, dict[str, str]], count: int, sample: int) -> dict[str, Any]:
        """Every landlord of ``owners`` seeded by its own process, all processes at once."""
        busy = []
        for each in self.hosts:
            mine = {n: owners[n] for n in each.landlords if n in owners}
            if mine:
                each.send({"landlords": mine, "count": count, "sample": sample})
                busy.append(each)
        answers = [each.receive() for each in busy]
        ids = {n: i for a in answers for n, i in a["sample"].items()}
        return {"sample": ids, "seconds": max(a["seconds"] for a in answers)}

    def url(self, landlord: str, part: str) -> str:
        return self.landlords[landlord].base_urls[part]

    def stop(self) -> None:
        every = [h for h in [self.proxy, *self.hosts] if h is not None]
        for each in every:
            assert each.proc.stdin is not None
            each.proc.stdin.close()
        for each in every:
            try:
                each.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                each.proc.kill()
        for sock in self.sockets.values():
            sock.close()


# --- memory and CPU of every process ----------------------------------------------------------


def rss_bytes(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def processes(fleet: Fleet) -> dict[str, list[int]]:
    """The pids of each role: this client, the proxy, the landlord hosts, their nbdkits."""
    assert fleet.proxy is not None
    hosts = [h.pid for h in fleet.hosts]
    return {
        "client": [os.getpid()],
        "proxy": [fleet.proxy.pid],
        "landlords": hosts,
        "nbdkit": [c for pid in hosts for c in children(pid)],
    }


def memory(fleet: Fleet) -> dict[str, dict[str, float]]:
    out = {}
    for role, pids in processes(fleet).items():
        sizes = [rss_bytes(pid) for pid in pids]
        out[role] = {"processes": len(pids), "rss_mib": sum(sizes) / 2**20,
                     "largest_mib": max(sizes, default=0) / 2**20}  # fmt: skip
    return out


def cpu(fleet: Fleet) -> dict[str, float]:
    return {role: sum(cpu_seconds(p) for p in pids) for role, pids in processes(fleet).items()}


# --- the customer's calls ---------------------------------------------------------------------


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: collections.defaultdict(list))
    failures: collections.Counter[str] = field(default_factory=collections.Counter)
    samples: dict[str, str] = field(default_factory=dict)

    def fail(self, kind: str, detail: str) -> None:
        self.failures[kind] += 1
        self.samples.setdefault(kind, detail[:300])


class Customer:
    """Alice's calls through the proxy (aiohttp, one pool), and what she has seen so far."""

    def __init__(self, fleet: Fleet, concurrency: int):
        import aiohttp

        self.fleet = fleet
        proxy = fleet.url(HOME, "proxy")
        self.compute = proxy + "/compute/v2.1"
        self.volume = proxy + "/volume/v3"
        self.image = proxy + "/image"
        self.direct = fleet.url(HOME, "compute") + "/v2.1"
        # Idle connections are dropped before the proxy closes them (keep_alive_timeout, 5 s):
        # one reused as the proxy closes it was a "Server disconnected" failure.
        connector = aiohttp.TCPConnector(limit=concurrency + 10, keepalive_timeout=2.0)
        timeout = aiohttp.ClientTimeout(total=fleet.patience + CLIENT_MARGIN)
        self.http = aiohttp.ClientSession(connector=connector, timeout=timeout)
        self.token = ""
        self.image_id = ""  # at home; the proxy boots each landlord's copy alike
        self.landlords: list[str] = []
        self.seen: list[str] = []  # servers listed or made: routed by the proxy's cache
        self.made: collections.deque[str] = collections.deque()
        self.fleet_ids: dict[str, list[str]] = {}  # a sample of each landlord's fleet
        self.unseen: list[str] = []
        self.pages: list[str] = []  # next links seen
        self.volumes: list[str] = []

    async def login(self) -> None:
        landlord = self.fleet.landlords[HOME]
        body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": "alice", "domain": {"id": "default"},
            "password": landlord.demo_passwords["alice"]}}}}}  # fmt: skip
        async with self.http.post(landlord.auth_url + "/auth/tokens", json=body) as resp:
            assert resp.status == 201, await resp.text()
            self.token = resp.headers["X-Subject-Token"]

    def headers(self) -> dict[str, str]:
        return {"X-Auth-Token": self.token, **VERSION}

    async def call(
        self, method: str, url: str, body: Any = None, expect: int = 200, data: bytes | None = None
    ) -> tuple[int, Any, Any]:
        headers = self.headers()
        if data is not None:
            headers["Content-Type"] = "application/octet-stream"
        async with self.http.request(method, url, json=body, data=data, headers=headers) as resp:
            text = await resp.read()
            if resp.status != expect:
                raise Failed(f"{resp.status}", text.decode("utf-8", "replace"))
            doc = json.loads(text) if text and "json" in resp.content_type else None
            return resp.status, doc, resp.headers

    async def add(self, landlords: list[str], volumes: int) -> dict[str, dict[str, str]]:
        """The new landlords made ready: an image, volumes, a first server (whose project and
        user there it tells); the owners for seeding."""
        await self.login()  # a new token lists the new service providers
        self.landlords += landlords
        owners = {}
        if HOME in landlords:  # its image is the one every create names
            owners[HOME] = await self._ready(HOME, volumes)
        others = [n for n in landlords if n != HOME]
        gate = asyncio.Semaphore(SETUP_CALLS)

        async def ready(landlord: str) -> dict[str, str]:
            async with gate:
                for attempt in range(3):  # the setup is not measured: a 503 is tried again
                    try:
                        return await self._ready(landlord, volumes)
                    except Failed as exc:
                        if exc.kind != "503" or attempt == 2:
                            raise
                        print(f"setup of {landlord}: {exc}; again", file=sys.stderr)
                        await asyncio.sleep(6)  # past the proxy's unreachable_ttl
                raise AssertionError("unreachable")

        found = await asyncio.gather(*(ready(n) for n in others))
        return {**owners, **dict(zip(others, found, strict=True))}

    async def _ready(self, landlord: str, volumes: int) -> dict[str, str]:
        body = {"name": f"scale@{landlord}", "disk_format": "raw", "container_format": "bare"}
        _, made, _ = await self.call("POST", self.image + "/v2/images", body, 201)
        image = str(made["id"])
        await self.call("PUT", f"{self.image}/v2/images/{image}/file", expect=204,
                        data=IMAGE_BYTES)  # fmt: skip
        if landlord == HOME:
            self.image_id = image
        if "volume" in self.fleet.landlords[landlord].config.parts:
            for index in range(volumes):
                doc = {"volume": {"size": 1, "name": f"v{index}", "availability_zone": landlord}}
                _, made, _ = await self.call("POST", self.volume + "/volumes", doc, 202)
                self.volumes.append(str(made["volume"]["id"]))
        server = await self.create(landlord)
        _, shown, _ = await self.call("GET", f"{self.compute}/servers/{server}")
        owner = shown["server"]
        return {"project": owner["tenant_id"], "user": owner["user_id"], "image": image}

    async def create(self, landlord: str) -> str:
        body = {"server": {"name": "made", "imageRef": self.image_id, "flavorRef": "1",
                           "networks": "none", "availability_zone": landlord}}  # fmt: skip
        _, doc, _ = await self.call("POST", self.compute + "/servers", body, 202)
        server = str(doc["server"]["id"])
        self.made.append(server)
        return server

    async def list_page(self, base: str, next_page: bool) -> None:
        url = f"{base}/servers/detail?limit={PAGE}"
        if next_page and self.pages and base == self.compute:
            url = random.choice(self.pages)
        _, doc, headers = await self.call("GET", url)
        missing = headers.get("X-OCX-Missing-Landlords")
        if missing:
            raise Failed("partial", missing)
        servers = doc["servers"]
        if len(servers) != PAGE:
            raise Failed("short page", f"{len(servers)} servers")
        # The fleet's servers only: those made here may be deleted by another client.
        self.seen += [s["id"] for s in servers if s["name"].startswith("fleet-")]
        links = [x["href"] for x in doc.get("servers_links", []) if x["rel"] == "next"]
        if base == self.compute and links and len(self.pages) < 10_000:
            self.pages.append(links[0])

    async def show(self, base: str, server: str) -> None:
        await self.call("GET", f"{base}/servers/{server}")

    async def one(self, kind: str) -> None:
        if kind == "list":
            await self.list_page(self.compute, random.random() < 0.3)
        elif kind == "show":
            await self.show(self.compute, random.choice(self.seen))
        elif kind == "find":
            await self.show(self.compute, self.unseen.pop())
        elif kind == "create":
            await self.create(random.choice(self.landlords))
        elif kind == "delete":
            server = self.made.popleft()
            await self.call("DELETE", f"{self.compute}/servers/{server}", expect=204)

    async def attach_cycle(self, volume: str, tally: Tally) -> None:
        """Attach ``volume`` to a seeded server somewhere, detach it, wait until it is free."""
        landlord = random.choice(self.landlords)
        server = random.choice(self.fleet_ids[landlord])
        body = {"volumeAttachment": {"volumeId": volume}}
        attachments = f"{self.compute}/servers/{server}/os-volume_attachments"
        if not await timed(tally, "attach", self.call("POST", attachments, body)):
            await self.until_available(volume)
            return
        await timed(tally, "detach", self.call("DELETE", f"{attachments}/{volume}", expect=202))
        await self.until_available(volume)

    async def until_available(self, volume: str) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            _, doc, _ = await self.call("GET", f"{self.volume}/volumes/{volume}")
            if doc["volume"]["status"] == "available":
                return
            await asyncio.sleep(0.2)
        raise Failed("stuck", f"volume {volume} not available 60 s after its detach")

    async def aclose(self) -> None:
        await self.http.close()


class Failed(Exception):
    def __init__(self, kind: str, detail: str):
        super().__init__(f"{kind}: {detail[:300]}")
        self.kind, self.detail = kind, detail


async def timed(tally: Tally, kind: str, work: Any) -> bool:
    started = time.perf_counter()
    try:
        await work
    except Failed as exc:
        tally.fail(f"{kind}: {exc.kind}", exc.detail)
        return False
    except TimeoutError:
        tally.fail(f"{kind}: timeout", "no answer within the client's timeout")
        return False
    except Exception as exc:  # the connection: refused, reset, cut
        tally.fail(f"{kind}: {type(exc).__name__}", str(exc))
        return False
    tally.latencies[kind].append(time.perf_counter() - started)
    return True


def draw(c: Customer) -> str:
    kinds, weights = zip(*WEIGHTS.items(), strict=True)
    kind = random.choices(kinds, weights)[0]
    if kind == "delete" and len(c.made) < 10:
        return "create"
    if kind == "find" and not c.unseen:
        return "show"
    return kind


async def load(c: Customer, concurrency: int, seconds: float, attachers: int) -> Tally:
    tally = Tally()
    until = time.monotonic() + seconds

    async def client() -> None:
        while time.monotonic() < until:
            kind = draw(c)
            await timed(tally, kind, c.one(kind))

    async def attacher(volume: str) -> None:
        while time.monotonic() < until:
            try:
                await c.attach_cycle(volume, tally)
            except Failed as exc:
                tally.fail(f"attach: {exc.kind}", exc.detail)
            except Exception as exc:  # waiting for the volume: a timeout, a broken connection
                tally.fail(f"attach: {type(exc).__name__}", str(exc))

    volumes = c.volumes[:attachers]
    await asyncio.gather(*(client() for _ in range(concurrency - len(volumes))),
                         *(attacher(v) for v in volumes))  # fmt: skip
    return tally


async def cost(c: Customer, seconds: float, concurrency: int = 10) -> dict[str, Any]:
    """A list page and a show through the proxy (a server it listed, and one it has never
    seen: ``find``) and straight at home (one of home's), ``concurrency`` clients each."""
    home = c.fleet_ids[HOME]

    async def proxied() -> None:
        if await timed(tally, "list", c.list_page(c.compute, False)):
            await timed(tally, "show", c.show(c.compute, random.choice(c.seen)))
        if c.unseen:
            await timed(tally, "find", c.show(c.compute, c.unseen.pop()))

    async def direct() -> None:
        await timed(tally, "list", c.list_page(c.direct, False))
        await timed(tally, "show", c.show(c.direct, random.choice(home)))

    out = {}
    for path, step in (("proxied", proxied), ("direct", direct)):
        tally = Tally()
        until = time.monotonic() + seconds

        async def client(step: Any = step, until: float = until) -> None:
            while time.monotonic() < until:
                await step()

        await asyncio.gather(*(client() for _ in range(concurrency)))
        out[path] = summary(tally)
    return out


async def warm(c: Customer) -> float:
    """Seconds until a listing over every landlord is whole: the token's first use at the
    new landlords federates with each (not part of the cost measured after it)."""
    started = time.perf_counter()
    while time.perf_counter() - started < 300:
        if await timed(Tally(), "list", c.list_page(c.compute, False)):
            return time.perf_counter() - started
    raise RuntimeError("no whole listing over every landlord within 300 s")


def summary(tally: Tally) -> dict[str, Any]:
    calls = {
        kind: {"count": len(v), "p50_ms": 1000 * percentile(v, 50),
               "p99_ms": 1000 * percentile(v, 99)}
        for kind, v in sorted(tally.latencies.items()) if v
    }  # fmt: skip
    return {"calls": calls, "failures": dict(tally.failures), "samples": tally.samples}


# --- the run ----------------------------------------------------------------------------------


def steps(landlords: int) -> list[int]:
    return [n for n in (10, 30) if n < landlords] + [landlords]


async def run(fleet: Fleet, args: argparse.Namespace) -> dict[str, Any]:
    c = Customer(fleet, max(args.concurrency))
    result: dict[str, Any] = {"config": vars(args), "steps": [], "cpus": os.cpu_count()}
    try:
        done = 0
        for step in steps(args.landlords):
            new = names(step)[done:]
            started = time.perf_counter()
            fleet.start(new)
            wiring = {n: fleet.landlords[n] for n in {HOME, *new}}
            from ocx import runner

            await runner.wire(wiring)
            owners = await c.add(new, args.volumes_each)
            ready = time.perf_counter() - started
            seeded = await asyncio.to_thread(
                fleet.seed, owners, args.servers_per_landlord, args.sample
            )
            c.fleet_ids.update(seeded["sample"])
            c.unseen = [i for n in c.landlords for i in c.fleet_ids[n]]
            random.shuffle(c.unseen)
            first = await warm(c)
            figures = await cost(c, args.cost_seconds)
            result["steps"].append({
                "landlords": step, "servers": step * args.servers_per_landlord,
                "start_s": ready, "seed_s": seeded["seconds"], "first_list_s": first,
                "cost": figures,
                "load_average": os.getloadavg(), "memory": memory(fleet),
            })  # fmt: skip
            done = step
        result["loads"] = []
        for concurrency in args.concurrency:
            before, clock = cpu(fleet), time.perf_counter()
            tally = await load(c, concurrency, args.seconds, args.attachers)
            elapsed = time.perf_counter() - clock
            spent = {role: s - before.get(role, 0.0) for role, s in cpu(fleet).items()}
            calls = sum(len(v) for v in tally.latencies.values())
            result["loads"].append({
                **summary(tally), "concurrency": concurrency, "seconds": elapsed,
                "calls_per_s": calls / elapsed, "cpu_s": spent, "memory": memory(fleet),
                "load_average": os.getloadavg(),
            })  # fmt: skip
    finally:
        await c.aclose()
    return result


def report(r: dict[str, Any]) -> None:
    cfg = r["config"]
    print(f"scale: {cfg['landlords']} landlords x {cfg['servers_per_landlord']:,} servers behind "
          f"one proxy; {cfg['per_process']} landlords per process; {r['cpus']} CPUs")  # fmt: skip
    print("proxy cost by number of landlords (10 clients, list page of "
          f"{PAGE} and show; p50/p99 ms, proxied vs straight at one landlord):")  # fmt: skip
    for s in r["steps"]:
        load = ", ".join(f"{x:.1f}" for x in s["load_average"])
        p, d = s["cost"]["proxied"]["calls"], s["cost"]["direct"]["calls"]
        line = f"  {s['landlords']:4d} landlords ({s['servers']:,} servers): "
        for kind in ("list", "show"):
            if kind in p and kind in d:
                line += (f"{kind} {p[kind]['p50_ms']:.1f}/{p[kind]['p99_ms']:.1f} vs "
                         f"{d[kind]['p50_ms']:.1f}/{d[kind]['p99_ms']:.1f} "
                         f"({p[kind]['p50_ms'] / d[kind]['p50_ms']:.1f}x); ")  # fmt: skip
        if "find" in p:
            line += f"find {p['find']['p50_ms']:.1f}/{p['find']['p99_ms']:.1f}; "
        fails = sum(s["cost"]["proxied"]["failures"].values())
        print(line + f"failures {fails}; started {s['start_s']:.0f} s, seeded "
              f"{s['seed_s']:.1f} s, first whole listing {s['first_list_s']:.1f} s; "
              f"load average {load}")  # fmt: skip
    for ld in r["loads"]:
        report_load(ld)


def report_load(ld: dict[str, Any]) -> None:
    load = ", ".join(f"{x:.1f}" for x in ld["load_average"])
    print(f"load: {ld['concurrency']} concurrent calls for {ld['seconds']:.0f} s, "
          f"{ld['calls_per_s']:.0f} calls/s (load average {load})")  # fmt: skip
    for kind, f in ld["calls"].items():
        print(f"  {kind:7} {f['count']:7d} calls  p50 {f['p50_ms']:8.1f} ms  "
              f"p99 {f['p99_ms']:8.1f} ms")  # fmt: skip
    total = sum(ld["failures"].values())
    print(f"  failures: {total} (goal 0)")
    for kind, n in sorted(ld["failures"].items()):
        print(f"    {kind}: {n}  e.g. {ld['samples'][kind]!r}")
    print("  memory (RSS) and CPU during the load, by role:")
    for role, m in ld["memory"].items():
        spent = ld["cpu_s"].get(role, 0.0)
        print(f"    {role:9} {m['processes']:3d} processes  {m['rss_mib']:8.0f} MiB "
              f"(largest {m['largest_mib']:.0f})  CPU {spent:.1f} s")  # fmt: skip


def levels(text: str) -> list[int]:
    return sorted(int(n) for n in text.split(","))


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--landlords", type=int, default=100)
    parser.add_argument("--servers-per-landlord", type=int, default=10_000)
    parser.add_argument("--concurrency", type=levels, default=[1000],
                        help="concurrent calls; several (10,100,1000): a run each")  # fmt: skip
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--per-process", type=int, default=10)
    parser.add_argument("--volume-landlords", type=int, default=2)
    parser.add_argument("--volumes-each", type=int, default=4, help=argparse.SUPPRESS)
    parser.add_argument("--attachers", type=int, default=None)
    parser.add_argument("--cost-seconds", type=float, default=5.0)
    parser.add_argument("--patience", type=float, default=60.0,
                        help="seconds a call may queue in the proxy (its read_timeout); the "
                        f"client waits {CLIENT_MARGIN:.0f} s more")  # fmt: skip
    parser.add_argument("--sample", type=int, default=200, help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true",
                        help="6 landlords x 1,000 servers, 50 calls for 10 s")  # fmt: skip
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--logs", help="a directory to copy the processes' logs to")
    args = parser.parse_args()
    if args.quick:
        args.landlords, args.servers_per_landlord = 6, 1000
        args.concurrency, args.seconds, args.per_process, args.cost_seconds = [50], 10.0, 3, 2.0
    args.volume_landlords = min(args.volume_landlords, args.landlords - 1)
    if args.attachers is None:
        args.attachers = args.volume_landlords * args.volumes_each
    return args


def main() -> None:
    if "--host" in sys.argv:
        host()
        return
    args = parse()
    with tempfile.TemporaryDirectory(prefix="ocx-bench-scale-") as tmp:
        fleet = Fleet(Path(tmp), args.landlords, args.servers_per_landlord,
                      args.volume_landlords, args.per_process, args.patience)  # fmt: skip
        try:
            result = asyncio.run(run(fleet, args))
        finally:
            fleet.stop()
            if args.logs:  # the processes' logs (warnings up), kept past the data directory
                Path(args.logs).mkdir(parents=True, exist_ok=True)
                for log in Path(tmp).glob("*.log"):
                    shutil.copy(log, args.logs)
    print(json.dumps(result, indent=2)) if args.json else report(result)


if __name__ == "__main__":
    main()
