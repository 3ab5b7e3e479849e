"""Bulk server creation through the proxy (region ocx) against straight at one landlord.

    .venv/bin/python bench/proxy_compute.py [--count N] [--json]

A child process runs two landlords (each its own identity, images and compute with Nova's
default two simulated hosts; harvard also runs the proxy and admits nobody else, mit admits
harvard's users by K2K); this process is the client. Three rounds of one ``POST /servers``
with ``min_count = max_count = N``, each timed from the request until none of its servers is
building (then all N are counted ACTIVE):

1. straight at harvard's compute;
2. through the proxy, placed at mit (``availability_zone: mit``: the proxy's federated path;
   each landlord's two simulated hosts hold 1,536 small servers, so the rounds are spread);
3. through the proxy with each landlord's quota holding half: the proxy splits it over harvard
   and mit (one 202).

The goal (issue 14) is 1,000 servers ACTIVE in under 10 s on this machine; each figure is
printed with the load average and the proxied rounds' ratios to the direct one.
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
LANDLORDS = {
    "harvard": {"parts": ["identity", "proxy", "compute", "image"], "demo_users": ["alice"]},
    "mit": {"parts": ["identity", "compute", "image"], "trusts": ["harvard"]},
}


def serve(root: Path) -> None:
    """The child: the two landlords until stdin closes; prints where clouds.yaml is."""
    import logging

    logging.disable(logging.INFO)
    from ocx import clouds
    from ocx.runner import BackgroundExchange

    with BackgroundExchange(harness.topology(LANDLORDS), root) as exchange:
        harness.ready({"clouds": str(clouds.write(exchange, root / "clouds.yaml"))})


class Client:
    """Alice's tokens and endpoints (straight at harvard, and the proxy), admins' tokens."""

    def __init__(self, clouds_yaml: str):
        import openstack

        os.environ["OS_CLIENT_CONFIG_FILE"] = clouds_yaml
        alice = openstack.connect(cloud="harvard-alice", region_name="RegionOne")
        self.token = alice.auth_token
        self.direct = alice.compute.get_endpoint()
        self.proxy = alice.session.get_endpoint(service_type="compute", region_name="ocx")
        self.images = alice.session.get_endpoint(service_type="image", region_name="ocx")
        self.projects = {
            "harvard": alice.current_project_id,
            "mit": openstack.connect(cloud="alice-mit-k2k").current_project_id,
        }
        self.admins = {}
        for name in ("harvard", "mit"):
            admin = openstack.connect(cloud=name)
            self.admins[name] = (admin.auth_token, admin.compute.get_endpoint())

    def headers(self) -> dict[str, str]:
        return {"X-Auth-Token": self.token, **VERSION}


async def prepare(c: Client, http: httpx.AsyncClient) -> str:
    """The same small image at both landlords (made through the proxy); harvard's id."""
    made = [await harness.upload_image(http, c.images, c.headers(), f"bench@{landlord}")
            for landlord in ("harvard", "mit")]  # fmt: skip
    return made[0]


async def quota(c: Client, http: httpx.AsyncClient, landlord: str, instances: int) -> None:
    token, url = c.admins[landlord]
    body = {"quota_set": {"instances": instances, "cores": instances, "ram": 512 * instances}}
    resp = await http.put(f"{url}/os-quota-sets/{c.projects[landlord]}", json=body,
                          headers={"X-Auth-Token": token, **VERSION})  # fmt: skip
    resp.raise_for_status()


async def round_(c: Client, http: httpx.AsyncClient, url: str | None, name: str, image: str,
                 n: int, zone: str | None) -> dict[str, Any]:  # fmt: skip
    assert url is not None
    server: dict[str, Any] = {"name": name, "imageRef": image, "flavorRef": "1",
                              "networks": "none", "min_count": n, "max_count": n}  # fmt: skip
    if zone:
        server["availability_zone"] = zone
    start = time.perf_counter()
    resp = await http.post(url + "/servers", headers=c.headers(), json={"server": server})
    request = time.perf_counter() - start
    if resp.status_code != 202:
        raise RuntimeError(f"{name}: {resp.status_code} {resp.text}")
    servers = harness.Servers(http, url + "/servers", c.headers())
    done = await servers.until_active(name, n, start, building=name)
    return {"request_s": request, "all_active_s": done,
            "placement": resp.headers.get("X-OCX-Placement", "")}  # fmt: skip


async def measure(c: Client, n: int) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=300) as http:
        image = await prepare(c, http)
        await quota(c, http, "harvard", n)
        await quota(c, http, "mit", n)
        direct = await round_(c, http, c.direct, "direct", image, n, None)
        one = await round_(c, http, c.proxy, "proxied", image, n, "mit")
        await quota(c, http, "harvard", n + n // 2)
        await quota(c, http, "mit", n + n - n // 2)
        split = await round_(c, http, c.proxy, "split", image, n, None)
    return {"count": n, "load_average": os.getloadavg(), "direct": direct, "proxied": one,
            "split": split}  # fmt: skip


def report(r: dict[str, Any]) -> None:
    n, d = r["count"], r["direct"]
    load = ", ".join(f"{x:.1f}" for x in r["load_average"])
    print(f"bulk create of {n} servers, one request (load average {load} on "
          f"{os.cpu_count()} CPUs)")  # fmt: skip
    rounds = (
        ("direct", "straight at harvard"),
        ("proxied", "through the proxy, at mit"),
        ("split", "through the proxy, split"),
    )
    for key, what in rounds:
        f = r[key]
        ratio = f["all_active_s"] / d["all_active_s"]
        print(f"  {what:32} request {f['request_s']:.2f} s, all ACTIVE {f['all_active_s']:.2f} s "
              f"({ratio:.2f}x direct; goal < {GOAL_SECONDS:.0f} s) {f['placement']}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(Path(args.serve))
        return
    with tempfile.TemporaryDirectory() as tmp, harness.serving(__file__, tmp) as env:
        result = asyncio.run(measure(Client(env["clouds"]), args.count))
    print(json.dumps(result, indent=2)) if args.json else report(result)


if __name__ == "__main__":
    main()
