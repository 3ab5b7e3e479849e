"""What keeps a listing over many landlords from asking every landlord every time and from
giving up on a busy one: the landlords' pages kept by the proxy (ocx.proxy.pages), the rules
on their own, then through a live two-landlord proxy with openstacksdk (a page served from
the proxy's memory still shows at once what was created or deleted through the proxy), and a
fan-out's patience with a landlord that is busy but answering."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from ocx.proxy.errors import Unreachable
from ocx.proxy.fanout import fan_out
from ocx.proxy.landlords import Candidate
from ocx.proxy.lanes import Lanes
from ocx.proxy.pages import Page, Pages, settled
from ocx.proxy.service import ProxyService
from tests.conftest import ExchangeFactory
from tests.proxy.conftest import Mixed
from tests.proxy.openstack_helpers import Cloud, make

ALICE = ("alice", "alice-project")
ACTIVE = [{"id": "a", "status": "ACTIVE", "OS-EXT-STS:task_state": None}]


class Landlord:
    """A landlord's listing as the proxy fetches it: counts the asks, answers when let."""

    def __init__(self, items: list[dict[str, Any]] = ACTIVE) -> None:
        self.items, self.asked = items, 0
        self.gate = asyncio.Event()
        self.gate.set()

    async def fetch(self) -> Page:
        self.asked += 1
        await self.gate.wait()
        return Page(list(self.items), {"openstack-api-version": "compute 2.100"})


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_page_is_kept_for_its_ttl_per_customer_landlord_and_request() -> None:
    clock, mit = Clock(), Landlord()
    pages = Pages(5.0, 100, clock)
    first = await pages.page(ALICE, "mit", "q", mit.fetch)
    assert (await pages.page(ALICE, "mit", "q", mit.fetch)) is first and mit.asked == 1
    await pages.page(ALICE, "mit", "other query", mit.fetch)
    await pages.page(("bob", "bob-project"), "mit", "q", mit.fetch)
    await pages.page(ALICE, "stor", "q", mit.fetch)
    assert mit.asked == 4 and (pages.served, pages.fetched) == (1, 4)
    clock.now += 5.0
    await pages.page(ALICE, "mit", "q", mit.fetch)
    assert mit.asked == 5, "kept past its ttl"


async def test_a_write_drops_the_customers_pages_at_that_landlord_only() -> None:
    mit = Landlord()
    pages = Pages(5.0, 100, Clock())
    for landlord in ("mit", "stor"):
        await pages.page(ALICE, landlord, "q", mit.fetch)
    pages.changed(ALICE, "mit")
    await pages.page(ALICE, "mit", "q", mit.fetch)
    await pages.page(ALICE, "stor", "q", mit.fetch)
    assert mit.asked == 3


async def test_a_page_fetched_while_a_write_ran_is_not_kept() -> None:
    mit = Landlord()
    mit.gate.clear()
    pages = Pages(5.0, 100, Clock())
    listing = asyncio.create_task(pages.page(ALICE, "mit", "q", mit.fetch))
    while not mit.asked:
        await asyncio.sleep(0)
    pages.changed(ALICE, "mit")  # a create through the proxy, answered before the page
    mit.gate.set()
    await listing
    await pages.page(ALICE, "mit", "q", mit.fetch)
    assert mit.asked == 2


async def test_concurrent_asks_share_one_request_and_a_failing_landlord_is_asked_again() -> None:
    mit = Landlord()
    mit.gate.clear()
    pages = Pages(5.0, 100, Clock())
    asks = [asyncio.create_task(pages.page(ALICE, "mit", "q", mit.fetch)) for _ in range(50)]
    while not mit.asked:
        await asyncio.sleep(0)
    mit.gate.set()
    assert len({id(await a) for a in asks}) == 1 and mit.asked == 1
    pages.unreachable("mit")
    await pages.page(ALICE, "mit", "q", mit.fetch)
    assert mit.asked == 2


async def test_a_failure_is_everyones_and_never_kept() -> None:
    pages = Pages(5.0, 100, Clock())

    async def down() -> Page:
        raise Unreachable("mit", "cannot connect")

    for _ in range(2):
        with pytest.raises(Unreachable):
            await pages.page(ALICE, "mit", "q", down)
    assert pages.fetched == 2 and len(pages) == 0


async def test_unsettled_pages_are_not_kept_and_ttl_zero_keeps_nothing() -> None:
    building = Landlord([{"id": "b", "status": "BUILD"}])
    pages = Pages(5.0, 100, Clock())
    for _ in range(2):
        await pages.page(ALICE, "mit", "q", building.fetch)
    assert building.asked == 2
    off, mit = Pages(0.0, 100, Clock()), Landlord()
    for _ in range(2):
        await off.page(ALICE, "mit", "q", mit.fetch)
    assert mit.asked == 2 and len(off) == 0


def test_settled() -> None:
    assert settled([{"status": "ACTIVE"}, {"status": "in-use"}, {"status": "active"}, {}])
    assert not settled([{"status": "ACTIVE", "OS-EXT-STS:task_state": "rebooting"}])
    for status in ("BUILD", "attaching", "reserved", "queued", "saving", "creating"):
        assert not settled([{"status": "ACTIVE"}, {"status": status}]), status


async def test_the_least_recently_used_page_goes_first() -> None:
    mit = Landlord()
    pages = Pages(5.0, 2, Clock())
    for query in ("a", "b", "a", "c"):
        await pages.page(ALICE, "mit", query, mit.fetch)
    await pages.page(ALICE, "mit", "a", mit.fetch)
    assert mit.asked == 3 and len(pages) == 2


TWO: dict[str, Any] = {
    "harvard": {"parts": ["identity", "compute", "image", "proxy"], "demo_users": ["alice"],
                "trusts": ["mit"]},
    "mit": {"parts": ["identity", "compute", "image"], "trusts": ["harvard"]},
}  # fmt: skip
SERVERS = "/compute/v2.1/servers"


@pytest.fixture
def two(exchange_factory: ExchangeFactory, tmp_path: Path) -> Cloud:
    return make(exchange_factory(TWO), tmp_path)


def _proxy(cloud: Cloud) -> ProxyService:
    found = next(r.service for r in cloud.exchange.running
                 if (r.landlord, r.part) == ("harvard", "proxy"))  # fmt: skip
    return found.service  # type: ignore[attr-defined,no-any-return]


def _image(cloud: Cloud, token: str, landlord: str) -> str:
    body = {"name": f"base@{landlord}", "disk_format": "raw", "container_format": "bare"}
    made = cloud.raw("POST", "/image/v2/images", token, json=body)
    assert made.status_code == 201, made.text
    image = str(made.json()["id"])
    sent = cloud.raw("PUT", f"/image/v2/images/{image}/file", token, data=b"\x01" * 4096,
                     headers={"Content-Type": "application/octet-stream"})  # fmt: skip
    assert sent.status_code == 204, sent.text
    return image


def test_a_kept_page_still_shows_at_once_what_was_created_or_deleted_through_the_proxy(
    two: Cloud,
) -> None:
    conn = two.sdk()
    token = conn.auth_token
    images = {landlord: _image(two, token, landlord) for landlord in ("harvard", "mit")}
    made = {}
    for landlord, image in images.items():
        server = conn.compute.create_server(name=f"at-{landlord}", flavor_id="1",
                                            image_id=image, networks="none",
                                            availability_zone=landlord)  # fmt: skip
        made[landlord] = conn.compute.wait_for_server(server, wait=120).id
    pages = _proxy(two).pages

    def listed() -> list[str]:
        page = two.raw("GET", SERVERS + "/detail?limit=20", token)
        assert page.status_code == 200 and "X-OCX-Missing-Landlords" not in page.headers
        return [s["id"] for s in page.json()["servers"]]

    assert sorted(listed()) == sorted(made.values())
    served = pages.served
    assert sorted(listed()) == sorted(made.values())
    assert pages.served == served + 2, "both landlords' pages were asked again"

    # A server created through the proxy is in the next listing (its landlord asked again,
    # the other landlord's page still served from the proxy's memory).
    new = conn.compute.create_server(name="new", flavor_id="1", image_id=images["mit"],
                                     networks="none", availability_zone="mit")  # fmt: skip
    served = pages.served
    assert new.id in listed()
    assert pages.served == served + 1
    conn.compute.wait_for_server(new, wait=120)

    # One deleted through the proxy is gone from the next listing.
    listed()
    gone = two.raw("DELETE", f"{SERVERS}/{made['mit']}", token)
    assert gone.status_code == 204, gone.text
    assert sorted(listed()) == sorted([made["harvard"], new.id])
    # An action through the proxy (stop) shows its task at once, and its end once settled.
    stopped = two.raw("POST", f"{SERVERS}/{new.id}/action", token, json={"os-stop": None})
    assert stopped.status_code == 202, stopped.text
    page = two.raw("GET", SERVERS + "/detail?limit=20", token).json()["servers"]
    shown = next(s for s in page if s["id"] == new.id)
    assert shown["OS-EXT-STS:task_state"] == "powering-off" or shown["status"] == "SHUTOFF"


def test_a_landlord_that_fails_a_request_is_asked_again_by_the_next_listing(two: Cloud) -> None:
    conn = two.sdk()
    token = conn.auth_token
    image = _image(two, token, "mit")
    server = conn.compute.create_server(name="at-mit", flavor_id="1", image_id=image,
                                        networks="none", availability_zone="mit")  # fmt: skip
    conn.compute.wait_for_server(server, wait=120)
    assert two.raw("GET", SERVERS + "/detail", token).status_code == 200  # kept now
    Mixed(two.exchange).stop("mit", "compute")
    shown = two.raw("GET", f"{SERVERS}/{server.id}", token)
    assert shown.status_code == 503 and "mit" in shown.text
    listed = two.raw("GET", SERVERS + "/detail", token)
    assert listed.status_code == 200 and listed.json()["servers"] == []
    assert "mit" in listed.headers["X-OCX-Missing-Landlords"]


async def test_a_fan_out_waits_for_a_busy_landlord_not_for_a_silent_one() -> None:
    busy, silent = Candidate("busy", 1, "federated"), Candidate("silent", 2, "federated")
    last = {"busy": time.monotonic(), "silent": 0.0}
    answered = asyncio.Event()

    async def talking() -> None:  # busy answers other requests meanwhile, then this one
        for _ in range(30):
            last["busy"] = time.monotonic()
            await asyncio.sleep(0.05)
        answered.set()

    async def work(candidate: Candidate) -> str:
        await (answered if candidate.name == "busy" else asyncio.Event()).wait()
        return candidate.name

    chatter = asyncio.create_task(talking())
    results = await fan_out([busy, silent], work, 0.5, "test",
                            quiet=lambda c: last[c.name], patience=60.0)  # fmt: skip
    await chatter
    assert [(c.name, found) for c, found in results.answers] == [("busy", "busy")]
    assert [m.landlord for m in results.missing] == ["silent"]
    assert "timed out after 0.5s" in results.missing_header["X-OCX-Missing-Landlords"]


async def test_expired_pages_are_not_held() -> None:
    clock, mit = Clock(), Landlord()
    pages = Pages(5.0, 100, clock)
    for query in ("a", "b"):
        await pages.page(ALICE, "mit", query, mit.fetch)
    clock.now += 5.0
    await pages.page(ALICE, "mit", "c", mit.fetch)
    assert len(pages) == 1


async def test_a_landlord_works_on_a_few_requests_at_a_time_the_rest_wait_their_turn() -> None:
    lanes = Lanes(2, 60.0)
    running, peak, release = 0, 0, asyncio.Event()

    async def request() -> None:
        nonlocal running, peak
        async with lanes.turn(("http", "mit", 8774), "mit"):
            running += 1
            peak = max(peak, running)
            await release.wait()
            running -= 1

    asks = [asyncio.create_task(request()) for _ in range(10)]
    while running < 2:
        await asyncio.sleep(0)
    async with lanes.turn(("http", "stor", 8774), "stor"):
        pass  # another landlord's lane is free
    release.set()
    await asyncio.gather(*asks)
    assert peak == 2


async def test_no_turn_within_the_wait_is_the_landlord_busy() -> None:
    lanes = Lanes(1, 0.05)
    async with lanes.turn("mit-origin", "mit"):
        with pytest.raises(Unreachable, match=r"busy: no turn in 0\.05s"):
            async with lanes.turn("mit-origin", "mit"):
                pass


def test_flavors_are_kept_as_pages_are(two: Cloud) -> None:
    """Horizon lists the flavors on every Instances page: every landlord's whole list is
    kept for the customer as a listing page is (and a write through the proxy drops it)."""
    token = two.sdk().auth_token
    pages = _proxy(two).pages

    def flavors() -> list[str]:
        listed = two.raw("GET", "/compute/v2.1/flavors/detail", token)
        assert listed.status_code == 200 and "X-OCX-Missing-Landlords" not in listed.headers
        return sorted(f["id"] for f in listed.json()["flavors"])

    first = flavors()
    served = pages.served
    assert flavors() == first and pages.served == served + 2  # both landlords' lists kept
