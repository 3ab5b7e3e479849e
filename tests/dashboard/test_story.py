"""The issue's story in one run of a real Chromium against a live exchange (slow: minutes).

alice, a harvard user, signs in to the exchange's dashboard through WebSSO (harvard's own
sign-in page), finds the cheapest SSD block storage, subscribes; in the same session, in
region ``ocx`` (the exchange's proxy, the session's default region), she creates a volume at
stor and a server at harvard, attaches the one to the other and uploads an object; she sees
stor's meter move her usage chart and the invoice line appear; stor's administrator, signed
in through stor's identity, sees stor's settlement with alice in it, and no other
landlord's. Every step asserts what the page shows and saves a screenshot (``story-NN-…``;
docs/dashboard.md shows them).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ocx.runner import BackgroundExchange
from tests.conftest import make_topology
from tests.dashboard import story
from tests.dashboard.helpers import (
    TOPOLOGY,
    Browser,
    artifacts,
    browsing,
    market_of,
    need_browser_and_horizon,
    publish_block_storage,
)

# stor sells on the exchange and meters every 2 s (hourly in the default topology), so the
# story's volume shows up on the bill within the test; the exchange also trusts stor's
# identity, through which stor's administrator signs in.
STORY: dict[str, Any] = {
    "harvard": TOPOLOGY["harvard"],
    "stor": {
        **TOPOLOGY["stor"],
        "market": {"exchange": "market", "feed_interval": 0.5, "meter_interval": 2.0},
    },
    "market": {**TOPOLOGY["market"], "trusts": ["harvard", "stor"]},
}
SHOT_WIDTH = 1024  # the committed screenshots stay small


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackgroundExchange]:
    need_browser_and_horizon()
    background = BackgroundExchange(make_topology(STORY), tmp_path_factory.mktemp("story"))
    with background:
        yield background


def bars(web: Browser) -> int:
    return int(web.page.locator("#usage-chart rect.ocx-bar").count())


def records_shown(web: Browser) -> int:
    found = re.search(r"(\d+) usage records\.", web.page.inner_text("#main_content"))
    assert found, "the usage page says how many records it summed"
    return int(found.group(1))


def settlements_in_menu(web: Browser) -> bool:
    """Whether the sidebar links the Settlements panel (shown or in a collapsed group)."""
    return bool(web.page.locator("#sidebar a[href='/market/settlements/']").count())


@pytest.mark.slow
def test_the_issue_story_from_websso_to_the_landlords_settlement(
    live: BackgroundExchange, browser: Any, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    exchange = live.exchange
    market = market_of(exchange, live)
    publish_block_storage(market, ssd_metric="volume.gib_hours:ssd")
    market.enrol("harvard", owner="Harvard University")  # a second landlord on the exchange
    harvard, stor = exchange.landlords["harvard"], exchange.landlords["stor"]
    alice = harvard.demo_passwords["alice"]
    base = exchange.landlords["market"].url("dashboard")
    shots = artifacts(request, tmp_path)
    conn = story_sdk(live)
    # An image of alice's as the exchange's customer, at harvard (the name says where).
    image = conn.image.create_image(
        name="debian@harvard", data=b"\x01" * 8192, disk_format="raw", container_format="bare"
    )
    note = tmp_path / "note.txt"
    note.write_bytes(b"written in the browser\n")
    with browsing(browser, base, shots, width=SHOT_WIDTH, to_docs=True) as web:
        # 1. WebSSO: the exchange's dashboard sends alice to harvard's own sign-in page.
        web.go("/auth/login/")
        assert "Sign in with harvard" in web.page.inner_text("#id_auth_type")
        web.shot("story-01-sign-in")
        web.websso("harvard", "alice", alice, shot="story-02-harvard-sign-in")
        assert web.page.url.startswith(base + "/market/")
        assert web.page.inner_text(".context-project").strip() == "harvard-alice"
        assert not settlements_in_menu(web), "a customer has no landlord pages"

        # 2. The cheapest SSD block storage in the marketplace.
        web.go("/market/?service_type=volume&capability=ssd&sort=price")
        rows = web.page.locator("#offerings tbody tr")
        assert rows.locator(".ocx-name").all_inner_texts() == ["block-ssd-lite", "block-ssd-fast"]
        cheapest = rows.first
        assert cheapest.locator(".ocx-price").inner_text() == "0.0002 / GiB-hour"
        assert cheapest.locator(".ocx-capabilities").inner_text() == "ssd"
        assert cheapest.locator(".ocx-landlord").inner_text() == "stor"
        web.shot("story-03-marketplace")

        # 3. Subscribe.
        web.subscribe(cheapest, "block-ssd-lite", "story-04-subscriptions")
        web.go("/market/usage/")
        assert (bars(web), records_shown(web)) == (0, 0)
        assert "No usage this month." in web.page.inner_text("#usage-totals")
        web.shot("story-05-usage-before")

        # 4. Same session, region ocx (the exchange's proxy, in the exchange's catalog): a
        # volume at stor, a server at harvard, the one attached to the other, an object.
        web.go("/project/volumes/")
        assert web.page.inner_text(".context-region").strip() == "ocx"
        assert web.page.inner_text(".context-project").strip() == "harvard-alice"
        story.create_volume(web, "data", "ssd@stor", "stor")
        web.shot("story-06-volume-at-stor")
        story.launch_server(web, "vm1", "harvard", "debian", "m1.tiny")
        web.shot("story-07-server-at-harvard")
        story.attach_volume(web, "vm1", "data")
        web.go("/project/volumes/")
        row = web.page.locator("#volumes tbody tr:has(a:text-is('data'))")
        story.until(lambda: "In-use" in row.inner_text(), "volume data in use", web)
        assert "vm1" in row.inner_text() and "stor" in row.inner_text()
        web.shot("story-08-attached")
        story.upload_object(web, "notes", str(note))
        # In the container's object table (not only in the "uploaded" message).
        listed = web.page.locator("tbody tr:has-text('note.txt')")
        # Angular lists it after the page has loaded (through the proxy, which asks every
        # landlord): wait on the page, never reload it (a reload every second under load
        # restarted the listing before it arrived).
        listed.first.wait_for(timeout=60_000)
        assert "23 bytes" in listed.first.inner_text()
        web.shot("story-09-object")
        volume = next(conn.block_storage.volumes(name="data"))
        server = next(conn.compute.servers(name="vm1"))
        assert (volume.availability_zone, volume.status, volume.volume_type) == (
            "stor",
            "in-use",
            "ssd",
        )
        assert (server.availability_zone, server.status) == ("harvard", "ACTIVE")
        assert server.image["id"] == image.id
        assert [a["server_id"] for a in volume.attachments] == [server.id]
        notes = conn.object_store.download_object("note.txt", container="notes")
        assert notes == note.read_bytes()

        # 5. Still the same session: stor's meter moves the usage chart (the volume is
        # alice's subscription's, though stor knows her as the exchange's user), the invoice
        # line appears.
        web.go("/market/usage/")
        story.until(lambda: bars(web) > 0, "stor's usage on the chart", web, timeout=90)
        first = records_shown(web)
        totals = web.page.inner_text("#usage-totals")
        assert "stor" in totals and "volume.gib_hours:ssd" in totals
        story.until(lambda: records_shown(web) > first, "the chart moving on", web, timeout=60)
        web.shot("story-10-usage")
        web.go("/market/invoices/")
        line = web.page.locator("#invoice-lines tbody tr:has-text('block-ssd-lite')")
        cells = line.locator("td").all_inner_texts()
        assert cells[:3] == ["stor", "block-ssd-lite", "volume.gib_hours:ssd"], cells
        assert (cells[4], cells[5]) == ("GiB-hour", "0.0002")
        assert float(cells[3]) > 0 and float(cells[6]) > 0
        web.shot("story-11-invoice")
        customer = subscribed_project(web)

    with browsing(browser, base, shots, width=SHOT_WIDTH, to_docs=True) as web:
        # 6. stor's administrator, signed in through stor's own identity, sees stor's
        # settlement (alice's line in it) and no other landlord's.
        web.websso("stor", "admin", stor.admin_password, shot="story-12-stor-sign-in")
        switch_project(web, "landlord-stor")
        assert settlements_in_menu(web)
        web.go("/market/settlements/")
        tables = web.page.locator(".ocx-settlement")
        assert tables.count() == 1, "harvard is enrolled too, and stays hidden"
        assert tables.first.get_attribute("data-landlord") == "stor"
        text = tables.first.inner_text()
        assert customer in text and "block-ssd-lite" in text and "volume.gib_hours:ssd" in text
        web.shot("story-13-stor-settlement")
        assert web.go("/market/settlements/?period=" + time.strftime("%Y-%m")).status == 200


def story_sdk(live: BackgroundExchange) -> Any:
    """openstacksdk as alice at the exchange (K2K from harvard: the same federated user and
    project as her WebSSO session) in region ocx: what the API says happened."""
    import openstack
    from keystoneauth1 import session
    from keystoneauth1.identity import v3

    harvard, market = (live.exchange.landlords[n] for n in ("harvard", "market"))
    home = v3.Password(
        auth_url=harvard.auth_url,
        username="alice",
        password=harvard.demo_passwords["alice"],
        user_domain_id="default",
        project_name="alice-project",
        project_domain_id="default",
    )
    unscoped = session.Session(auth=v3.Keystone2Keystone(home, "market"))
    projects = unscoped.get(market.auth_url + "/auth/projects").json()["projects"]
    project = next(p["id"] for p in projects if p["name"] == "harvard-alice")
    sess = session.Session(auth=v3.Keystone2Keystone(home, "market", project_id=project))
    return openstack.connection.Connection(session=sess, region_name="ocx")


def subscribed_project(web: Browser) -> str:
    """alice's project at the exchange (the customer a settlement names), from the invoice."""
    found = re.search(r"exchange\): (\S+)", web.page.inner_text("#invoice-customer"))
    assert found, "the invoice names its customer"
    return found.group(1)


def switch_project(web: Browser, name: str) -> None:
    """Choose ``name`` in Horizon's project menu (a federated user may hold several)."""
    if web.page.inner_text(".context-project").strip() == name:
        return
    web.page.click(".context-project")
    with web.page.expect_navigation():
        web.page.click(f".dropdown-menu a:has(.dropdown-title:text-is('{name}'))")
    assert web.page.inner_text(".context-project").strip() == name
