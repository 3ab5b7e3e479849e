"""A dashboard session ends when its token expires: identity here issues one-minute tokens."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from ocx.runner import BackgroundExchange
from tests.conftest import make_topology
from tests.dashboard.helpers import browsing, need_browser_and_horizon

TTL = 60  # the shortest token lifetime a topology may set
SHORT = {"market": {"parts": ["identity", "exchange", "dashboard"]}}


@pytest.fixture(scope="module")
def short_lived(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackgroundExchange]:
    need_browser_and_horizon()
    topology = make_topology(SHORT, token_ttl=TTL)
    background = BackgroundExchange(topology, tmp_path_factory.mktemp("expiry"))
    with background:
        yield background


def admin_token_expiry(live: BackgroundExchange) -> float:
    market = live.exchange.landlords["market"]
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {
                        "name": "admin",
                        "domain": {"id": "default"},
                        "password": market.admin_password,
                    }
                },
            }
        }
    }
    answer = httpx.post(market.auth_url + "/auth/tokens", json=body)
    answer.raise_for_status()
    expires = answer.json()["token"]["expires_at"].replace("Z", "+00:00")
    return datetime.fromisoformat(expires).timestamp()


@pytest.mark.slow
def test_the_session_ends_when_the_token_expires(
    short_lived: BackgroundExchange, browser: Any, tmp_path: Path
) -> None:
    market = short_lived.exchange.landlords["market"]
    assert admin_token_expiry(short_lived) - time.time() <= TTL
    with browsing(browser, market.url("dashboard"), tmp_path) as web:
        web.go("/auth/login/")
        web.page.fill("#id_username", "admin")
        web.page.fill("#id_password", market.admin_password)
        web.page.click("#loginBtn")
        web.page.wait_for_selector("#navbar-collapse")
        signed_in = time.time()
        web.go("/market/")
        assert web.page.url.endswith("/market/")
        time.sleep(max(0.0, signed_in + TTL + 2 - time.time()))
        web.go("/market/subscriptions/")
        assert "/auth/login/" in web.page.url
        web.page.wait_for_selector("#loginBtn")
