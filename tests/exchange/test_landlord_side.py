"""The landlord's side, live: stor's block storage admits subscribers only, with their plan's
quotas, meters what they hold and sends it signed to the exchange, which invoices it;
harvard's compute admits lessees with their lease's quota and stops their servers when the
lease (and its grace) is over. Customers are mit's carol and harvard's alice, through K2K,
with openstacksdk; the exchange runs in the topology (market)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from openstack import exceptions

from ocx import topology
from ocx.common import errors, jws, metering
from ocx.common.auth import Principal, shadow_user_id
from ocx.common.market import TYP_GRANT, TYP_USAGE, Gate, Grant, GrantBook, MarketLink
from ocx.common.metering import Holding, Meter
from tests.conftest import ExchangeFactory
from tests.exchange.live import World, until

SELLS = {"exchange": "market", "feed_interval": 0.2, "meter_interval": 1.0}
TOPOLOGY: dict[str, Any] = {
    "mit": {"parts": ["identity"], "demo_users": ["carol"]},
    "harvard": {
        "parts": ["identity", "image", "compute"],
        "demo_users": ["alice"],
        "trusts": ["mit"],
        "market": {**SELLS, "subscribers_only": True},
    },
    "stor": {
        "parts": ["identity", "volume"],
        "trusts": ["mit"],
        "market": {**SELLS, "subscribers_only": True},
    },
    "market": {"parts": ["identity", "exchange"], "trusts": ["mit"]},
}
NOT_SUBSCRIBED = (
    "stor admits subscribers only: subscribe to one of its volume offerings at the "
    "exchange 'market' first."
)


@pytest.fixture
def world(exchange_factory: ExchangeFactory) -> World:
    return World(exchange_factory(TOPOLOGY))


def _refused(call: Callable[[], Any]) -> str:
    with pytest.raises(exceptions.HttpException) as err:
        call()
    assert err.value.status_code == 403, str(err.value)
    return str(err.value)


def test_block_storage_admits_subscribers_meters_and_bills(world: World) -> None:
    stor = world.agent("stor")
    carol_stor = world.connect("carol-stor-k2k")
    refused = _refused(lambda: carol_stor.block_storage.create_volume(size=1, volume_type="ssd"))
    assert NOT_SUBSCRIBED in refused
    offering = stor.publish(
        1,
        name="ssd-volumes",
        service_type="volume",
        endpoint=world.exchange.landlords["stor"].base_urls["volume"] + "/v3",
        plans={"ssd": {"quotas": {"gigabytes": 3, "volumes": 2}}},
        prices=[{"metric": "volume.gib_hours:ssd", "unit": "GiB-hour", "price": "0.5"}],
    )
    assert offering["status"] == "listed", offering
    carol = world.customer("carol-market-k2k")
    sub = carol.post("/v1/subscriptions", {"offering_id": offering["id"], "plan": "ssd"})
    sub_id = sub["subscription"]["id"]

    def created() -> Any:
        try:
            return carol_stor.block_storage.create_volume(size=2, volume_type="ssd", name="d")
        except exceptions.HttpException as exc:
            assert NOT_SUBSCRIBED in str(exc)
            return None

    volume = until(created)
    with pytest.raises(exceptions.HttpException) as err:  # the plan's 3 GiB
        carol_stor.block_storage.create_volume(size=2, volume_type="ssd")
    assert err.value.status_code == 413
    assert "quota is 3G and 2G has been consumed" in str(err.value)

    # Metering: stor's volume part sends signed usage; carol's invoice shows it, rated.
    period = time.strftime("%Y-%m", time.gmtime())

    def billed() -> Any:
        lines = carol.get(f"/v1/invoices/{period}")["invoice"]["lines"]
        return [ln for ln in lines if ln["metric"] == "volume.gib_hours:ssd"]

    line = until(billed)[0]
    assert line["landlord"] == "stor" and line["unit_price"] == "0.50"
    assert float(line["quantity"]) > 0
    gate = world.gate("stor", "volume")
    meter = next(t.__self__ for t in gate.ticks if isinstance(t.__self__, Meter))  # type: ignore[attr-defined]
    assert meter.sent > 0
    records = meter.records(world.call(meter.holdings()), time.time() - 1, time.time())
    assert [r["contract_id"] for r in records] == [sub_id]
    first = world.call(_send(gate, records))
    # Counted once, whoever sent it first: when the window reaches back to the grant's start, the
    # meter's own round may already have sent a record of the same id (seen in whole-suite runs).
    assert first.status_code == 200
    assert first.json()["accepted"] + first.json()["duplicates"] == 1
    again = world.call(_send(gate, records))  # the same records again count once
    assert (again.json()["accepted"], again.json()["duplicates"]) == (0, 1)
    tampered = world.call(_send(gate, records, tamper=True))
    assert tampered.status_code == 403
    assert tampered.json()["error"]["message"].startswith(
        "The signature of the statement does not verify"
    )

    # Cancelled: no new use at stor within the feed interval; reading and deleting still work.
    carol.delete(f"/v1/subscriptions/{sub_id}")
    ended = f"Subscription {sub_id} is cancelled at stor: no new use."

    def stopped() -> str | None:
        try:  # until the gate has the cancellation, this may pass or hit the plan's quota
            carol_stor.block_storage.create_volume(size=1, volume_type="ssd")
        except exceptions.HttpException as exc:
            return str(exc) if exc.status_code == 403 else None
        return None

    assert ended in until(stopped)
    held = [v.id for v in carol_stor.block_storage.volumes()]
    assert volume.id in held
    for volume_id in held:
        carol_stor.block_storage.delete_volume(volume_id)


def test_grants_forged_foreign_or_malformed_are_refused(world: World) -> None:
    world.agent("stor")
    gate = world.gate("stor", "volume")
    running = world.exchange.running
    exchange = next(r for r in running if r.part == "exchange").service
    signer = exchange.service.market  # type: ignore[attr-defined]
    claims = {"kind": "subscription", "id": "sub-x", "status": "active", "aud": "stor"}
    forged = jws.sign(claims, Ed25519PrivateKey.generate(), signer.kid, TYP_GRANT)
    foreign = signer.sign({**claims, "aud": "mit"})
    as_usage = signer.sign(claims, TYP_USAGE)
    malformed = signer.sign({"kind": "lease", "aud": "stor"})
    expected = [
        (forged, "token signature is invalid"),
        (foreign, "the grant is for 'mit', not 'stor'"),
        (as_usage, "a 'ocx-market-usage+jwt' token is not accepted here"),
    ]
    for statement, message in expected:
        with pytest.raises(jws.JWSError) as err:
            world.call(gate.verify(statement))
        assert str(err.value) == message
    with pytest.raises(jws.JWSError) as err:
        gate.book.add(world.call(gate.verify(malformed)))
    assert str(err.value) == "the grant's claims are malformed: 'id'"
    good = world.call(gate.verify(signer.sign(claims)))
    assert good["id"] == "sub-x"


def test_the_gate_checks_with_a_token_what_the_landlord_advertises(world: World) -> None:
    stor = world.agent("stor")
    lord = world.exchange.landlords["stor"]
    _http, credential = world.probe(stor)
    volume_url = lord.base_urls["volume"] + "/v3"
    doc = {
        "service_type": "volume",
        "endpoint": volume_url,
        "prices": [{"metric": "volume.gib_hours:ssd", "unit": "GiB-hour", "price": "0.1"}],
    }
    ssd = stor.publish(1, name="ssd", capabilities=["ssd"], **doc)
    assert (ssd["status"], ssd["capabilities_checked"]) == ("listed", ["ssd"])
    assert "with its volume types" in ssd["status_reason"]
    nvme = stor.publish(1, name="nvme", capabilities=["ssd", "nvme"], **doc)
    assert nvme["status"] == "delisted"
    assert nvme["status_reason"] == ("claimed capabilities not offered: nvme (no such volume type)")
    elsewhere = {**doc, "endpoint": "http://127.0.0.1:9/v3"}
    stray = stor.publish(1, name="stray", **elsewhere)
    assert stray["status"] == "delisted"
    # (the endpoint does not answer: the first check says so before any token is used)
    assert "did not answer" in stray["status_reason"]
    other = {**doc, "endpoint": lord.base_urls["identity"] + "/v3"}
    unlisted = stor.publish(1, name="unlisted", **other)
    assert unlisted["status_reason"] == (
        f"the landlord's catalog lists no volume at {lord.base_urls['identity']}/v3"
    )
    wrong = stor.set_probe_credential(credential["id"], "not-the-secret")
    assert wrong["probe_credential"] == {"id": credential["id"]}
    again = stor.publish(2, name="ssd", capabilities=["ssd"], **doc)
    assert again["status_reason"] == "the probe credential is refused by the landlord (401)"


def test_compute_lease_raises_quota_then_stops_at_expiry(world: World, tmp_path: Path) -> None:
    harvard = world.agent("harvard")
    now = time.time()
    offer = harvard.offer(
        name="spare",
        resource_type="compute",
        capacity={"vcpus": 8, "ram_gib": 16},
        prices={"vcpu_hours": "0.01"},
        start=now,
        end=now + 3600,
        grace_seconds=2,
    )
    carol_h = world.connect("carol-harvard-k2k")
    source = tmp_path / "disk.raw"
    source.write_bytes(b"\0" * 4096)
    refused = _refused(lambda: carol_h.compute.create_server(name="x", flavor_id="1", image_id="x"))
    assert "harvard admits subscribers only" in refused
    carol = world.customer("carol-market-k2k")
    lease = carol.post(
        "/v1/leases",
        {"offer_id": offer["id"], "amounts": {"vcpus": 2, "ram_gib": 2}, "end": time.time() + 25},
    )["lease"]

    def booted() -> Any:
        try:
            image = carol_h.image.create_image("disk", filename=str(source), disk_format="raw")
        except exceptions.HttpException:
            return None
        return image

    image = until(booted)

    def server(name: str) -> Any:
        return carol_h.compute.create_server(
            name=name, flavor_id="1", image_id=image.id, networks="none"
        )

    def admitted() -> Any:
        # harvard's compute pulls the exchange's feed on its own, maybe after its images did
        try:
            return server("s0")
        except exceptions.ForbiddenException:
            return None

    servers = [until(admitted), server("s1")]
    with pytest.raises(exceptions.HttpException) as err:  # 2 vCPUs leased, 2 used
        carol_h.compute.create_server(name="s3", flavor_id="1", image_id=image.id, networks="none")
    assert "Quota exceeded for cores" in str(err.value)
    for server in servers:
        carol_h.compute.wait_for_server(server, status="ACTIVE", wait=60)

    # At the lease's end plus its grace, the servers are stopped, never deleted.
    def all_stopped() -> bool:
        states = [s.status for s in carol_h.compute.servers()]
        return len(states) == 2 and set(states) == {"SHUTOFF"}

    until(all_stopped, timeout=60)
    expired = _refused(
        lambda: carol_h.compute.create_server(
            name="late", flavor_id="1", image_id=image.id, networks="none"
        )
    )
    assert f"Lease {lease['id']} has ended (" in expired
    assert "grace over) at harvard: no new use." in expired


async def _send(gate: Gate, records: list[dict[str, Any]], tamper: bool = False) -> Any:
    statement = await gate.signer.sign(TYP_USAGE, {"records": records})
    if tamper:
        head, payload, sig = statement.split(".")
        doc = json.loads(jws.b64url_decode(payload))
        doc["records"][0]["quantity"] = "9" + doc["records"][0]["quantity"]
        statement = ".".join((head, jws.b64url(json.dumps(doc).encode()), sig))
    return await gate.http.post(gate.link.exchange_url + "/v1/usage", json={"statement": statement})


def test_a_landlord_sells_only_on_a_landlord_running_the_exchange() -> None:
    text = """
[exchange]
base_port = 0
[[landlords]]
name = "stor"
market = { exchange = "mit"%s }
[[landlords]]
name = "mit"
"""
    with pytest.raises(topology.TopologyError) as err:
        topology.parse(text % "")
    assert str(err.value) == (
        "topology: stor sells on 'mit', which is no landlord running the exchange "
        "part (name one, or give market.url)"
    )
    found = topology.parse(text % ', url = "http://127.0.0.1:9"').landlords[0].market
    assert found is not None and found.url == "http://127.0.0.1:9"


def test_a_lease_grant_is_live_in_its_window_and_grace_only() -> None:
    claims = {
        "kind": "lease", "id": "lease-1", "status": "active", "user_id": "u",
        "service_type": "compute", "amounts": {"vcpus": 2}, "start": 100.0, "end": 200.0,
        "grace_seconds": 30,
    }  # fmt: skip
    lease = Grant.of(claims)
    assert [lease.live(t) for t in (99.0, 100.0, 229.0, 230.0)] == [False, True, True, False]
    assert not Grant.of({**claims, "status": "deleted"}).live(150.0)
    cancelled = {**claims, "kind": "subscription", "status": "cancelled", "quotas": {}}
    assert not Grant.of(cancelled).live(150.0)


def _principal(federated: bool) -> Principal:
    claims = {"OS-FEDERATION": {"identity_provider": {"id": "mit"}}} if federated else {}
    return Principal(
        user_id="u1", user_name="carol", user_domain_id="d", roles=("member",), methods=(),
        audit_id="a", audit_chain_id="a", issued_at=0.0, expires_at=0.0, project_id="p1",
        claims=claims,
    )  # fmt: skip


async def test_the_gate_answers_by_grant_without_a_network() -> None:
    link = MarketLink("stor", "market", "http://127.0.0.1:9", "http://127.0.0.1:9", "pw", True)
    gate = Gate(link, "volume")
    carol = _principal(federated=True)
    with pytest.raises(errors.Forbidden) as err:
        await gate.admit(carol, "POST")
    assert str(err.value) == NOT_SUBSCRIBED
    await gate.admit(_principal(federated=False), "POST")  # the landlord's own users pass
    sub = {"kind": "subscription", "id": "sub-1", "status": "active", "customer": "c1",
           "user_id": "u1", "service_type": "volume", "quotas": {"gigabytes": 5}}  # fmt: skip
    gate.book.add(sub)
    await gate.admit(carol, "POST")
    assert gate.live_grants("p1", time.time())[0].quotas == {"gigabytes": 5}
    gate.book.add({"kind": "budget", "customer": "c1", "status": "suspended"})
    await gate.admit(carol, "GET")  # reading (and deleting) what is stored still works
    with pytest.raises(errors.Forbidden) as err:
        await gate.admit(carol, "POST")
    assert str(err.value) == (
        "Your exchange budget is exhausted: no new use at stor. "
        "Data already stored is kept, and billed, until you delete it."
    )
    assert gate.live_grants("p1", time.time()) == []  # nothing is metered for it either
    gate.book.add({"kind": "budget", "customer": "c1", "status": "active"})
    await gate.admit(carol, "POST")
    await gate.stop()


def test_a_grant_finds_its_customer_through_the_exchanges_identity_only() -> None:
    """The exchange's customer, federated here from the exchange's own identity (its proxy
    and dashboard), has the id derived from the exchange's name and the grant's user id: the
    grant matches it, and no id derived from another identity provider."""
    book = GrantBook("market")
    book.add({"kind": "subscription", "id": "sub-1", "status": "active", "customer": "c1",
              "user_id": "u1", "service_type": "volume", "quotas": {}})  # fmt: skip
    assert [g.id for g in book.of_user("u1", "volume")] == ["sub-1"]
    assert [g.id for g in book.of_user(shadow_user_id("market", "u1"), "volume")] == ["sub-1"]
    assert book.of_user(shadow_user_id("mit", "u1"), "volume") == []
    assert book.of_user(shadow_user_id("market", "u2"), "volume") == []


def test_the_gate_checks_compute_capabilities_against_flavors(world: World) -> None:
    harvard = world.agent("harvard")
    lord = world.exchange.landlords["harvard"]
    http, _credential = world.probe(harvard)
    compute_url = lord.base_urls["compute"] + "/v2.1"
    flavor = http.post(
        compute_url + "/flavors",
        json={"flavor": {"name": "f1.fpga", "ram": 512, "vcpus": 1, "disk": 1}},
    )
    assert flavor.status_code == 200, flavor.text
    specs = http.post(
        f"{compute_url}/flavors/{flavor.json()['flavor']['id']}/os-extra_specs",
        json={"extra_specs": {"capabilities:fpga": "true", "trait:CUSTOM_ATTESTED": "required"}},
    )
    assert specs.status_code == 200, specs.text
    doc = {
        "service_type": "compute",
        "endpoint": compute_url,
        "prices": [{"metric": "server.hours:f1.fpga", "unit": "hour", "price": "0.9"}],
    }
    fpga = harvard.publish(1, name="fpga", capabilities=["fpga", "attested"], **doc)
    assert (fpga["status"], fpga["capabilities_checked"]) == ("listed", ["attested", "fpga"])
    assert fpga["status_reason"].endswith("the catalog lists it, with flavors for its capabilities")
    gpu = harvard.publish(1, name="gpu", capabilities=["fpga", "gpu"], **doc)
    assert gpu["status"] == "delisted"
    assert gpu["status_reason"] == (
        "claimed capabilities not offered: gpu (no flavor has capabilities:gpu)"
    )


async def test_time_a_part_is_down_is_not_billed(monkeypatch: pytest.MonkeyPatch) -> None:
    """An interval is billed only when samples (the part's evidence that it was serving) back
    it: after a gap longer than MAX_GAP intervals, the gap is dropped and a new one starts."""
    grant = Grant.of(
        {"kind": "subscription", "id": "sub-1", "status": "active", "user_id": "u",
         "service_type": "volume", "quotas": {}, "metrics": ["volume.gib_hours:ssd"],
         "start": 0.0}
    )  # fmt: skip
    link = type("Link", (), {"meter_interval": 60.0})()
    gate = type("FakeGate", (), {"link": link, "live_grants": lambda self, p, now: [grant]})()

    async def holdings() -> list[Holding]:
        return [Holding("p1", "vol-1", "volume", "volume.gib_hours:ssd", "GiB-hour", Decimal(10))]

    clock = [1_000_000.0]
    monkeypatch.setattr(metering.time, "time", lambda: clock[0])
    meter = Meter(gate, "volume", holdings, client=None)  # type: ignore[arg-type]
    sent: list[list[dict[str, Any]]] = []

    async def flush() -> None:
        sent.append(list(meter.pending))
        meter.pending.clear()

    meter.flush = flush  # type: ignore[method-assign]
    for step in (60.0, 60.0, 3600.0, 60.0):  # up, up, down for an hour, up again
        clock[0] += step
        await meter.tick()
    billed = [(r["start"], r["end"], r["quantity"]) for batch in sent for r in batch]
    t0 = 1_000_000.0
    assert billed == [
        (t0, t0 + 60, "0.166666667"),
        (t0 + 60, t0 + 120, "0.166666667"),
        (t0 + 3720, t0 + 3780, "0.166666667"),
    ]
    assert meter.unbilled == [(t0 + 120, t0 + 3720)]
