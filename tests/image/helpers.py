"""Image (and compute) test helpers: a live landlord running a part, its customers, and the
real clients (openstacksdk, the ``openstack`` CLI) set up as them.

Until the table of parts lands, a part is started next to a running identity-only exchange:
bound on an ephemeral port, served on the exchange's loop, stopped with it, and put in the
landlord's catalog.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import openstack
import pytest
import requests

from ocx import parts
from ocx.common.serving import bind
from ocx.identity import catalog
from ocx.landlord import Landlord, Part
from ocx.runner import Exchange, Running, _until_healthy
from tests.conftest import ExchangeFactory
from tests.identity.conftest import Admin

OPENSTACK = str(Path(sys.executable).with_name("openstack"))

CATALOG = {
    "image": [("image", "glance")],
    "compute": [("compute", "nova")],
    "volume": [("block-storage", "cinder"), ("volumev3", "cinderv3")],
}
CATALOG_PATHS = {"volume": "/v3"}


def add_part(
    exchange: Exchange, landlord: str, part: str, build: Callable[[Landlord], Part]
) -> str:
    """Start ``part`` of ``landlord`` in the running exchange; its URL."""

    async def start() -> str:
        owner = exchange.landlords[landlord]
        sock = bind(exchange.topology.exchange.host, 0)
        url = f"http://{exchange.topology.exchange.host}:{sock.getsockname()[1]}"
        owner.base_urls[part] = url
        service = build(owner)
        await service.start()
        run = Running(landlord, part, url, service, exchange._server(service.app), sock)
        exchange.running.append(run)
        exchange._serving.append(asyncio.create_task(run.server.serve(sockets=[sock])))
        async with httpx.AsyncClient(timeout=2.0) as client:
            await _until_healthy(client, url + "/healthz", 30)
        identity = next(
            r.service for r in exchange.running if r.landlord == landlord and r.part == "identity"
        )
        region = exchange.topology.exchange.region
        entries = [(kind, name, url + CATALOG_PATHS.get(part, ""), region)
                   for kind, name in CATALOG.get(part, [])]  # fmt: skip
        if part == "proxy":  # region ocx: what the proxy serves, and the landlord's identity
            served = _proxy_catalog(exchange, owner)
            entries = [(c.type, c.name, (owner.auth_url if c.part == "identity" else url +
                        (c.path or "")), c.region or region) for c in served]  # fmt: skip
        async with identity.service.db.session() as session:  # type: ignore[attr-defined]
            for kind, name, where, in_region in entries:
                await catalog.register(session, type=kind, name=name, url=where, region=in_region)
        return url

    result: str = exchange.background.call(start())  # type: ignore[attr-defined]
    return result


def _proxy_catalog(exchange: Exchange, owner: Landlord) -> list[parts.Catalog]:
    """Region ocx's entries but Swift's: those some landlord the proxy's customers reach runs
    (as :meth:`ocx.landlord.Landlord.reachable_parts`, with the parts started here too)."""
    lords = exchange.topology.landlords
    reached = {lord.name for lord in lords if lord.name == owner.name or owner.name in lord.trusts}
    running = {r.part for r in exchange.running if r.landlord in reached}
    return [
        c
        for c in parts.spec("proxy").catalog
        if c.type != "object-store" and (c.needs is None or c.needs in running)
    ]


@dataclass
class User:
    name: str
    project_id: str
    user_id: str
    auth_url: str
    # RegionOne: the landlord's own services; "ocx": the same through its proxy.
    region: str = "RegionOne"

    @property
    def password(self) -> str:
        return self.name + "-pw"

    def connect(self) -> openstack.connection.Connection:
        return openstack.connect(
            auth_url=self.auth_url,
            username=self.name,
            password=self.password,
            user_domain_id="default",
            project_id=self.project_id,
            region_name=self.region,
            identity_api_version="3",
        )

    def env(self) -> dict[str, str]:
        keep = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
        return {
            **keep,
            "OS_AUTH_URL": self.auth_url,
            "OS_USERNAME": self.name,
            "OS_PASSWORD": self.password,
            "OS_PROJECT_ID": self.project_id,
            "OS_USER_DOMAIN_ID": "default",
            "OS_IDENTITY_API_VERSION": "3",
            "OS_AUTH_TYPE": "password",
            "OS_INTERFACE": "public",
            "OS_REGION_NAME": self.region,
        }

    def cli(self, *args: str, ok: bool = True, cwd: Path | None = None) -> Any:
        """Run ``openstack ARGS -f json`` (or without -f when it prints nothing) as this user."""
        done = subprocess.run(
            [OPENSTACK, *args],
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=180,
            cwd=cwd,
        )
        if ok:
            assert done.returncode == 0, done.stderr + done.stdout
        else:
            assert done.returncode != 0, done.stdout
            return done.stderr
        if "json" not in args:
            return done.stdout
        return json.loads(done.stdout)

    def token(self) -> str:
        return str(self.connect().auth_token)


class Cloud:
    """One landlord running identity and the given parts, and the users made there."""

    def __init__(
        self,
        exchange: Exchange,
        name: str,
        parts: dict[str, Callable[[Landlord], Part]],
        region: str = "RegionOne",
    ):
        self.exchange = exchange
        self.name = name
        self.region = region
        self.admin = Admin(exchange, name)
        self.urls = {part: add_part(exchange, name, part, b) for part, b in parts.items()}
        if region == "ocx":  # the same services through the landlord's proxy (region ocx)
            self.urls["proxy"] = add_part(exchange, name, "proxy", self._proxy)

    def _proxy(self, owner: Landlord) -> Part:
        from ocx.proxy.part import ProxyPart, settings_for
        from ocx.proxy.service import ProxyService

        # The parts started here are not in the topology: the proxy is told their URLs (for
        # version documents asked for without a token).
        paths = {"compute": "/v2.1", "block-storage": "/v3"}
        kinds = {"image": "image", "compute": "compute", "volume": "block-storage"}
        home = {kinds[p]: u + paths.get(kinds[p], "") for p, u in self.urls.items() if p in kinds}
        settings = settings_for(owner).model_copy(update={"home_endpoints": home})
        return ProxyPart(ProxyService(settings))

    def user(self, name: str, role: str = "member") -> User:
        project, user = self.admin.customer(name, role)
        return User(name, project["id"], user["id"], self.admin.url, self.region)

    def admin_user(self) -> User:
        return self.user("root-" + str(len(self.exchange.running)), role="admin")


def start_cloud(
    exchange_factory: ExchangeFactory,
    parts: dict[str, Callable[[Landlord], Part]],
    name: str = "harvard",
    region: str = "RegionOne",
) -> Cloud:
    return Cloud(exchange_factory({name: ["identity"]}), name, parts, region)


# The region the compute and image suites run in: the landlord's own, and (slow, since it
# doubles the suites) the same landlord through its proxy, region ocx (issue 14).
REGIONS = ["RegionOne", pytest.param("ocx", marks=pytest.mark.slow)]


def raw(method: str, url: str, token: str | None = None, **kwargs: Any) -> requests.Response:
    """One plain HTTP request (for what clients hide: exact statuses and fault texts)."""
    headers = dict(kwargs.pop("headers", {}))
    if token:
        headers["X-Auth-Token"] = token
    return requests.request(method, url, headers=headers, timeout=60, **kwargs)
