"""A real Chromium against the live dashboard: sign-in, the marketplace, subscribe, isolation.

Horizon (started by the dashboard part on the first page) and Chromium are started once for
the module; each test uses its own browser context (its own cookies).
"""

from __future__ import annotations

import os
import re
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from ocx.runner import BackgroundExchange
from tests.dashboard.helpers import Browser, browsing, market_of, publish_block_storage
from tests.exchange.helpers import Market


@pytest.fixture(scope="module")
def market(live: BackgroundExchange) -> Market:
    found = market_of(live.exchange, live)
    publish_block_storage(found)
    return found


def dashboard_url(live: BackgroundExchange) -> str:
    return live.exchange.landlords["market"].url("dashboard")


def password_of(market: Market, user: str) -> str:
    market.customer(user)  # makes the user and its project at the exchange's identity
    return market._users[user]


def test_login_find_cheapest_ssd_and_subscribe(
    live: BackgroundExchange, market: Market, browser: Any, tmp_path: Path
) -> None:
    with browsing(browser, dashboard_url(live), tmp_path) as web:
        web.go("/auth/login/")
        web.shot("login")
        web.login("dora", password_of(market, "dora"))
        web.go("/market/?service_type=volume&capability=ssd&sort=price")
        rows = web.page.locator("#offerings tbody tr")
        names = rows.locator(".ocx-name").all_inner_texts()
        assert names == ["block-ssd-lite", "block-ssd-fast"], "SSD only, cheapest first"
        assert rows.first.locator(".ocx-price").inner_text() == "0.0002 / GiB-hour"
        assert rows.first.locator(".ocx-sla").inner_text() == "0.999"
        assert rows.first.locator(".ocx-capabilities").inner_text() == "ssd"
        web.shot("marketplace")
        web.subscribe(rows.first, "block-ssd-lite", "subscriptions")


def test_a_customer_never_sees_another_customers_subscriptions(
    live: BackgroundExchange, market: Market, browser: Any, tmp_path: Path
) -> None:
    erin = market.customer("erin")
    offering = erin.get("/v1/offerings", service_type="volume", sort="price")["offerings"][0]
    sub = erin.post("/v1/subscriptions", {"offering_id": offering["id"], "plan": "default"})
    with browsing(browser, dashboard_url(live), tmp_path) as web:
        web.login("erin", password_of(market, "erin"))
        web.go("/market/subscriptions/")
        assert sub["subscription"]["id"] in web.page.inner_text("#subscriptions tbody")
    with browsing(browser, dashboard_url(live), tmp_path) as web:
        web.login("frank", password_of(market, "frank"))
        web.go("/market/subscriptions/")
        assert web.page.inner_text("#subscriptions tbody") == "No subscriptions."
        assert sub["subscription"]["id"] not in web.page.content()


def test_logout_ends_the_session(
    live: BackgroundExchange, market: Market, browser: Any, tmp_path: Path
) -> None:
    with browsing(browser, dashboard_url(live), tmp_path) as web:
        web.login("gina", password_of(market, "gina"))
        cookies = web.page.context.cookies()
        # Horizon's "Sign Out" is a POST form in the user menu.
        with web.page.expect_navigation():
            web.page.locator("form[action='/auth/logout/']").evaluate("f => f.requestSubmit()")
        web.page.wait_for_selector("#loginBtn")
    # The old session cookie, replayed, no longer opens a page.
    jar = {c["name"]: c["value"] for c in cookies}
    with httpx.Client(base_url=dashboard_url(live), cookies=jar) as client:
        answer = client.get("/market/subscriptions/")
    assert answer.status_code == 302
    assert httpx.URL(answer.headers["location"]).path == "/auth/login/"


def login_with_form(client: httpx.Client, user: str, password: str) -> None:
    page = client.get("/auth/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert token is not None
    done = client.post(
        "/auth/login/",
        data={
            "csrfmiddlewaretoken": token.group(1),
            "username": user,
            "password": password,
            "region": "0",
            "auth_type": "credentials",
        },
        headers={"Referer": str(client.base_url) + "/auth/login/"},
    )
    assert done.status_code == 302, done.text[:300]


def test_security_headers_and_csrf(live: BackgroundExchange, market: Market) -> None:
    with httpx.Client(base_url=dashboard_url(live), timeout=60) as client:
        page = client.get("/auth/login/")
        assert page.status_code == 200
        csp = page.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
        assert page.headers["x-frame-options"] == "DENY"
        assert page.headers["x-content-type-options"] == "nosniff"
        login_with_form(client, "jill", password_of(market, "jill"))
        offering = market.customer("jill").get("/v1/offerings", service_type="volume")
        # A subscription posted without the CSRF token is refused (Horizon sends the user
        # back to the sign-in page), and nothing is subscribed.
        refused = client.post(
            "/market/",
            data={"offering_id": offering["offerings"][0]["id"]},
            headers={"Referer": dashboard_url(live) + "/market/"},
        )
        assert refused.status_code == 302
        assert refused.headers["location"].startswith("/auth/login/?csrf_failure=")
        assert market.customer("jill").get("/v1/subscriptions")["subscriptions"] == []


def test_no_token_in_any_url(
    live: BackgroundExchange, market: Market, browser: Any, tmp_path: Path
) -> None:
    seen: list[str] = []
    with browsing(browser, dashboard_url(live), tmp_path) as web:
        web.page.on("request", lambda request: seen.append(request.url))
        web.login("hank", password_of(market, "hank"))
        web.go("/market/")
        web.go("/market/subscriptions/")
    token_like = re.compile(r"eyJ[A-Za-z0-9_-]{10,}|token=", re.I)
    assert seen and not [url for url in seen if token_like.search(url)]


def test_pages_answer_within_a_second(
    live: BackgroundExchange, market: Market, browser: Any, tmp_path: Path
) -> None:
    with browsing(browser, dashboard_url(live), tmp_path) as web:
        web.login("ivy", password_of(market, "ivy"))
        web.go("/market/")  # warm this worker's page cache
        visit_within_a_second(web, "/market/", "the marketplace")


def answer_seconds(page: Any) -> float:
    """How long the page's document took to arrive, from the browser's Navigation Timing
    (request sent to the last byte; scripts and images after that are not the server's)."""
    timing = page.evaluate(
        "() => { const n = performance.getEntriesByType('navigation')[0];"
        " return n.responseEnd - n.requestStart; }"
    )
    return float(timing) / 1000


def test_federated_user_signs_in_through_websso_and_subscribes(
    live: BackgroundExchange, market: Market, browser: Any, tmp_path: Path
) -> None:
    alice = live.exchange.landlords["harvard"].demo_passwords["alice"]
    with browsing(browser, dashboard_url(live), tmp_path) as web:
        web.go("/auth/login/")
        web.page.select_option("#id_auth_type", value="harvard_openid")
        web.page.click("#loginBtn")
        # harvard's own sign-in page: the password goes to harvard, never to the exchange.
        web.page.wait_for_selector("input[name=username]")
        assert web.page.url.startswith(live.exchange.landlords["harvard"].identity_url)
        web.shot("websso-harvard")
        web.page.fill("input[name=username]", "alice")
        web.page.fill("input[name=password]", alice)
        web.page.click("button[type=submit]")
        web.page.wait_for_selector("#navbar-collapse")
        assert web.page.url.startswith(dashboard_url(live) + "/market/")
        # Signed in at the exchange, the session is in the exchange's proxy's region: Horizon's
        # own panels are the customer's resources at every landlord that trusts the exchange.
        assert web.go("/project/instances/").status == 200
        assert web.page.inner_text(".context-region").strip() == "ocx"
        assert web.page.locator(".alert-danger:visible").count() == 0
        web.go("/market/?service_type=volume&capability=ssd&sort=price")
        cheapest = web.page.locator("#offerings tbody tr").first
        assert cheapest.locator(".ocx-name").inner_text() == "block-ssd-lite"
        with web.page.expect_navigation():
            cheapest.locator(".ocx-subscribe").click()
        assert "Subscribed to block-ssd-lite" in web.page.inner_text(".messages")
        web.go("/market/subscriptions/")
        assert "block-ssd-lite" in web.page.inner_text("#subscriptions tbody")


def test_websso_refuses_an_untrusted_origin(live: BackgroundExchange) -> None:
    identity = live.exchange.landlords["market"].auth_url
    path = "/auth/OS-FEDERATION/identity_providers/harvard/protocols/openid/websso"
    answer = httpx.get(identity + path, params={"origin": "https://evil.example/auth/websso/"})
    assert answer.status_code == 401
    assert "not a trusted dashboard" in answer.json()["error"]["message"]
    no_state = httpx.get(identity + "/auth/OS-FEDERATION/websso/callback?code=x&state=y")
    assert no_state.status_code == 401


HORIZON_PANELS = {
    "/project/": "Overview",
    "/project/instances/": "Instances",
    "/project/images/": "Images",
    "/project/key_pairs/": "Key Pairs",
    "/project/api_access/": "API Access",
    "/project/containers/": "Containers",
}


@pytest.mark.slow
def test_horizons_own_panels_render_a_landlords_resources(
    live: BackgroundExchange, market: Market, browser: Any, tmp_path: Path
) -> None:
    """alice signs in at harvard (a landlord, until the proxy's region spans them all): Horizon's
    own panels show harvard's compute, images and object storage."""
    harvard = live.exchange.landlords["harvard"]
    alice = harvard.demo_passwords["alice"]
    token = market_of_token(harvard.auth_url, alice)
    object_url = harvard.url("object")
    project = token["project"]
    httpx.put(
        f"{object_url}/v1/AUTH_{project}/alices-notes", headers={"X-Auth-Token": token["id"]}
    ).raise_for_status()
    with browsing(browser, dashboard_url(live), tmp_path, 1024, to_docs=True) as web:
        web.login("alice", alice, region="harvard")
        for path, title in HORIZON_PANELS.items():
            answer = web.go(path)
            assert answer.status == 200, path
            assert title in web.page.inner_text(".page-header"), path
            assert web.page.locator(".alert-danger:visible").count() == 0, path
            web.shot("horizon-" + path.strip("/").replace("/", "-"))
        web.go("/project/containers/")
        web.page.wait_for_selector("text=alices-notes")


def market_of_token(auth_url: str, password: str) -> dict[str, str]:
    """alice's project-scoped token at her landlord, and its project id."""
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {"name": "alice", "domain": {"id": "default"}, "password": password}
                },
            },
            "scope": {"project": {"name": "alice-project", "domain": {"id": "default"}}},
        }
    }
    answer = httpx.post(auth_url + "/auth/tokens", json=body)
    answer.raise_for_status()
    return {
        "id": answer.headers["x-subject-token"],
        "project": answer.json()["token"]["project"]["id"],
    }


PAGES = ("/market/usage/", "/market/invoices/", "/market/", "/market/budget/")
VISITS = 5


@pytest.mark.slow
def test_usage_and_invoice_with_a_thousand_records_answer_within_a_second(
    live: BackgroundExchange, market: Market, browser: Any, tmp_path: Path
) -> None:
    kim = market.customer("kim")
    offering = kim.get("/v1/offerings", service_type="volume", sort="price")["offerings"][0]
    sub = kim.post("/v1/subscriptions", {"offering_id": offering["id"], "plan": "default"})
    began = sub["subscription"]["created_at"]
    time.sleep(max(0.0, began + 2 - time.time()))  # usage must end before now
    records = [
        {
            "record_id": f"kim-{i}",
            "contract_id": sub["subscription"]["id"],
            "resource_id": f"volume-{i}",
            "resource_type": "volume",
            "metric": "volume.gib_hours",
            "unit": "GiB-hour",
            "start": began,
            "end": began + 1,
            "quantity": "10",
        }
        for i in range(1000)
    ]
    market.agent("stor").send_usage(records)
    timings: dict[str, list[float]] = {}
    with browsing(browser, dashboard_url(live), tmp_path) as web:
        web.login("kim", password_of(market, "kim"))
        # Every visit counts, the first included: gunicorn's workers fork from a master that
        # warmed Horizon (ocx/dashboard/horizon/wsgi.py); before, a worker's first page took
        # 2-5 s, and a second visit landing on the other worker took 1.05-1.17 s at load 20.
        for path in PAGES:
            timings[path] = []
            for _ in range(VISITS):
                web.go(path)
                timings[path].append(answer_seconds(web.page))
        web.go("/market/usage/")
        assert "1000 usage records." in web.page.inner_text("#main_content")
        assert web.page.locator("#usage-chart rect.ocx-bar").count() >= 1
        web.shot("usage")
        web.go("/market/invoices/")
        assert "block-hdd" in web.page.inner_text("#invoice-lines")
        assert len(web.page.locator("#invoice-lines tbody tr").all()) == 1, "one line, summed"
        web.shot("invoices")
    print(f"page answer times (s) with 1,000 usage records, load {os.getloadavg()[0]:.1f}:")
    for path, took in timings.items():
        print(f"  {path}: median {statistics.median(took):.3f} max {max(took):.3f} {took}")
    # The usage page reads the month summed at the exchange (GET /v1/usage/summary), not the
    # records one by one: it took 1.5 s with the 1,000 records shipped to Horizon.
    slow = {path: max(took) for path, took in timings.items() if max(took) >= 1.0}
    assert not slow, timings


def test_usage_moves_the_chart_the_invoice_and_the_operators_settlement(
    live: BackgroundExchange, market: Market, browser: Any, tmp_path: Path
) -> None:
    lena = market.customer("lena")
    offering = lena.get("/v1/offerings", service_type="volume", sort="price")["offerings"][0]
    sub = lena.post("/v1/subscriptions", {"offering_id": offering["id"], "plan": "default"})
    began = sub["subscription"]["created_at"]
    time.sleep(max(0.0, began + 2 - time.time()))  # usage must end before now
    usage = [
        {
            "record_id": f"lena-{i}",
            "contract_id": sub["subscription"]["id"],
            "resource_id": f"vol-{i}",
            "resource_type": "volume",
            "metric": "volume.gib_hours",
            "unit": "GiB-hour",
            "start": began,
            "end": began + 1,
            "quantity": "100",
        }
        for i in range(3)
    ]
    with browsing(browser, dashboard_url(live), tmp_path) as web:
        web.login("lena", password_of(market, "lena"))
        web.go("/market/usage/")
        assert web.page.locator("#usage-chart rect.ocx-bar").count() == 0
        market.agent("stor").send_usage(usage)
        web.go("/market/usage/")
        assert web.page.locator("#usage-chart rect.ocx-bar").count() == 1
        assert "3 usage records." in web.page.inner_text("#main_content")
        web.go("/market/invoices/")
        line = web.page.inner_text("#invoice-lines tbody")
        assert "stor" in line and offering["name"] in line and "300" in line
    project = lena.get("/v1/subscriptions")["subscriptions"][0]["customer"]
    with browsing(browser, dashboard_url(live), tmp_path) as web:
        web.login("admin", live.exchange.landlords["market"].admin_password)
        web.go("/market/settlements/")
        table = web.page.locator(".ocx-settlement[data-landlord=stor]")
        assert project in table.inner_text()
        web.shot("settlements")


def test_a_session_starts_in_the_proxys_region(
    live: BackgroundExchange, market: Market, browser: Any, tmp_path: Path
) -> None:
    """alice signs in at harvard, whose catalog has region ocx: her session starts there (not
    in RegionOne, which Horizon's own backend picked). The user's own choice (the
    services_region cookie) and a catalog without the proxy: tests/dashboard/test_regions.py."""
    alice = live.exchange.landlords["harvard"].demo_passwords["alice"]
    with browsing(browser, dashboard_url(live), tmp_path) as web:
        web.login("alice", alice, region="harvard")
        assert web.page.inner_text(".context-region").strip() == "ocx"


def test_budget_cap_warning_and_refusal_toggle(
    live: BackgroundExchange, market: Market, browser: Any, tmp_path: Path
) -> None:
    """A customer sets a monthly cap with refusal at 100 % on the Budget page; the exchange
    holds it; usage past 80 % of it shows the warning."""
    nina = market.customer("nina")
    offering = nina.get("/v1/offerings", service_type="volume", sort="price")["offerings"][0]
    assert offering["prices"][0]["price"] == "0.00005"
    sub = nina.post("/v1/subscriptions", {"offering_id": offering["id"], "plan": "default"})
    began = sub["subscription"]["created_at"]
    with browsing(browser, dashboard_url(live), tmp_path) as web:
        web.login("nina", password_of(market, "nina"))
        web.go("/market/budget/")
        assert "No monthly cap is set" in web.page.inner_text("#budget")
        web.page.fill("#monthly_cap", "1.00")
        web.page.check("#refuse_over")
        with web.page.expect_navigation():
            web.page.click("#save-budget")
        assert "Monthly cap set to 1.00, new use refused at 100 %." in web.page.inner_text(
            ".messages"
        )
        budget = nina.get("/v1/budget")["budget"]
        assert (budget["monthly_cap"], budget["refuse_over"]) == ("1.00", True)
        assert web.page.locator(".ocx-budget-warning").count() == 0
        time.sleep(max(0.0, began + 2 - time.time()))  # usage must end before now
        usage = {
            "record_id": "nina-1",
            "contract_id": sub["subscription"]["id"],
            "resource_id": "vol-1",
            "resource_type": "volume",
            "metric": "volume.gib_hours",
            "unit": "GiB-hour",
            "start": began,
            "end": began + 1,
            "quantity": "17000",  # 0.85 at 0.00005
        }
        market.agent("stor").send_usage([usage])
        web.go("/market/budget/")
        assert web.page.inner_text(".ocx-spent") == "0.85"
        assert web.page.inner_text(".ocx-percent") == "85.0"
        assert "spent 85.0% of this month's cap" in web.page.inner_text(".ocx-budget-warning")
        assert web.page.is_checked("#refuse_over")
        web.shot("budget")


@dataclass
class Fleet:
    """A customer of the exchange, and who they are at a landlord (reached by K2K from the
    exchange's identity, as the exchange's proxy reaches it)."""

    password: str
    conn: Any  # openstacksdk in region ocx, through the exchange's proxy
    user_id: str  # at the landlord
    project_id: str  # at the landlord


def customer_at(live: BackgroundExchange, market: Market, user: str, landlord: str) -> Fleet:
    import openstack
    from keystoneauth1 import session as ks_session
    from keystoneauth1.identity import v3

    password = password_of(market, user)
    exchange = live.exchange
    at_market = v3.Password(
        auth_url=exchange.landlords["market"].auth_url, username=user, password=password,
        user_domain_id="default", project_name=f"{user}-project", project_domain_id="default",
    )  # fmt: skip
    conn = openstack.connection.Connection(
        session=ks_session.Session(auth=at_market), region_name="ocx"
    )
    there = ks_session.Session(auth=v3.Keystone2Keystone(at_market, landlord))
    projects = there.get(exchange.landlords[landlord].auth_url + "/auth/projects").json()
    return Fleet(password, conn, there.get_user_id(), projects["projects"][0]["id"])


def part_service(live: BackgroundExchange, landlord: str, part: str) -> Any:
    run = next(r for r in live.exchange.running if (r.landlord, r.part) == (landlord, part))
    return run.service.service  # type: ignore[attr-defined]


PANEL_VISITS = 7


def visit_within_a_second(web: Browser, path: str, what: str) -> None:
    """The issue's goal for a page: ``PANEL_VISITS`` answer times (the document's, from
    Navigation Timing), printed with the machine's load, and their median under a second.
    The median, not each: the first visit of a sign-in federates to every landlord (1-2 s
    under load), and on two shared cores one visit in several waits for the machine."""
    took: list[float] = []
    for _ in range(PANEL_VISITS):
        assert web.go(path).status == 200
        took.append(answer_seconds(web.page))
    load = os.getloadavg()[0]
    median = statistics.median(took)
    print(f"{what}, load {load:.1f}:")
    print(f"  median {median:.3f} max {max(took):.3f} {took}")
    assert median < 1.0, f"{what}: median {median:.2f}s at load {load:.1f} ({took})"


@pytest.mark.slow
def test_the_instances_panel_with_a_thousand_servers(
    live: BackgroundExchange, market: Market, browser: Any, tmp_path: Path
) -> None:
    """A customer of the exchange with 1,000 servers at harvard (seeded through harvard's
    compute's domain layer, as bench/scale.py seeds its fleets) opens Horizon's Instances
    panel in region ocx, through the exchange's proxy: the page of 20 shows, and the median
    answer is under a second (docs/dashboard.md: 9 s at load 13 before the fixes there)."""
    from ocx.common.auth import Principal
    from ocx.compute.boot import BootRequest

    mia = customer_at(live, market, "mia", "harvard")
    image = mia.conn.image.create_image(
        name="fleet@harvard", data=b"\x02" * 4096, disk_format="raw", container_format="bare"
    )
    who = Principal(
        user_id=mia.user_id, user_name="mia", user_domain_id="", roles=("member",),
        methods=("mapped",), audit_id="", audit_chain_id="", issued_at=0.0,
        expires_at=float("inf"), project_id=mia.project_id,
    )  # fmt: skip
    servers = part_service(live, "harvard", "compute").servers
    req = BootRequest(name="fleet", flavor_ref="1", image_ref=image.id, networks="none")
    assert len(live.call(servers.seed(who, req, 1000))) == 1000
    with browsing(browser, dashboard_url(live), tmp_path) as web:
        web.login("mia", mia.password)
        visit_within_a_second(web, "/project/instances/", "Instances panel with 1,000 servers")
        assert web.page.inner_text(".context-region").strip() == "ocx"
        # Horizon shows a page of API_RESULT_PAGE_SIZE (20), newest first, and a Next link.
        rows = web.page.locator("#instances tbody tr:has(a:has-text('fleet-'))")
        assert rows.count() == 20
        assert "fleet-1000" in rows.first.inner_text()
        assert "harvard" in rows.first.inner_text() and "Active" in rows.first.inner_text()
        assert web.page.locator("a:has-text('Next')").count() >= 1
        web.shot("instances-1000")


@pytest.mark.slow
def test_the_volumes_panel_with_a_thousand_volumes(
    live: BackgroundExchange, market: Market, browser: Any, tmp_path: Path
) -> None:
    """The same with Horizon's Volumes panel: a customer of the exchange with 1,000 volumes
    at stor (seeded through stor's block storage's domain layer), in region ocx: the page of
    20 shows, newest first, in zone stor, and the median answer is under a second."""
    from ocx.volume import volumes
    from ocx.volume.caller import Caller

    nia = customer_at(live, market, "nia", "stor")
    caller = Caller(nia.project_id, nia.user_id)
    stor = part_service(live, "stor", "volume")
    assert len(live.call(volumes.seed(stor, caller, "fleet", 1, 1000))) == 1000
    with browsing(browser, dashboard_url(live), tmp_path) as web:
        web.login("nia", nia.password)
        visit_within_a_second(web, "/project/volumes/", "Volumes panel with 1,000 volumes")
        assert web.page.inner_text(".context-region").strip() == "ocx"
        rows = web.page.locator("#volumes tbody tr:has(a:has-text('fleet-'))")
        assert rows.count() == 20
        assert "fleet-1000" in rows.first.inner_text()
        assert "stor" in rows.first.inner_text() and "Available" in rows.first.inner_text()
        assert web.page.locator("a:has-text('Next')").count() >= 1
        web.shot("volumes-1000")
