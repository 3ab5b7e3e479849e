"""Object-storage test helpers: a live landlord with identity and object storage, customers
with their own projects, and python-swiftclient connections for them."""

from __future__ import annotations

import html
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from swiftclient import client as swift

from ocx.common.db import Database, sqlite_url
from ocx.object.service import MIGRATIONS
from ocx.object.store import Store
from ocx.runner import Exchange
from tests.conftest import ExchangeFactory, cloud_auth
from tests.identity.conftest import Admin

SWIFT_CLI = str(Path(sys.executable).with_name("swift"))


@dataclass
class Customer:
    """A user holding a role on a project of a landlord, and how it reaches its account."""

    name: str
    project_id: str
    user_id: str
    auth_url: str
    password: str

    def connect(self, **kwargs: Any) -> swift.Connection:
        return swift.Connection(
            authurl=self.auth_url,
            user=self.name,
            key=self.password,
            auth_version="3",
            os_options={
                "project_id": self.project_id,
                "user_domain_id": "default",
            },
            retries=0,
            **kwargs,
        )

    def token(self) -> tuple[str, str]:
        """(storage URL, token)."""
        url, token = self.connect().get_auth()
        return str(url), str(token)

    def env(self) -> dict[str, str]:
        """OS_* variables for the ``swift`` and ``openstack`` commands."""
        keep = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "ST_"))}
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
        }

    def swift(
        self, *args: str, cwd: Path | None = None, ok: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Run the ``swift`` command as this customer."""
        done = subprocess.run(
            [SWIFT_CLI, "--auth-version", "3", *args],
            env=self.env(),
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if ok:
            assert done.returncode == 0, done.stderr + done.stdout
        return done


class Landlord:
    """One running landlord with object storage, and its admin for setting up customers."""

    def __init__(self, exchange: Exchange, name: str = "harvard"):
        self.exchange = exchange
        self.name = name
        self.admin = Admin(exchange, name)
        self.object_url = exchange.landlords[name].base_urls["object"]
        self.auth_url = exchange.landlords[name].auth_url

    def customer(self, name: str, role: str = "member", project_id: str | None = None) -> Customer:
        if project_id is None:
            project_id = self.admin.project(name + "-project")["id"]
        user = self.admin.user(name, name + "-pw", project_id)
        self.admin.grant(project_id, user["id"], role)
        return Customer(name, project_id, user["id"], self.auth_url, name + "-pw")

    def account_url(self, project_id: str) -> str:
        return f"{self.object_url}/v1/AUTH_{project_id}"

    def admin_auth(self) -> dict[str, Any]:
        return cloud_auth(self.exchange, self.name)


@pytest.fixture
def landlord(exchange_factory: ExchangeFactory) -> Landlord:
    return Landlord(exchange_factory({"harvard": ["identity", "object"]}))


@pytest.fixture
def alice(landlord: Landlord) -> Customer:
    return landlord.customer("alice")


@pytest.fixture
def alice_conn(alice: Customer) -> Iterator[swift.Connection]:
    conn = alice.connect()
    yield conn
    conn.close()


def raw(method: str, url: str, token: str | None = None, **kwargs: Any) -> requests.Response:
    """One plain HTTP request (for what clients hide: exact statuses and fault texts)."""
    headers = dict(kwargs.pop("headers", {}))
    if token:
        headers["X-Auth-Token"] = token
    return requests.request(method, url, headers=headers, timeout=30, **kwargs)


def swift_fault(title: str, message: str) -> str:
    return f"<html><h1>{title}</h1><p>{html.escape(message, quote=False)}</p></html>"


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    """The object part's metadata store on a fresh SQLite file (tests below HTTP; the storage
    tests of test_storage.py name their own ``store``, the data files)."""
    db = Database(sqlite_url(tmp_path / "object.db"))
    await db.migrate(MIGRATIONS, "alembic_version_object")
    found = Store(db)
    try:
        yield found
    finally:
        found.close()
        await db.dispose()
