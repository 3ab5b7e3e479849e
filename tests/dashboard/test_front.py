"""The dashboard part's front without Horizon: health, security headers, a clear 503."""

from __future__ import annotations

from pathlib import Path

import httpx

from ocx.dashboard import front
from ocx.dashboard.horizon_process import HorizonProcess
from ocx.dashboard.settings import DashboardSettings


def app_without_horizon(tmp_path: Path) -> httpx.AsyncClient:
    settings = DashboardSettings(
        landlord="market",
        public_url="http://testserver",
        data_dir=tmp_path,
        keystone_url="http://127.0.0.1:9/v3",
        secret_key="k",
        horizon_venv=tmp_path / "no-such-venv",
    )
    horizon = HorizonProcess(settings)
    app = front.build(horizon, front.Relay(horizon), "http://127.0.0.1:9")
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


async def test_health_answers_without_horizon(tmp_path: Path) -> None:
    async with app_without_horizon(tmp_path) as client:
        answer = await client.get("/healthz")
    assert answer.status_code == 200
    assert answer.json()["service"] == "dashboard"
    assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]


async def test_pages_say_how_to_install_horizon(tmp_path: Path) -> None:
    async with app_without_horizon(tmp_path) as client:
        answer = await client.get("/auth/login/")
    assert answer.status_code == 503
    assert "scripts/install-horizon.sh" in answer.text
    assert answer.headers["x-frame-options"] == "DENY"
    assert "form-action 'self' http://127.0.0.1:9" in answer.headers["content-security-policy"]
