"""Identity benchmark: OCX's identity against a real Keystone, both measured in this run.

    .venv/bin/python bench/identity.py [--seconds N] [--concurrency C] [--json]

For each peer, on loopback only:

- issue: project-scoped password ``POST /v3/auth/tokens``, C requests in flight on one
  pooled httpx client;
- validate (HTTP): ``GET /v3/auth/tokens`` with a service token in ``X-Auth-Token`` and
  the user's in ``X-Subject-Token``, what keystonemiddleware does on a cache miss; from two
  client processes of plain http.client keep-alive connections (C of them in all), as
  one httpx client in this process was measured to be the limit at about 90/s;
- validate (as a service does it): for Keystone that is the same HTTP call; for OCX it is
  ``ocx.common.auth.TokenVerifier.verify`` in this process (signature against the cached
  JWKS, expiry, issuer, audience, cached revocation list), no HTTP per token.

Issues are compared at equal password-hash cost: Keystone runs bcrypt at low rounds, and
OCX's Argon2id memory is calibrated until one verify costs what Keystone's does; both
costs are measured with each server's own hashing code and printed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
if __package__ in (None, ""):  # run as a script: make `bench` (and `ocx`) importable
    sys.path[:0] = [str(REPO), str(REPO / "src")]

from bench.peers.keystone import (  # noqa: E402
    KEYSTONE_VERSION,
    KeystonePeer,
    password_auth,
    running_keystone,
)

OCX_LANDLORD = "bench"
OCX_STARTUP_TIMEOUT = 60.0
OCX_COMMAND = [sys.executable, "-c", "from ocx.cli import main; main()"]  # `ocx`, this venv


@dataclass
class Rate:
    ok: int
    errors: int
    seconds: float
    first_error: str = ""

    @property
    def per_second(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0


@dataclass
class PeerResult:
    name: str
    issue: Rate
    validate_http: Rate
    validate_service: Rate
    hash_cost: dict[str, Any]
    startup_seconds: float
    notes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- load generation


async def http_rate(
    request: Callable[[], Awaitable[httpx.Response]],
    expected: int,
    seconds: float,
    concurrency: int,
) -> Rate:
    """Keep ``concurrency`` requests in flight for ``seconds``; count the expected answers."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    rate = Rate(0, 0, 0.0)

    async def worker() -> None:
        while loop.time() < deadline:
            try:
                response = await request()
                status, text = response.status_code, response.text[:200]
            except httpx.HTTPError as exc:
                status, text = 0, repr(exc)
            if status == expected:
                rate.ok += 1
            else:
                rate.errors += 1
                rate.first_error = rate.first_error or f"{status}: {text}"

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    rate.seconds = time.perf_counter() - started
    return rate


def _validate_loop(args: tuple[str, dict[str, str], float, int]) -> tuple[int, int, str]:
    """One client process: ``threads`` keep-alive http.client connections validating until
    the deadline (a wall-clock time); (answers 200, other answers, the first of those)."""
    import http.client
    import threading
    from urllib.parse import urlsplit

    url, headers, deadline, threads = args
    parts = urlsplit(url)
    counts = [0, 0]
    first = [""]

    def run() -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        while time.time() < deadline:
            conn.request("GET", parts.path + "/auth/tokens", headers=headers)
            resp = conn.getresponse()
            body = resp.read()
            counts[resp.status != 200] += 1
            if resp.status != 200 and not first[0]:
                first[0] = f"{resp.status}: {body[:200]!r}"
        conn.close()

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return counts[0], counts[1], first[0]


def validate_rate(url: str, headers: dict[str, str], seconds: float, concurrency: int) -> Rate:
    """HTTP validations per second from two client processes (``concurrency`` connections in
    all), so that the client's own Python is not what is measured."""
    import concurrent.futures
    import multiprocessing

    processes = 2
    deadline = time.time() + 1.0 + seconds  # a second for the processes to start
    job = (url, headers, deadline, max(1, concurrency // processes))
    context = multiprocessing.get_context("fork")
    with concurrent.futures.ProcessPoolExecutor(processes, mp_context=context) as pool:
        started = time.perf_counter()
        results = list(pool.map(_validate_loop, [job] * processes))
    rate = Rate(0, 0, time.perf_counter() - started - 1.0)
    for ok, bad, first in results:
        rate.ok, rate.errors = rate.ok + ok, rate.errors + bad
        rate.first_error = rate.first_error or first
    return rate


async def local_rate(call: Callable[[], Awaitable[object]], seconds: float) -> Rate:
    """Call ``call`` back to back for ``seconds`` (it is CPU work: no point in concurrency)."""
    rate = Rate(0, 0, 0.0)
    started = time.perf_counter()
    deadline = started + seconds
    while time.perf_counter() < deadline:
        try:
            await call()
            rate.ok += 1
        except Exception as exc:
            rate.errors += 1
            rate.first_error = rate.first_error or repr(exc)
    rate.seconds = time.perf_counter() - started
    return rate


def pooled_client(concurrency: int) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    return httpx.AsyncClient(limits=limits, timeout=30.0)


async def issue_token(client: httpx.AsyncClient, url: str, body: dict[str, Any]) -> str:
    response = await client.post(url + "/auth/tokens", json=body)
    if response.status_code != 201:
        raise RuntimeError(f"token issue failed: {response.status_code} {response.text[:300]}")
    return response.headers["x-subject-token"]


@dataclass(frozen=True)
class Endpoint:
    """What the HTTP measurements need from a peer."""

    url: str  # the v3 base
    auth_body: dict[str, Any]


async def measure_http(endpoint: Endpoint, args: argparse.Namespace) -> tuple[Rate, Rate, str]:
    """Issue and HTTP-validate rates; also returns one user token for local checks."""
    async with pooled_client(args.concurrency) as client:
        # The "service" is a second admin token: admin passes Keystone's validate_token policy.
        service_token = await issue_token(client, endpoint.url, endpoint.auth_body)
        user_token = await issue_token(client, endpoint.url, endpoint.auth_body)
        headers = {"X-Auth-Token": service_token, "X-Subject-Token": user_token}

        def issue() -> Awaitable[httpx.Response]:
            return client.post(endpoint.url + "/auth/tokens", json=endpoint.auth_body)

        def validate() -> Awaitable[httpx.Response]:
            return client.get(endpoint.url + "/auth/tokens", headers=headers)

        await http_rate(issue, 201, args.warmup, args.concurrency)
        issued = await http_rate(issue, 201, args.seconds, args.concurrency)
        await http_rate(validate, 200, args.warmup, args.concurrency)
        validated = await asyncio.to_thread(
            validate_rate, endpoint.url, headers, args.seconds, args.concurrency
        )
    return issued, validated, user_token


# ---------------------------------------------------------------- Keystone


def measure_keystone(workdir: Path, args: argparse.Namespace) -> PeerResult:
    with running_keystone(
        workdir,
        password_hash_algorithm="bcrypt",
        password_hash_rounds=args.bcrypt_rounds,
        workers=args.keystone_workers,
        threads=args.keystone_threads,
        cache=args.keystone_cache == "on",
    ) as keystone:
        startup = keystone.startup_seconds
        print(
            f"keystone up in {startup['total']:.1f}s (setup {startup['setup']:.1f}s, "
            f"gunicorn {startup['serve']:.1f}s) at {keystone.url}",
            file=sys.stderr,
        )
        cost = keystone.hash_cost()
        issued, validated, _ = asyncio.run(measure_http(_keystone_endpoint(keystone), args))
    gunicorn = f"{args.keystone_workers} worker(s) x {args.keystone_threads} thread(s)"
    return PeerResult(
        name="keystone",
        issue=issued,
        validate_http=validated,
        validate_service=validated,  # keystonemiddleware asks Keystone on each cache miss
        hash_cost=cost,
        startup_seconds=startup["total"],
        notes=[
            f"Keystone {KEYSTONE_VERSION}, fernet tokens, SQLite, gunicorn {gunicorn}, "
            f"cache {args.keystone_cache} (oslo_cache.dict)",
        ],
    )


def _keystone_endpoint(keystone: KeystonePeer) -> Endpoint:
    return Endpoint(keystone.url, keystone.password_auth())


# ---------------------------------------------------------------- OCX


@dataclass(frozen=True)
class OcxPeer:
    url: str  # the v3 base
    issuer: str
    audience: str
    admin_user: str
    admin_password: str
    admin_project: str
    startup_seconds: float


def argon2_cost(memory_kib: int, samples: int = 20) -> dict[str, Any]:
    """OCX's own Hasher (Argon2id, t=1, p=1) timed at ``memory_kib``."""
    from ocx.identity.passwords import HashCost, Hasher

    hasher = Hasher(HashCost(time_cost=1, memory_kib=memory_kib, parallelism=1))
    secret = "correct horse battery"
    hashed = hasher.hash_now(secret)
    return {
        "algorithm": "argon2id",
        "time_cost": 1,
        "memory_kib": memory_kib,
        "parallelism": 1,
        "hash_ms": _median_ms(lambda: hasher.hash_now(secret), samples),
        "verify_ms": _median_ms(lambda: hasher.verify_now(hashed, secret), samples),
    }


def calibrate_argon2(target_verify_ms: float) -> dict[str, Any]:
    """The Argon2id memory whose verify costs ``target_verify_ms`` (cost is ~linear in it)."""
    memory = 1024
    for _ in range(3):
        cost = argon2_cost(memory)
        memory = max(8, round(memory * target_verify_ms / cost["verify_ms"]))
    return argon2_cost(memory)


def _median_ms(call: Callable[[], object], samples: int) -> float:
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def _write_topology(workdir: Path, memory_kib: int) -> Path:
    path = workdir / "topology.toml"
    path.write_text(
        f"""\
[exchange]
host = "127.0.0.1"
base_port = 0

[exchange.password_hash]
time_cost = 1
memory_kib = {memory_kib}
parallelism = 1

[[landlords]]
name = "{OCX_LANDLORD}"
parts = ["identity"]
"""
    )
    return path


@contextlib.contextmanager
def running_ocx(workdir: Path, memory_kib: int) -> Iterator[OcxPeer]:
    """``ocx up`` with one landlord running identity, in its own process group."""
    started = time.monotonic()
    workdir.mkdir(parents=True, exist_ok=True)
    data_dir = workdir / "data"
    command = [
        *OCX_COMMAND,
        "up",
        "--topology",
        str(_write_topology(workdir, memory_kib)),
        "--data-dir",
        str(data_dir),
        "--log-level",
        "WARNING",
    ]
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    log_path = workdir / "ocx.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            command,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        clouds = _wait_for_clouds(data_dir / "clouds.yaml", process, log_path)
        yield _ocx_peer(clouds, time.monotonic() - started)
    finally:
        _stop_group(process)


def _wait_for_clouds(path: Path, process: subprocess.Popen[bytes], log: Path) -> dict[str, Any]:
    import yaml

    deadline = time.monotonic() + OCX_STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"ocx up exited with {process.returncode}:\n{log.read_text()}")
        if path.exists():  # written atomically once every endpoint answers
            doc: dict[str, Any] = yaml.safe_load(path.read_text())
            return doc
        time.sleep(0.05)
    raise RuntimeError(f"ocx up wrote no {path} in {OCX_STARTUP_TIMEOUT:.0f}s:\n{log.read_text()}")


def _ocx_peer(clouds: dict[str, Any], startup: float) -> OcxPeer:
    auth = clouds["clouds"][OCX_LANDLORD]["auth"]
    url = auth["auth_url"].rstrip("/")
    return OcxPeer(
        url=url,
        issuer=url.removesuffix("/v3"),
        audience=OCX_LANDLORD,
        admin_user=auth["username"],
        admin_password=auth["password"],
        admin_project=auth["project_name"],
        startup_seconds=startup,
    )


def _stop_group(process: subprocess.Popen[bytes]) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(10)
            return


async def measure_local_verify(ocx: OcxPeer, token: str, seconds: float) -> Rate:
    from ocx.common.auth import TokenVerifier

    verifier = TokenVerifier(identity_url=ocx.issuer, issuer=ocx.issuer, audience=ocx.audience)
    try:
        await verifier.verify(token)  # fills the JWKS and revocation caches
        return await local_rate(lambda: verifier.verify(token), seconds)
    finally:
        await verifier.aclose()


def measure_ocx(workdir: Path, args: argparse.Namespace, target_verify_ms: float) -> PeerResult:
    cost = (
        argon2_cost(args.argon2_memory_kib)
        if args.argon2_memory_kib
        else calibrate_argon2(target_verify_ms)
    )
    with running_ocx(workdir, cost["memory_kib"]) as ocx:
        print(f"ocx up in {ocx.startup_seconds:.1f}s at {ocx.url}", file=sys.stderr)
        endpoint = Endpoint(
            ocx.url, password_auth(ocx.admin_user, ocx.admin_password, ocx.admin_project)
        )
        issued, validated, token = asyncio.run(measure_http(endpoint, args))
        local = asyncio.run(measure_local_verify(ocx, token, args.seconds))
    return PeerResult(
        name="ocx",
        issue=issued,
        validate_http=validated,
        validate_service=local,  # in-process verification, no HTTP per token
        hash_cost=cost,
        startup_seconds=ocx.startup_seconds,
        notes=["OCX identity via `ocx up` (uvicorn, one process), EdDSA JWS tokens, SQLite"],
    )


# ---------------------------------------------------------------- report


def _ratio(ocx: float, keystone: float) -> str:
    return f"{ocx / keystone:.2f}x" if keystone else "-"


def _hash_text(cost: dict[str, Any]) -> str:
    params = ", ".join(
        f"{k}={v}" for k, v in cost.items() if k not in {"algorithm", "hash_ms", "verify_ms"}
    )
    return (
        f"{cost['algorithm']} ({params}): hash {cost['hash_ms']:.2f} ms, "
        f"verify {cost['verify_ms']:.2f} ms"
    )


def report(keystone: PeerResult, ocx: PeerResult | None, args: argparse.Namespace) -> str:
    lines = [
        f"identity benchmark: {args.seconds:g}s per measurement, {args.concurrency} in flight, "
        "loopback",
        "",
        f"{'measurement':<44} {'keystone':>10} {'ocx':>10} {'ocx/ks':>8}",
    ]
    rows = [
        ("token issue /s (POST, password, project)", "issue"),
        ("token validate /s (HTTP GET /v3/auth/tokens)", "validate_http"),
        ("token validate /s (as a service does it)", "validate_service"),
    ]
    for label, attr in rows:
        ks_rate: Rate = getattr(keystone, attr)
        ocx_rate: Rate | None = getattr(ocx, attr) if ocx else None
        ocx_text = f"{ocx_rate.per_second:10.0f}" if ocx_rate else f"{'-':>10}"
        ratio = _ratio(ocx_rate.per_second, ks_rate.per_second) if ocx_rate else "-"
        lines.append(f"{label:<44} {ks_rate.per_second:10.0f} {ocx_text} {ratio:>8}")
    lines.append(
        f"{'startup s':<44} {keystone.startup_seconds:10.1f} "
        + (f"{ocx.startup_seconds:10.1f}" if ocx else f"{'-':>10}")
    )
    lines += ["", "password-hash cost (each server's own code):"]
    lines.append(f"  keystone: {_hash_text(keystone.hash_cost)}")
    if ocx:
        lines.append(f"  ocx:      {_hash_text(ocx.hash_cost)}")
    lines += ["", "as a service does it: keystone = keystonemiddleware's call on a cache miss;"]
    lines.append("  ocx = TokenVerifier.verify in-process (JWKS + revocation list cached)")
    for peer in (keystone, ocx):
        if peer:
            lines += [f"  {note}" for note in peer.notes]
            lines += _errors(peer)
    return "\n".join(lines)


def _errors(peer: PeerResult) -> list[str]:
    out = []
    for attr in ("issue", "validate_http", "validate_service"):
        rate: Rate = getattr(peer, attr)
        if rate.errors:
            out.append(f"  ! {peer.name} {attr}: {rate.errors} errors, first: {rate.first_error}")
    return out


def _as_json(peer: PeerResult) -> dict[str, Any]:
    doc = asdict(peer)
    for attr in ("issue", "validate_http", "validate_service"):
        doc[attr]["per_second"] = round(getattr(peer, attr).per_second, 1)
    return doc


# ---------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=3.0, help="per measurement")
    parser.add_argument("--warmup", type=float, default=0.5, help="unmeasured, before each")
    parser.add_argument("--concurrency", type=int, default=8, help="HTTP requests in flight")
    parser.add_argument("--bcrypt-rounds", type=int, default=4, help="Keystone's bcrypt cost")
    parser.add_argument(
        "--argon2-memory-kib",
        type=int,
        default=0,
        help="OCX's Argon2id memory (t=1, p=1); default: calibrated to Keystone's verify time",
    )
    parser.add_argument("--keystone-workers", type=int, default=1)
    parser.add_argument("--keystone-threads", type=int, default=1, help=">1: gthread worker")
    parser.add_argument(
        "--keystone-cache",
        choices=("on", "off"),
        default="on",
        help="Keystone's cache (in-process oslo_cache.dict, standing in for the memcached "
        "every production deployment runs; off is ~25x slower)",
    )
    parser.add_argument("--skip-ocx", action="store_true", help="measure Keystone only")
    parser.add_argument("--json", action="store_true", help="also print the results as JSON")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="ocx-bench-identity-") as tmp:
        keystone = measure_keystone(Path(tmp) / "keystone", args)
        ocx = None
        if not args.skip_ocx:
            ocx = measure_ocx(Path(tmp) / "ocx", args, keystone.hash_cost["verify_ms"])
    print(report(keystone, ocx, args))
    if args.json:
        print(json.dumps([_as_json(p) for p in (keystone, ocx) if p], indent=2))
    failed = any(r.errors for p in (keystone, ocx) if p for r in (p.issue, p.validate_http))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
