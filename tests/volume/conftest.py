"""Block-storage test helpers: a live landlord running identity and volume storage,
customers with projects of their own, openstacksdk connections and raw HTTP for them."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openstack
import pytest
import requests
from openstack.connection import Connection

from ocx.proxy.part import ProxyPart
from ocx.runner import Exchange
from ocx.volume.service import VolumeService
from tests.conftest import ExchangeFactory
from tests.identity.conftest import Admin
from tests.image.helpers import add_part

OPENSTACK = str(Path(sys.executable).with_name("openstack"))
LATEST = "3.67"


@dataclass
class Customer:
    name: str
    project_id: str
    user_id: str
    auth_url: str
    volume_url: str
    password: str
    # RegionOne: the landlord's own volume service; "ocx": the same through its proxy.
    region: str = "RegionOne"

    def connect(self, **kwargs: Any) -> Connection:
        return openstack.connect(
            auth_url=self.auth_url,
            username=self.name,
            password=self.password,
            project_id=self.project_id,
            user_domain_id="default",
            identity_api_version="3",
            **{"region_name": self.region, **kwargs},
        )

    def token(self) -> str:
        conn = self.connect()
        token = str(conn.session.get_token())
        conn.close()
        return token

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

    def openstack(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [OPENSTACK, *args], env=self.env(), capture_output=True, text=True, timeout=120
        )
        if ok:
            assert done.returncode == 0, done.stderr + done.stdout
        return done


class Landlord:
    def __init__(self, exchange: Exchange, name: str = "stor", region: str = "RegionOne"):
        self.exchange = exchange
        self.name = name
        self.region = region
        self.admin = Admin(exchange, name)
        self.auth_url = exchange.landlords[name].auth_url
        self.volume_url = exchange.landlords[name].base_urls["volume"]
        if region == "ocx":  # the same volume service through the landlord's proxy
            add_part(exchange, name, "proxy", ProxyPart.for_landlord)

    @property
    def service(self) -> VolumeService:
        for run in self.exchange.running:
            if run.landlord == self.name and run.part == "volume":
                return run.service.service  # type: ignore[attr-defined,no-any-return]
        raise LookupError("no volume part")

    def customer(self, name: str, role: str = "member") -> Customer:
        project = self.admin.project(name + "-project")
        user = self.admin.user(name, name + "-pw", project["id"])
        self.admin.grant(project["id"], user["id"], role)
        return Customer(
            name,
            project["id"],
            user["id"],
            self.auth_url,
            self.volume_url,
            name + "-pw",
            self.region,
        )

    def add_compute(self, url: str) -> None:
        """List ``url`` as this landlord's compute service (and, in region ocx, its proxy's
        compute: the proxy lists an API where one of its landlords runs it)."""
        entries = [("nova", url, "RegionOne")]
        if self.region == "ocx":
            proxy = self.exchange.landlords[self.name].base_urls["proxy"]
            entries.append(("ocx-nova", proxy + "/compute/v2.1", "ocx"))
        for name, where, region in entries:
            service = self.admin.call(
                "POST", "/services", {"service": {"type": "compute", "name": name}}, ok=201
            )["service"]
            endpoint = {"service_id": service["id"], "interface": "public", "url": where}
            self.admin.call(
                "POST", "/endpoints", {"endpoint": {**endpoint, "region_id": region}}, ok=201
            )

    def admin_customer(self) -> Customer:
        return self.customer("operator", role="admin")

    def run(self, coro: Any) -> Any:
        return self.exchange.background.call(coro)  # type: ignore[attr-defined]


@pytest.fixture
def region() -> str:
    """The region the customers' clients use; the CLI and openstacksdk suites parametrize it
    with ``REGIONS`` (RegionOne, and ocx: through the landlord's proxy)."""
    return "RegionOne"


@pytest.fixture
def stor(exchange_factory: ExchangeFactory, region: str) -> Landlord:
    return Landlord(exchange_factory({"stor": ["identity", "volume"]}), region=region)


@pytest.fixture
def alice(stor: Landlord) -> Customer:
    return stor.customer("alice")


@pytest.fixture
def bob(stor: Landlord) -> Customer:
    return stor.customer("bob")


@pytest.fixture
def alice_conn(alice: Customer) -> Iterator[Connection]:
    conn = alice.connect()
    yield conn
    conn.close()


class Api:
    """Plain HTTP to the volume service as one customer (exact statuses and faults)."""

    def __init__(self, customer: Customer):
        self.base = customer.volume_url + "/v3"
        self.token = customer.token()

    def __call__(
        self, method: str, path: str, json: Any = None, version: str | None = LATEST, **kw: Any
    ) -> requests.Response:
        headers = {"X-Auth-Token": self.token, **kw.pop("headers", {})}
        if version:
            headers["OpenStack-API-Version"] = f"volume {version}"
        return requests.request(
            method, self.base + path, json=json, headers=headers, timeout=60, **kw
        )

    def ok(self, method: str, path: str, json: Any = None, status: int = 200, **kw: Any) -> Any:
        resp = self(method, path, json, **kw)
        assert resp.status_code == status, resp.text
        return resp.json() if resp.content else None

    def volume(self, size: int = 1, **fields: Any) -> dict[str, Any]:
        doc = self.ok("POST", "/volumes", {"volume": {"size": size, **fields}}, status=202)
        return dict(doc["volume"])


def fault(resp: requests.Response, name: str, status: int) -> str:
    """The message of a Cinder fault, after checking its status and name."""
    assert resp.status_code == status, resp.text
    doc = resp.json()
    assert list(doc) == [name], doc
    assert doc[name]["code"] == status
    return str(doc[name]["message"])


@pytest.fixture
def api(alice: Customer) -> Api:
    return Api(alice)
