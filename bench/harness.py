"""What the compute benchmarks share: a serving child process, a topology cheap to start, and
the Glance and Nova steps of a bulk-create round.

A benchmark runs itself again as its serving child (``script --serve ROOT``); the child starts
its landlords, prints one JSON line (where they are), and serves until its stdin closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
# Argon2 at its cheapest: the benchmarks measure services, not password hashing.
CHEAP_HASH = {"time_cost": 1, "memory_kib": 1024, "parallelism": 1}
BUILD_TIMEOUT = 300.0


def topology(landlords: dict[str, dict[str, Any]]) -> Any:
    """A topology of ``landlords`` (name: its options) on ephemeral ports."""
    from ocx import topology as topo

    doc = {
        "exchange": {"base_port": 0, "password_hash": CHEAP_HASH},
        "landlords": [{"name": name, **spec} for name, spec in landlords.items()],
    }
    return topo.Topology.model_validate(doc)


def ready(found: dict[str, Any]) -> None:
    """In the child: say where the landlords are, then serve until the parent is done."""
    print(json.dumps({**found, "pid": os.getpid()}), flush=True)
    sys.stdin.read()


@contextlib.contextmanager
def serving(script: str, root: str) -> Iterator[dict[str, Any]]:
    """``script --serve root`` in a child process: what it printed when ready. The child
    ends with the block (its stdin is closed, then it is waited for)."""
    child = subprocess.Popen(
        [sys.executable, script, "--serve", root],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": f"{REPO}:{REPO / 'src'}"},
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        if not line:
            raise RuntimeError(f"{script} --serve did not start")
        yield json.loads(line)
    finally:
        if child.stdin is not None:
            child.stdin.close()
        child.wait(timeout=60)


async def upload_image(
    http: httpx.AsyncClient, images: str, headers: dict[str, str], name: str
) -> str:
    """A small raw image at ``images`` (Glance's root URL), uploaded: its id."""
    body = {"name": name, "disk_format": "raw", "container_format": "bare"}
    made = await http.post(images + "/v2/images", headers=headers, json=body)
    made.raise_for_status()
    image = str(made.json()["id"])
    sent = await http.put(
        f"{images}/v2/images/{image}/file",
        content=b"\0" * 4096,
        headers={**headers, "Content-Type": "application/octet-stream"},
    )
    sent.raise_for_status()
    return image


@dataclass(frozen=True)
class Servers:
    """A project's servers at one Nova ``.../servers`` URL, as one client sees them."""

    http: httpx.AsyncClient
    url: str
    headers: dict[str, str]

    async def count(self, status: str, prefix: str | None = None, limit: int | None = None) -> int:
        """Those in ``status``, named ``<prefix>-…`` if given; with ``limit``, only the first
        page (enough to tell whether there is any)."""
        params: dict[str, Any] = {"status": status}
        if prefix is not None:
            params["name"] = f"^{prefix}-"
        if limit is not None:
            params["limit"] = limit
        seen, next_url = 0, self.url
        while next_url:
            # A next link carries its query: no params then (httpx replaces a URL's query
            # with any params given, an empty dict's too).
            resp = await self.http.get(next_url, params=params or None, headers=self.headers)
            resp.raise_for_status()
            doc = resp.json()
            seen += len(doc["servers"])
            links = [ln["href"] for ln in doc.get("servers_links", []) if ln["rel"] == "next"]
            next_url, params = (links[0], {}) if links and limit is None else ("", {})
        return seen

    async def until_active(
        self, prefix: str, wanted: int, start: float, *, building: str | None
    ) -> float:
        """Seconds from ``start`` until no server named ``<building>-…`` (any server of the
        project, when None) is building; then the ``wanted`` servers ``<prefix>-…`` must all
        be ACTIVE."""
        while await self.count("BUILD", building, limit=1):
            await asyncio.sleep(0.05)
            if time.perf_counter() - start > BUILD_TIMEOUT:
                raise RuntimeError(f"{prefix}: not all {wanted} servers became ACTIVE in 300 s")
        done = time.perf_counter() - start
        active = await self.count("ACTIVE", prefix)
        if active != wanted:
            raise RuntimeError(f"{prefix}: {active} of {wanted} servers are ACTIVE")
        return done
