"""Exchange benchmark, on SQLite and on PostgreSQL, each figure beside a baseline of the same run.

    .venv/bin/python bench/exchange.py [--offerings N] [--records N] [--invoice-records N]
                                       [--seconds S] [--backends sqlite,postgresql]

- offerings: N listed offerings (default 10,000); C clients in flight query the catalogue
  over HTTP (filters by type and capability, sorted by price, a page of 20). Queries/s and
  p99 latency, beside ``GET /healthz`` of the same server (the framework's floor).
- usage: batches of 5,000 records, each batch signed by the landlord's identity (Ed25519),
  POSTed to ``/v1/usage``: the exchange verifies the signature, checks every record, rates
  it at the price in force at its start and inserts it. Records/s (goal ≥ 20,000/s), beside
  a bare bulk INSERT of the same rows (no JSON, no signature, no rating).
- invoice: one customer with N records (default 1,000,000) over three landlords; the time
  of ``GET /v1/invoices/{month}`` (goal < 2 s), beside a bare ``SELECT sum(cost)``.

The catalogue's load generator runs in a process of its own; usage batches are sent one at a
time from the benchmark's process.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import multiprocessing as mp
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
if __package__ in (None, ""):
    sys.path[:0] = [str(REPO), str(REPO / "src")]

from sqlalchemy import delete, func, insert, select  # noqa: E402

from ocx import topology  # noqa: E402
from ocx.exchange import bulk, signing  # noqa: E402
from ocx.exchange.client import LandlordAgent, password_token  # noqa: E402
from ocx.exchange.models import Offering, Price, Subscription, UsageRecord  # noqa: E402
from ocx.exchange.service import ExchangeService  # noqa: E402
from ocx.runner import BackgroundExchange  # noqa: E402

PG_URL = os.environ.get("OCX_TEST_PG_URL", "postgresql://postgres@localhost")
CAPS = ("ssd", "fpga", "attested", "gpu", "nvme", "ipv6")
TYPES = ("object-store", "volume", "compute", "image")
BATCH = 5000
MONTH_START = 1788220800.0  # 2026-09-01 UTC
PERIOD = "2026-09"


def topo() -> topology.Topology:
    return topology.Topology.model_validate(
        {
            "exchange": {
                "base_port": 0,
                "password_hash": {"time_cost": 1, "memory_kib": 1024, "parallelism": 1},
            },
            "landlords": [
                {"name": "stor", "parts": ["identity"]},
                {"name": "market", "parts": ["identity", "exchange"]},
            ],
        }
    )


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


async def load(
    url_for: Callable[[int], str], seconds: float, concurrency: int, headers: dict[str, str]
) -> tuple[float, float]:
    """Requests/s and p99 latency (ms) of GETs at ``url_for(i)`` with C in flight."""
    latencies: list[float] = []
    stop = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30.0, headers=headers) as client:

        async def worker(n: int) -> None:
            i = n
            while time.perf_counter() < stop:
                t = time.perf_counter()
                response = await client.get(url_for(i))
                latencies.append(time.perf_counter() - t)
                if response.status_code != 200:
                    raise RuntimeError(f"{response.status_code}: {response.text[:200]}")
                i += concurrency

        started = time.perf_counter()
        await asyncio.gather(*(worker(n) for n in range(concurrency)))
        elapsed = time.perf_counter() - started
    return len(latencies) / elapsed, pct(latencies, 0.99) * 1000


def _child(urls: list[str], seconds: float, concurrency: int, headers: dict[str, str]) -> Any:
    return asyncio.run(load(lambda i: urls[i % len(urls)], seconds, concurrency, headers))


def in_child(
    urls: list[str], seconds: float, concurrency: int, headers: dict[str, str]
) -> tuple[float, float]:
    """The load generator in a process of its own: it must not share the servers' GIL."""
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=mp.get_context("spawn")) as pool:
        qps, p99 = pool.submit(_child, urls, seconds, concurrency, headers).result()
    return float(qps), float(p99)


async def seed_offerings(svc: ExchangeService, n: int) -> None:
    rng = random.Random(7)
    now = time.time()
    offerings, prices = [], []
    for i in range(n):
        caps = sorted(rng.sample(CAPS, rng.randint(0, 3)))
        oid = str(uuid.uuid4())
        nanos = rng.randint(1_000, 1_000_000)
        offerings.append(
            {
                "id": oid,
                "landlord": f"lord{i % 100}",
                "name": f"offering-{i}",
                "service_type": TYPES[i % len(TYPES)],
                "owner": f"owner{i % 60}",
                "region": f"region{i % 5}",
                "endpoint": f"http://127.0.0.1:9/{i}",
                "description": "",
                "sla": {"availability": "0.999"},
                "capabilities": caps,
                "capability_tags": "|" + "".join(f"{c}|" for c in caps),
                "capabilities_checked": [],
                "plans": {"default": {"quotas": {}}},
                "version": 1,
                "statement": "x",
                "status": "listed",
                "status_reason": "bench",
                "sort_price_nanos": nanos,
                "probes_ok": rng.randint(90, 100),
                "probes_total": 100,
                "created_at": now,
                "updated_at": now,
            }
        )
        prices.append(
            {
                "offering_id": oid,
                "metric": "gib_hours",
                "unit": "GiB-hour",
                "unit_price_nanos": nanos,
                "valid_from": MONTH_START - 86400,
                "valid_until": None,
            }
        )
    async with svc.db.session() as session:
        for i in range(0, n, 2000):
            await session.execute(insert(Offering), offerings[i : i + 2000])
            await session.execute(insert(Price), prices[i : i + 2000])


async def seed_subscriptions(svc: ExchangeService, landlord: str, customers: int) -> list[str]:
    """An offering of ``landlord`` with three metrics and a subscription per customer."""
    oid = str(uuid.uuid4())
    now = time.time()
    async with svc.db.session() as session:
        session.add(
            Offering(
                id=oid,
                landlord=landlord,
                name=f"bench-{landlord}",
                service_type="object-store",
                owner=landlord,
                region="RegionOne",
                endpoint="http://127.0.0.1:9",
                description="",
                sla={},
                capabilities=[],
                capability_tags="|",
                capabilities_checked=[],
                plans={"default": {"quotas": {}}},
                version=1,
                statement="x",
                status="listed",
                status_reason="",
                sort_price_nanos=100_000,
                probes_ok=0,
                probes_total=0,
                created_at=now,
                updated_at=now,
            )
        )
        for metric, nanos in (("gib_hours", 100_000), ("requests", 1_000), ("gib_out", 50_000_000)):
            session.add(
                Price(
                    offering_id=oid,
                    metric=metric,
                    unit="u",
                    unit_price_nanos=nanos,
                    valid_from=MONTH_START - 86400,
                )
            )
        ids = [f"sub-{landlord}-{c}" for c in range(customers)]
        await session.execute(
            insert(Subscription),
            [
                {
                    "id": s,
                    "offering_id": oid,
                    "landlord": landlord,
                    "customer": f"cust{c}",
                    "customer_name": f"cust{c}",
                    "user_id": "u",
                    "plan": "default",
                    "status": "active",
                    "created_at": MONTH_START - 86400,
                    "cancelled_at": None,
                }
                for c, s in enumerate(ids)
            ],
        )
    return ids


def records(subs: list[str], n: int, tag: str) -> list[dict[str, Any]]:
    metrics = ("gib_hours", "requests", "gib_out")
    return [
        {
            "record_id": f"{tag}-{i}",
            "contract_id": subs[i % len(subs)],
            "resource_id": f"res-{i % 977}",
            "metric": metrics[i % 3],
            "start": MONTH_START + 3600 * (i // 977 % 600),
            "end": MONTH_START + 3600 * (i // 977 % 600) + 3600,
            "quantity": str(1 + i % 50),
            "unit": "u",
        }
        for i in range(n)
    ]


async def bare_insert(svc: ExchangeService, rows: list[dict[str, Any]]) -> float:
    started = time.perf_counter()
    async with svc.db.session() as session:
        for i in range(0, len(rows), BATCH):
            await session.execute(insert(UsageRecord.__table__), rows[i : i + BATCH])
    elapsed = time.perf_counter() - started
    async with svc.db.session() as session:
        await session.execute(delete(UsageRecord).where(UsageRecord.landlord == "bare"))
    return elapsed


def as_rows(recs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            **{
                k: r[k]
                for k in (
                    "record_id",
                    "contract_id",
                    "resource_id",
                    "metric",
                    "start",
                    "end",
                    "unit",
                )
            },
            "landlord": "bare",
            "offering_id": "o",
            "customer": "c",
            "user_id": "",
            "quantity_nanos": int(r["quantity"]) * 10**9,
            "unit_price_nanos": 1000,
            "cost_nanos": 1000,
            "period": PERIOD,
            "ingested_at": 0.0,
        }
        for r in recs
    ]


async def seed_invoice(svc: ExchangeService, customer: str, n: int) -> None:
    """N rated records of one customer over three landlords, stored as ingest stores them
    (records and their line totals), without the HTTP and signing of the ingest benchmark."""
    chunk = 20_000
    landlords = ("harvard", "mit", "stor")
    for base in range(0, n, chunk):
        rows = [
            {
                "landlord": landlords[i % 3],
                "record_id": f"inv-{i}",
                "contract_id": f"sub-{i % 3}",
                "offering_id": f"off-{i % 3}",
                "customer": customer,
                "user_id": "",
                "resource_id": f"r{i % 1000}",
                "metric": ("gib_hours", "requests")[i % 2],
                "start": MONTH_START + i,
                "end": MONTH_START + i + 1,
                "quantity_nanos": 10**9,
                "unit": "u",
                "unit_price_nanos": 1000,
                "cost_nanos": 1000,
                "period": PERIOD,
                "ingested_at": 0.0,
            }
            for i in range(base, min(n, base + chunk))
        ]
        tuples = [tuple(row[c] for c in bulk.COLUMNS) for row in rows]
        async with svc.db.session() as session:
            new = set(await bulk.insert_new(session, tuples))
            await bulk.add_totals(session, [r for r in tuples if r[bulk.RECORD_ID] in new])


async def bare_sum(svc: ExchangeService, customer: str) -> float:
    started = time.perf_counter()
    async with svc.db.session() as session:
        await session.scalar(
            select(func.sum(UsageRecord.cost_nanos)).where(
                UsageRecord.customer == customer, UsageRecord.period == PERIOD
            )
        )
    return time.perf_counter() - started


def run_backend(name: str, database_url: str | None, args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        bg = BackgroundExchange(topo(), Path(tmp), database_url)
        exchange = bg.__enter__()
        try:
            return measure(bg, exchange, args)
        finally:
            bg.__exit__(None, None, None)


def measure(bg: BackgroundExchange, exchange: Any, args: argparse.Namespace) -> dict[str, Any]:
    run = next(r for r in exchange.running if r.part == "exchange")
    svc: ExchangeService = run.service.service
    # The gate would probe 10,000 made-up endpoints during the run: not what is measured here.
    svc.settings = svc.settings.model_copy(update={"probe_interval": 86400.0})
    url = run.url
    market, stor = exchange.landlords["market"], exchange.landlords["stor"]
    http = httpx.Client(timeout=120.0)
    operator = password_token(market.auth_url, "admin", market.admin_password, client=http)
    agent = LandlordAgent(
        "stor",
        stor.identity_url,
        password_token(stor.auth_url, "admin", stor.admin_password, client=http),
        url,
        "market",
        http,
    )
    answer = http.post(
        url + "/v1/landlords",
        json={"statement": agent.enrolment("Stor")},
        headers={"X-Auth-Token": operator},
    )
    answer.raise_for_status()
    out: dict[str, Any] = {}

    bg.call(seed_offerings(svc, args.offerings), timeout=600)
    rng = random.Random(1)
    queries = [
        f"{url}/v1/offerings?service_type={rng.choice(TYPES)}&sort=price&limit=20"
        + (f"&capability={rng.choice(CAPS)}" if rng.random() < 0.5 else "")
        for _ in range(1000)
    ]
    headers = {"X-Auth-Token": operator}
    in_child(queries, 1.0, args.concurrency, headers)  # warm up
    qps, p99 = in_child(queries, args.seconds, args.concurrency, headers)
    floor_qps, floor_p99 = in_child([url + "/healthz"], args.seconds, args.concurrency, {})
    out["offerings"] = {
        "n": args.offerings,
        "qps": qps,
        "p99_ms": p99,
        "healthz_qps": floor_qps,
        "healthz_p99_ms": floor_p99,
    }

    subs = bg.call(seed_subscriptions(svc, "stor", 100))
    recs = records(subs, args.records, "u")
    statements = [
        agent.sign(signing.TYP_USAGE, {"records": recs[i : i + BATCH]})
        for i in range(0, len(recs), BATCH)
    ]
    started = time.perf_counter()
    for statement in statements:
        response = http.post(url + "/v1/usage", json={"statement": statement})
        response.raise_for_status()
        assert response.json()["accepted"] == BATCH, response.text
    ingest = time.perf_counter() - started
    bare = bg.call(bare_insert(svc, as_rows(recs)), timeout=600)
    out["usage"] = {
        "n": len(recs),
        "per_s": len(recs) / ingest,
        "bare_insert_per_s": len(recs) / bare,
    }

    bg.call(seed_invoice(svc, "big", args.invoice_records), timeout=1800)
    times = []
    for _ in range(3):
        started = time.perf_counter()
        response = http.get(
            f"{url}/v1/invoices/{PERIOD}", params={"customer": "big"}, headers=headers
        )
        response.raise_for_status()
        times.append(time.perf_counter() - started)
        assert response.json()["invoice"]["records"] == args.invoice_records
    bare_s = min(bg.call(bare_sum(svc, "big")) for _ in range(3))
    out["invoice"] = {
        "n": args.invoice_records,
        "seconds": statistics.median(times),
        "bare_sum_seconds": bare_s,
    }
    http.close()
    return out


def report(name: str, r: dict[str, Any]) -> None:
    o, u, i = r["offerings"], r["usage"], r["invoice"]
    print(f"== {name}")
    print(
        f"offerings ({o['n']:,} listed): {o['qps']:,.0f} queries/s, p99 {o['p99_ms']:.1f} ms"
        f"   | healthz {o['healthz_qps']:,.0f}/s, p99 {o['healthz_p99_ms']:.1f} ms"
        f"   ratio {o['qps'] / o['healthz_qps']:.2f}x"
    )
    ratio = u["per_s"] / u["bare_insert_per_s"]
    print(
        f"usage ingest+rate, signatures checked: {u['per_s']:,.0f} records/s (goal >= 20,000)"
        f"   | bare INSERT {u['bare_insert_per_s']:,.0f}/s   ratio {ratio:.2f}x"
    )
    ratio = i["seconds"] / i["bare_sum_seconds"]
    print(
        f"invoice of {i['n']:,} records: {i['seconds']:.3f} s (goal < 2 s)"
        f"   | bare SELECT sum over the records {i['bare_sum_seconds']:.3f} s   ratio {ratio:.2f}x"
    )


def fresh_pg() -> tuple[str, Callable[[], None]] | None:
    try:
        import psycopg2
    except ImportError:
        return None
    name = "ocx_bench_" + secrets.token_hex(4)
    try:
        admin = psycopg2.connect(PG_URL + "/postgres")
    except psycopg2.Error:
        return None
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()

    return f"{PG_URL}/{name}", drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--offerings", type=int, default=10_000)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--invoice-records", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    args.records -= args.records % BATCH
    for backend in args.backends.split(","):
        if backend == "sqlite":
            report("SQLite", run_backend("sqlite", None, args))
            continue
        pg = fresh_pg()
        if pg is None:
            print("== PostgreSQL: not reachable, skipped")
            continue
        url, drop = pg
        try:
            report("PostgreSQL", run_backend("postgresql", url, args))
        finally:
            drop()


if __name__ == "__main__":
    main()
