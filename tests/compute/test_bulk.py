"""Scale: a thousand servers from one request, every one visible at once, all ACTIVE."""

from __future__ import annotations

import time

import pytest

from tests.compute.helpers import Nova
from tests.image.helpers import Cloud, User


@pytest.mark.slow
def test_a_thousand_servers_from_one_request(
    cloud: Cloud, root: User, alice: User, image_id: str
) -> None:
    quota = {"quota_set": {"instances": 1000, "cores": 1000, "ram": 512 * 1000}}
    admin = Nova(cloud, root)
    assert admin.call("PUT", f"/os-quota-sets/{alice.project_id}", quota).status_code == 200
    nova = Nova(cloud, alice)
    start = time.monotonic()
    nova.boot("bulk", image_id, min_count=1000, max_count=1000)
    listed = nova.call("GET", "/servers").json()["servers"]
    assert len({s["name"] for s in listed}) == 1000  # all visible at once
    while len(nova.call("GET", "/servers?status=ACTIVE").json()["servers"]) < 1000:
        assert time.monotonic() - start < 120
        time.sleep(0.1)
    print(f"1000 servers ACTIVE after {time.monotonic() - start:.2f}s")
