"""The proxy when a landlord's process is killed (SIGKILL) mid-listing, mid-download, mid-upload.

A real `ocx up` (each landlord its own process): alice at harvard keeps data at stor through
harvard's proxy; stor is killed while she reads, lists and writes. Answers degrade as
docs/proxy.md says (never a 500, never a short object that looks whole, nothing half-written),
and once the supervisor has started stor again the proxy uses it again, its data intact.
"""

from __future__ import annotations

import hashlib
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import requests
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

from ocx.supervisor import pid_of
from tests.ocx_up import running, wait_until

TOPOLOGY = """
[exchange]
base_port = 0
password_hash = { time_cost = 1, memory_kib = 1024, parallelism = 1 }

[[landlords]]
name = "harvard"
parts = ["identity", "object", "proxy"]
demo_users = ["alice"]

[[landlords]]
name = "stor"
parts = ["identity", "object"]
trusts = ["harvard"]
"""

MIB = 1024 * 1024
BIG = bytes(range(256)) * (24 * MIB // 256)


def chunks(total: int, kill_after: int | None = None, pid: int = 0) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        if kill_after is not None and sent == kill_after:
            os.kill(pid, signal.SIGKILL)
        yield BIG[sent : sent + MIB]
        sent += MIB


def test_a_landlord_killed_under_the_proxy(tmp_path: Path) -> None:
    with running(tmp_path, TOPOLOGY) as up:
        data, clouds = up.data, up.clouds
        sess = ks_session.Session(auth=v3.Password(**clouds["harvard-alice"]["auth"]))
        proxy = sess.get_endpoint(service_type="object-store", region_name="ocx")
        token = sess.get_token()
        auth = {"X-Auth-Token": token}

        def call(method: str, path: str, **kwargs: object) -> requests.Response:
            headers = {**auth, **kwargs.pop("headers", {})}  # type: ignore[dict-item]
            return requests.request(method, proxy + path, headers=headers, timeout=120, **kwargs)  # type: ignore[arg-type]

        placed = call("PUT", "/vault", headers={"X-OCX-Landlord": "stor"})
        assert placed.status_code == 201, placed.text
        assert call("PUT", "/vault/big", data=BIG).status_code == 201
        assert call("PUT", "/home-notes").status_code == 201
        digest = hashlib.md5(BIG, usedforsecurity=False).hexdigest()

        # Download cut off: the client gets less than Content-Length and an error, never a
        # 500 and never a short body that looks whole.
        first = pid_of(data, "stor")
        with call("GET", "/vault/big", stream=True) as got:
            assert got.status_code == 200
            assert int(got.headers["Content-Length"]) == len(BIG)
            received = 0
            failed = False
            try:
                for piece in got.iter_content(256 * 1024):
                    if received == 0:
                        os.kill(first, signal.SIGKILL)
                    received += len(piece)
            except requests.RequestException:
                failed = True
            assert failed or received < len(BIG)

        # Listing while stor is down or coming back: the others answer, stor named missing
        # (or, if it is back already, listed): never a 5xx.
        listing = call("GET", "?format=json")
        assert listing.status_code == 200, listing.text
        names = {c["name"] for c in listing.json()}
        assert "home-notes" in names
        missing = listing.headers.get("X-OCX-Missing-Landlords", "")
        assert ("vault" in names) != ("stor" in missing)

        # A request on stor's container while it is down is 503 naming it, not 500.
        during = call("HEAD", "/vault")
        assert during.status_code in (204, 503), during.status_code

        # Upload cut off: stor is killed mid-body; the answer is 503 or a dropped connection.
        wait_until(lambda: pid_of(data, "stor") != first, "stor not restarted")
        wait_until(lambda: call("HEAD", "/vault").status_code == 204, "stor not back")
        second = pid_of(data, "stor")
        try:
            cut = call("PUT", "/vault/partial", data=chunks(8 * MIB, 2 * MIB, second))
            assert cut.status_code in (499, 502, 503), cut.status_code
        except requests.RequestException:
            pass

        # stor comes back; the proxy uses it again; its data is whole, nothing half-written.
        wait_until(lambda: pid_of(data, "stor") != second, "stor not restarted twice")
        wait_until(lambda: call("HEAD", "/vault").status_code == 204, "stor not back again")
        again = call("GET", "/vault/big")
        assert again.status_code == 200
        assert hashlib.md5(again.content, usedforsecurity=False).hexdigest() == digest
        assert call("HEAD", "/vault/partial").status_code == 404
        listed = call("GET", "?format=json")
        assert "X-OCX-Missing-Landlords" not in listed.headers
        assert {"vault", "home-notes"} <= {c["name"] for c in listed.json()}
        stor_tmp = data / "stor" / "object" / "tmp"
        assert not stor_tmp.exists() or list(stor_tmp.iterdir()) == []
