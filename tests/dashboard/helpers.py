"""A live exchange with the dashboard, its parties, and a real Chromium to drive it."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ocx.dashboard.settings import default_horizon_venv
from ocx.exchange.client import LandlordAgent
from ocx.runner import BackgroundExchange, Exchange
from tests.exchange.helpers import Market

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "dashboard"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# As in the default topology: the exchange operator runs the proxy too (region ocx in its
# catalog, the dashboard's default region), and the landlords trust its identity for its
# customers; harvard's proxy serves harvard's own users signing in at harvard.
TOPOLOGY: dict[str, Any] = {
    "harvard": {
        # harvard runs block storage as in the default topology: the proxy answers a version
        # document asked without a token (cinderclient asks so) from its home landlord's.
        "parts": ["identity", "object", "proxy", "image", "compute", "volume"],
        "demo_users": ["alice"],
        "trusts": ["market"],
    },
    "stor": {"parts": ["identity", "object", "volume"], "trusts": ["harvard", "market"]},
    "market": {
        "parts": ["identity", "exchange", "proxy", "dashboard"],
        "trusts": ["harvard"],
        "options": {"proxy": {"placement": "first"}},
    },
}


def need_browser_and_horizon() -> None:
    """Skip (saying how to fix it) where Chromium, Playwright or Horizon's venv is missing."""
    pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (Debian package chromium)")
    if not (default_horizon_venv() / "bin" / "gunicorn").exists():
        pytest.skip("Horizon is not installed: bash scripts/install-horizon.sh")


def market_of(exchange: Exchange, background: BackgroundExchange) -> Market:
    """The exchange tests' Market helper over the exchange part this topology runs."""
    run = next(r for r in exchange.running if r.part == "exchange")
    service = run.service.service  # type: ignore[attr-defined]
    return Market(exchange, background, service, run.url)


def publish_block_storage(market: Market, ssd_metric: str = "volume.gib_hours") -> LandlordAgent:
    """stor enrols and sells two kinds of block storage, SSD the dearer per GiB-hour (the SSD
    offerings priced by ``ssd_metric``: ``volume.gib_hours:ssd`` is what stor's meter sends
    for its ``ssd`` volume type)."""
    agent = market.enrol("stor", owner="Stor Ltd")
    endpoint = market.landlords.landlords["stor"].base_urls["volume"] + "/v3"
    common = {
        "service_type": "volume",
        "region": "RegionOne",
        "endpoint": endpoint,
        "plans": {"default": {"quotas": {"gigabytes": 100}}},
    }
    for version, (name, price, caps, sla) in enumerate(
        [
            ("block-ssd-fast", "0.00030", ["ssd"], "0.9995"),
            ("block-ssd-lite", "0.00020", ["ssd"], "0.999"),
            ("block-hdd", "0.00005", [], "0.99"),
        ],
        start=1,
    ):
        agent.publish(
            version,
            name=name,
            sla={"availability": sla},
            capabilities=caps,
            prices=[
                {
                    "metric": ssd_metric if caps else "volume.gib_hours",
                    "unit": "GiB-hour",
                    "price": price,
                }
            ],
            **common,
        )
    return agent


@dataclass
class Browser:
    """One Chromium context (its own cookies) on the dashboard, saving screenshots."""

    page: Any
    base: str
    shots: Path
    to_docs: bool = False  # the story's and Horizon's panels' shots are docs/dashboard.md's

    def go(self, path: str) -> Any:
        return self.page.goto(self.base + path)

    def login(self, user: str, password: str, region: str = "market") -> None:
        self.go("/auth/login/")
        self.page.select_option("#id_region", label=region)
        self.page.fill("#id_username", user)
        self.page.fill("#id_password", password)
        self.page.click("#loginBtn")
        self.page.wait_for_selector("#navbar-collapse")

    def websso(self, idp: str, user: str, password: str, shot: str | None = None) -> None:
        """ "Sign in with <idp>": the browser goes through the exchange's identity to the
        IdP's own sign-in page (``shot`` names its screenshot), and comes back signed in."""
        self.go("/auth/login/")
        self.page.select_option("#id_auth_type", value=f"{idp}_openid")
        self.page.click("#loginBtn")
        self.page.wait_for_selector("input[name=username]")
        if shot:
            self.shot(shot)
        self.page.fill("input[name=username]", user)
        self.page.fill("input[name=password]", password)
        self.page.click("button[type=submit]")
        self.page.wait_for_selector("#navbar-collapse")

    def subscribe(self, row: Any, offering: str, shot: str) -> None:
        """Subscribe from a marketplace row; the subscriptions page then lists ``offering``
        first, active (its screenshot named ``shot``)."""
        with self.page.expect_navigation():
            row.locator(".ocx-subscribe").click()
        assert f"Subscribed to {offering}" in self.page.inner_text(".messages")
        self.go("/market/subscriptions/")
        listed = self.page.locator("#subscriptions tbody tr").first
        assert listed.locator(".ocx-offering").inner_text() == offering
        assert listed.locator(".ocx-status").inner_text() == "active"
        self.shot(shot)

    def shot(self, name: str) -> None:
        """Saved with the test's files (``OCX_TEST_ARTIFACTS``/<test> when set, else the
        test's own tmp_path), and in docs/dashboard (the tests that show a page there) when
        OCX_DASHBOARD_SHOTS=1."""
        path = self.shots / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        if self.to_docs and os.environ.get("OCX_DASHBOARD_SHOTS") == "1":
            DOCS.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, DOCS / path.name)


def artifacts(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """Where a test's screenshots go: ``$OCX_TEST_ARTIFACTS/<test name>`` (CI collects that
    directory), else the test's tmp_path (pytest keeps the last three runs' tmp dirs)."""
    root = os.environ.get("OCX_TEST_ARTIFACTS")
    if not root:
        return tmp_path
    found = Path(root) / request.node.name
    found.mkdir(parents=True, exist_ok=True)
    return found


@contextmanager
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def browsing(
    browser: Any, base: str, shots: Path, width: int = 1400, to_docs: bool = False
) -> Iterator[Browser]:
    context = browser.new_context(viewport={"width": width, "height": 900})
    context.set_default_timeout(90_000)
    web = Browser(context.new_page(), base, shots, to_docs)
    try:
        yield web
    except BaseException:
        web.page.screenshot(path=str(shots / "failed.png"), full_page=True)  # what it showed
        raise
    finally:
        context.close()
