"""A plan's ``gigabytes`` at an object part, live: stor admits carol (mit, through K2K) on her
subscription and sets her account's quota to the plan's GiB; an upload declaring more is
refused before a byte is stored, one that fits is taken, the quota is the sum over her
subscriptions, and it goes when they end (what is stored stays). Requests and bytes sent
are metered per account and appear, priced, on her invoice."""

from __future__ import annotations

import http.client
import time
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import openstack
import pytest
from openstack import exceptions
from openstack.connection import Connection

from ocx.exchange.client import MarketClient
from tests.conftest import ExchangeFactory
from tests.exchange.live import World, until

GIB = 1024**3
SELLS = {"exchange": "market", "feed_interval": 0.2, "meter_interval": 1.0}
TOPOLOGY: dict[str, Any] = {
    "mit": {"parts": ["identity"], "demo_users": ["carol"]},
    "stor": {
        "parts": ["identity", "object"],
        "trusts": ["mit"],
        "market": {**SELLS, "subscribers_only": True},
    },
    "market": {"parts": ["identity", "exchange"], "trusts": ["mit"]},
}


@pytest.fixture
def world(exchange_factory: ExchangeFactory) -> World:
    return World(exchange_factory(TOPOLOGY))


def _admitted(conn: openstack.connection.Connection) -> None:
    """Until stor's gate has carol's grant (then her container ``docs`` exists)."""

    def made() -> bool:
        try:
            conn.object_store.create_container("docs")
        except exceptions.HttpException as exc:
            assert exc.status_code == 403, str(exc)
            return False
        return True

    until(made)


def _put_declared(endpoint: str, token: str, path: str, length: int) -> tuple[int, str]:
    """A PUT that declares ``length`` bytes and sends none: the answer comes from the checks
    made before the body is read."""
    where = urlsplit(endpoint)
    conn = http.client.HTTPConnection(where.hostname, where.port, timeout=30)
    try:
        conn.putrequest("PUT", where.path.rstrip("/") + path)
        conn.putheader("X-Auth-Token", token)
        conn.putheader("Content-Length", str(length))
        conn.endheaders()
        answer = conn.getresponse()
        return answer.status, answer.read().decode()
    finally:
        conn.close()


def test_a_plans_gigabytes_is_the_customers_account_quota(world: World) -> None:
    lord = world.exchange.landlords["stor"]
    stor = world.agent("stor")
    offering, other = (
        stor.publish(
            1,
            name=name,
            service_type="object-store",
            endpoint=lord.base_urls["object"] + "/v1",
            plans={"small": {"quotas": {"gigabytes": 1}}, "more": {"quotas": {"gigabytes": 2}}},
            prices=[{"metric": "object.gib_hours", "unit": "GiB-hour", "price": "0.0001"}],
        )
        for name in ("objects", "archive")
    )
    assert offering["status"] == other["status"] == "listed", (offering, other)
    carol = world.customer("carol-market-k2k")
    sub = carol.post("/v1/subscriptions", {"offering_id": offering["id"], "plan": "small"})

    conn = world.connect("carol-stor-k2k")
    endpoint = conn.object_store.get_endpoint()
    token = conn.auth_token
    _admitted(conn)
    assert _quota(conn) == str(GIB)

    # Declaring one byte over the plan's GiB: refused before any byte is stored.
    assert _put_declared(endpoint, token, "/docs/big", GIB + 1) == (413, _too_large())
    conn.object_store.upload_object("docs", "small", data=b"x" * 1000)
    assert _put_declared(endpoint, token, "/docs/big", GIB - 999) == (413, _too_large())
    assert [o.name for o in conn.object_store.objects("docs")] == ["small"]

    # A second subscription adds its GiB; cancelling both removes the quota (the gate then
    # refuses new use, and what is stored is kept).
    more = carol.post("/v1/subscriptions", {"offering_id": other["id"], "plan": "more"})
    until(lambda: _touch(conn) and _quota(conn) == str(3 * GIB))
    assert _put_declared(endpoint, token, "/docs/big", 3 * GIB - 999) == (413, _too_large())
    for s in (sub, more):
        carol.delete(f"/v1/subscriptions/{s['subscription']['id']}")
    until(lambda: _quota(conn) is None)
    assert [o.name for o in conn.object_store.objects("docs")] == ["small"]


def _quota(conn: openstack.connection.Connection) -> str | None:
    answer = conn.object_store.head(conn.object_store.get_endpoint())
    return answer.headers.get("X-Account-Meta-Quota-Bytes")


def _touch(conn: openstack.connection.Connection) -> bool:
    """A request that passes the gate (the quota hook runs when the grants changed)."""
    conn.object_store.get_account_metadata()
    return True


def _too_large() -> str:
    return "<html><h1>Request Entity Too Large</h1><p>Upload exceeds quota.</p></html>"


def _subscribed(world: World, prices: list[dict[str, str]]) -> tuple[MarketClient, Connection]:
    """stor sells object storage at ``prices``; carol subscribes and is admitted: her market
    client, and her openstacksdk connection at stor."""
    offering = world.agent("stor").publish(
        1,
        name="objects",
        service_type="object-store",
        endpoint=world.exchange.landlords["stor"].base_urls["object"] + "/v1",
        plans={"default": {"quotas": {"gigabytes": 1}}},
        prices=prices,
    )
    carol = world.customer("carol-market-k2k")
    carol.post("/v1/subscriptions", {"offering_id": offering["id"]})
    conn = world.connect("carol-stor-k2k")
    _admitted(conn)
    return carol, conn


TRAFFIC = [
    {"metric": "requests", "unit": "request", "price": "0.001"},
    {"metric": "gib_out", "unit": "GiB", "price": "2.00"},
]


def test_requests_and_bytes_out_are_metered_to_the_invoice(world: World) -> None:
    held = {"metric": "object.gib_hours", "unit": "GiB-hour", "price": "0.0001"}
    carol, conn = _subscribed(world, [held, *TRAFFIC])
    endpoint, token = conn.object_store.get_endpoint(), conn.auth_token
    mib = 1024**2
    conn.object_store.upload_object("docs", "blob", data=b"x" * mib)
    where = urlsplit(endpoint)
    for _ in range(4):  # four whole downloads: 4 MiB out, four requests
        http_conn = http.client.HTTPConnection(where.hostname, where.port, timeout=30)
        http_conn.request("GET", where.path + "/docs/blob", headers={"X-Auth-Token": token})
        answer = http_conn.getresponse()
        assert (answer.status, len(answer.read())) == (200, mib)
        http_conn.close()
    period = time.strftime("%Y-%m", time.gmtime())

    def lines() -> dict[str, Any] | None:
        found = {ln["metric"]: ln for ln in carol.get(f"/v1/invoices/{period}")["invoice"]["lines"]}
        out = found.get("gib_out")
        return found if out and Decimal(out["quantity"]) >= Decimal(4 * mib) / GIB else None

    found = until(lines)
    out, requests = found["gib_out"], found["requests"]
    # At least the 4 MiB of the downloads; the other answers (listings, errors) are small.
    assert Decimal(4 * mib) / GIB <= Decimal(out["quantity"]) < Decimal(4 * mib + 65536) / GIB
    assert Decimal(out["cost"]) == (Decimal(out["quantity"]) * 2).quantize(Decimal(out["cost"]))
    # The four downloads at least (their bytes are billed, above), and a few more: the container,
    # the upload, the SDK's own. Not always all of those: an interval the meter saw stall under
    # heavy load is dropped, not billed (common/metering.py), and the admission probe's PUT
    # and the upload can fall in one (5 here once, at load 17).
    assert 4 <= Decimal(requests["quantity"]) < 40
    assert requests["unit_price"].startswith("0.001") and out["landlord"] == "stor"


def test_a_restart_bills_the_traffic_of_the_open_interval(
    exchange_factory: ExchangeFactory,
) -> None:
    # An hour between samples: within the test only the part's stop samples its traffic.
    slow = {**TOPOLOGY["stor"], "market": {**TOPOLOGY["stor"]["market"], "meter_interval": 3600}}
    world = World(exchange_factory({**TOPOLOGY, "stor": slow}))
    carol, conn = _subscribed(world, TRAFFIC)
    mib = 1024**2
    conn.object_store.upload_object("docs", "blob", data=b"x" * mib)
    for _ in range(3):
        assert len(conn.object_store.download_object("blob", container="docs")) == mib
    period = time.strftime("%Y-%m", time.gmtime())

    def billed() -> dict[str, Any]:
        lines = carol.get(f"/v1/invoices/{period}")["invoice"]["lines"]
        return {ln["metric"]: Decimal(ln["quantity"]) for ln in lines}

    assert billed() == {}  # no sample yet
    world.restart("stor", "object")

    # The stop sent the open interval: the three downloads' bytes, and every request.
    found = billed()
    assert Decimal(3 * mib) / GIB <= found["gib_out"] < Decimal(3 * mib + 65536) / GIB
    assert 5 <= found["requests"] < 40
    # The new part serves the same data (once its gate has read the grant feed), and starts
    # counting afresh: nothing is billed twice.

    def served() -> bool:
        try:
            return len(conn.object_store.download_object("blob", container="docs")) == mib
        except exceptions.ForbiddenException:
            return False

    until(served)
    assert billed() == found
