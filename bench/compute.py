"""Compute benchmark: how fast a landlord's simulated Nova makes a thousand servers.

    .venv/bin/python bench/compute.py [--count N] [--concurrency C] [--json]

A child process runs one landlord (identity, images, compute with four simulated 64-vCPU
hosts and its default timings: a boot takes 0.3 s); this process is the client, on
keep-alive connections. Figures:

- one ``POST /servers`` with ``min_count = max_count = N``: the request's own time, servers
  created per second, and the time until all N are ACTIVE (polled with
  ``GET /servers?status=BUILD&limit=1`` until none of the project's is left, then all N
  counted ACTIVE);
- N single ``POST /servers`` (C in flight): servers created per second and the time until
  all N are ACTIVE, from httpx, then again from aiohttp's leaner client (the client shares
  the two cores: each figure says the CPU it and the serving process spent per server).

The goal (issue 12) is 1,000 servers ACTIVE in under 10 s on this machine; each figure is
printed with its ratio to that goal, and the single requests against the bulk one.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
if __package__ in (None, ""):
    sys.path[:0] = [str(REPO), str(REPO / "src")]

from bench import harness  # noqa: E402

GOAL_SECONDS = 10.0
VERSION = {"OpenStack-API-Version": "compute 2.100"}


def serve(root: Path) -> None:
    """The child: one landlord with identity, images and compute until stdin closes."""
    import logging

    logging.disable(logging.INFO)
    from ocx.common.serving import bind
    from ocx.compute.service import ComputeService
    from ocx.compute.settings import ComputeSettings, HostConfig
    from ocx.image.part import ImagePart
    from ocx.runner import BackgroundExchange, Running, _until_healthy

    topo = harness.topology({"bench": {"parts": ["identity"]}})
    bg = BackgroundExchange(topo, root)
    with bg as exchange:
        landlord = exchange.landlords["bench"]

        async def add(part: str, service: Any) -> str:
            sock = bind("127.0.0.1", 0)
            url = f"http://127.0.0.1:{sock.getsockname()[1]}"
            landlord.base_urls[part] = url
            built = service(url)
            await built.start()
            run = Running("bench", part, url, built, exchange._server(built.app), sock)
            exchange.running.append(run)
            exchange._serving.append(asyncio.create_task(run.server.serve(sockets=[sock])))
            async with httpx.AsyncClient() as client:
                await _until_healthy(client, url + "/healthz", 30)
            return url

        def image(url: str) -> Any:
            return ImagePart.for_landlord(landlord)

        def compute(url: str) -> Any:
            from ocx.compute.part import ComputePart

            hosts = tuple(HostConfig(name=f"host-{i}") for i in range(1, 5))
            settings = ComputeSettings(
                landlord="bench",
                public_url=url,
                database_url=landlord.database("compute"),
                data_dir=landlord.data_dir,
                verifier=landlord.verifier(),
                image_url=landlord.base_urls["image"],
                hosts=hosts,
            )
            return ComputePart(ComputeService(settings))

        image_url = bg.call(add("image", image))
        compute_url = bg.call(add("compute", compute))
        token, project = _token(landlord.auth_url, landlord.admin_password)
        harness.ready({"image": image_url, "compute": compute_url, "token": token,
                       "project": project})  # fmt: skip


def _token(auth_url: str, password: str) -> tuple[str, str]:
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
    return resp.headers["X-Subject-Token"], resp.json()["token"]["project"]["id"]


async def prepare(env: dict[str, str], client: httpx.AsyncClient, count: int) -> str:
    headers = {"X-Auth-Token": env["token"]}
    image_id = await harness.upload_image(client, env["image"], headers, "bench")
    quota = {"quota_set": {"instances": 4 * count, "cores": 4 * count, "ram": 1024 * 4 * count}}
    resp = await client.put(
        f"{env['compute']}/v2.1/os-quota-sets/{env['project']}",
        headers={**headers, **VERSION},
        json=quota,
    )
    resp.raise_for_status()
    return image_id


def _server(name: str, image_id: str, count: int = 1) -> dict[str, Any]:
    return {"server": {"name": name, "imageRef": image_id, "flavorRef": "1", "networks": "auto",
                       "min_count": count, "max_count": count}}  # fmt: skip


async def until_active(
    env: dict[str, str], client: httpx.AsyncClient, prefix: str, wanted: int, start: float
) -> float:
    """Seconds from ``start`` until none of the servers is building (then all must be ACTIVE)."""
    headers = {"X-Auth-Token": env["token"], **VERSION}
    servers = harness.Servers(client, env["compute"] + "/v2.1/servers", headers)
    # The phases do not overlap: any server of the project building is one of this phase's.
    return await servers.until_active(prefix, wanted, start, building=None)


def cpu_seconds(pid: str) -> float:
    """User and system CPU time the serving process has used so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def bulk(env: dict[str, str], image_id: str, count: int) -> dict[str, float]:
    async with httpx.AsyncClient(timeout=300) as client:
        cpu = cpu_seconds(env["pid"])
        start = time.perf_counter()
        resp = await client.post(
            env["compute"] + "/v2.1/servers",
            headers={"X-Auth-Token": env["token"], **VERSION},
            json=_server("bulk", image_id, count),
        )
        request = time.perf_counter() - start
        assert resp.status_code == 202, resp.text
        done = await until_active(env, client, "bulk", count, start)
        cpu = cpu_seconds(env["pid"]) - cpu
    return {"request_s": request, "created_per_s": count / request, "all_active_s": done,
            "server_cpu_ms_each": 1000 * cpu / count}  # fmt: skip


async def singles(
    env: dict[str, str], image_id: str, count: int, concurrency: int, prefix: str = "single"
) -> dict[str, float]:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=300, limits=limits) as client:
        queue = iter(range(count))
        headers = {"X-Auth-Token": env["token"], **VERSION}

        async def worker() -> None:
            for index in queue:
                resp = await client.post(
                    env["compute"] + "/v2.1/servers",
                    headers=headers,
                    json=_server(f"{prefix}-{index}", image_id),
                )
                assert resp.status_code == 202, resp.text

        return await _timed(env, client, prefix, count, [worker() for _ in range(concurrency)])


async def singles_aiohttp(
    env: dict[str, str], image_id: str, count: int, concurrency: int, prefix: str = "lean"
) -> dict[str, float]:
    """The same single requests from aiohttp's client (C parser): what the service does when
    the client on the same two cores costs less."""
    import aiohttp

    queue = iter(range(count))
    headers = {"X-Auth-Token": env["token"], **VERSION}
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            for index in queue:
                body = _server(f"{prefix}-{index}", image_id)
                async with session.post(env["compute"] + "/v2.1/servers", headers=headers,
                                        json=body) as resp:  # fmt: skip
                    assert resp.status == 202, await resp.text()
                    await resp.read()

        async with httpx.AsyncClient(timeout=300) as client:
            return await _timed(env, client, prefix, count, [worker() for _ in range(concurrency)])


async def _timed(
    env: dict[str, str], client: httpx.AsyncClient, prefix: str, count: int, workers: list[Any]
) -> dict[str, float]:
    cpu, mine = cpu_seconds(env["pid"]), time.process_time()
    start = time.perf_counter()
    await asyncio.gather(*workers)
    created = time.perf_counter() - start
    done = await until_active(env, client, prefix, count, start)
    cpu, mine = cpu_seconds(env["pid"]) - cpu, time.process_time() - mine
    return {"requests_s": created, "created_per_s": count / created, "all_active_s": done,
            "server_cpu_ms_each": 1000 * cpu / count,
            "client_cpu_ms_each": 1000 * mine / count}  # fmt: skip


async def measure(env: dict[str, str], count: int, concurrency: int) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=60) as client:
        image_id = await prepare(env, client, count)
    return {
        "count": count,
        "load_average": os.getloadavg(),
        "bulk": await bulk(env, image_id, count),
        "singles": await singles(env, image_id, count, concurrency),
        "singles_aiohttp": await singles_aiohttp(env, image_id, count, concurrency),
    }


def report(result: dict[str, Any], concurrency: int) -> None:
    n, b, s = result["count"], result["bulk"], result["singles"]
    load = ", ".join(f"{x:.1f}" for x in result["load_average"])
    print(f"compute: {n} servers, one landlord, 4 simulated hosts, boot time 0.3 s "
          f"(load average {load} on {os.cpu_count()} CPUs)")  # fmt: skip
    print(f"  one --max {n} request: {b['request_s']:.2f} s, {b['created_per_s']:.0f} servers/s")
    print(f"    serving process CPU: {b['server_cpu_ms_each']:.2f} ms per server")
    print(f"    all ACTIVE after {b['all_active_s']:.2f} s  (goal < {GOAL_SECONDS:.0f} s: "
          f"{b['all_active_s'] / GOAL_SECONDS:.2f}x of the budget)")  # fmt: skip
    for name, kind in (("singles", "httpx"), ("singles_aiohttp", "aiohttp")):
        s = result[name]
        print(f"  {n} single requests from {kind} ({concurrency} in flight): "
              f"{s['requests_s']:.2f} s, {s['created_per_s']:.0f} servers/s")  # fmt: skip
        print(f"    CPU per server: {s['server_cpu_ms_each']:.2f} ms serving, "
              f"{s['client_cpu_ms_each']:.2f} ms in this client ({kind})")  # fmt: skip
        print(f"    all ACTIVE after {s['all_active_s']:.2f} s  (goal < {GOAL_SECONDS:.0f} s: "
              f"{s['all_active_s'] / GOAL_SECONDS:.2f}x of the budget)")  # fmt: skip
    s = result["singles"]
    print(f"  single requests vs one bulk request, time to all ACTIVE: "
          f"{s['all_active_s'] / b['all_active_s']:.1f}x")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(Path(args.serve))
        return
    with (
        tempfile.TemporaryDirectory(prefix="ocx-bench-compute-") as root,
        harness.serving(__file__, root) as env,
    ):
        result = asyncio.run(measure(env, args.count, args.concurrency))
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        report(result, args.concurrency)


if __name__ == "__main__":
    main()
