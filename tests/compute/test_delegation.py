"""A volume of one landlord (stor) used by the compute of another (fpga) with a constrained
delegation: the happy path, and every misuse refused."""

from __future__ import annotations

import base64
import hashlib
import time
from dataclasses import dataclass
from typing import Any

import openstack
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ocx import clouds
from ocx.clients.compute import attach_remote, delegate, presenter_jwk
from ocx.common import delegation
from ocx.compute.part import ComputePart
from ocx.image.part import ImagePart
from ocx.runner import Exchange
from tests.compute.helpers import Nova, fault
from tests.conftest import ExchangeFactory
from tests.image.helpers import Cloud, User, add_part

CINDER = {"OpenStack-API-Version": "volume 3.54"}


@dataclass
class World:
    exchange: Exchange
    fpga: Cloud
    alice: User
    stor: openstack.connection.Connection
    stor_token: str
    stor_identity: str
    stor_cinder: str
    volume_id: str
    other_volume_id: str


def _k2k(exchange: Exchange, name: str) -> openstack.connection.Connection:
    entry: dict[str, Any] = clouds.entries(exchange)["clouds"][name]
    return openstack.connect(
        auth_type=entry["auth_type"], auth=entry["auth"], region_name=entry["region_name"]
    )


@pytest.fixture
def world(exchange_factory: ExchangeFactory) -> World:
    exchange = exchange_factory(
        {
            "fpga": {"parts": ["identity"], "demo_users": ["alice"]},
            "stor": {"parts": ["identity", "volume"], "trusts": ["fpga"]},
            "third": {"parts": ["identity", "volume"], "trusts": ["fpga"]},
        }
    )
    fpga = Cloud(exchange, "fpga", {"image": ImagePart.for_landlord})
    add_part(exchange, "fpga", "compute", ComputePart.for_landlord)
    fpga.urls["compute"] = exchange.landlords["fpga"].base_urls["compute"]
    password = exchange.landlords["fpga"].demo_passwords["alice"]
    admin = fpga.admin
    project = admin.call("GET", "/projects?name=alice-project")["projects"][0]
    user = admin.call("GET", "/users?name=alice")["users"][0]
    alice = User("alice", project["id"], user["id"], admin.url)
    alice.__dict__["_password"] = password
    stor = _k2k(exchange, "alice-stor-k2k")
    volumes = [stor.block_storage.create_volume(size=1, name=n) for n in ("data", "other")]
    for v in volumes:
        stor.block_storage.wait_for_status(v, "available")
    landlord = exchange.landlords["stor"]
    return World(exchange, fpga, alice, stor, str(stor.auth_token), landlord.identity_url,
                 landlord.base_urls["volume"] + "/v3", volumes[0].id, volumes[1].id)  # fmt: skip


@pytest.fixture(autouse=True)
def demo_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        User, "password", property(lambda u: u.__dict__.get("_password", u.name + "-pw"))
    )


def _server(world: World) -> tuple[Nova, str]:
    source = b"\0" * 4096
    conn = world.alice.connect()
    image = conn.image.create_image("img", data=source, disk_format="raw", container_format="bare")
    nova = Nova(world.fpga, world.alice)
    workload = "write vdb 0 data-at-stor\nchecksum vdb 0 12\n"
    server = nova.boot("fpga-1", image.id, user_data=base64.b64encode(workload.encode()).decode())
    nova.wait(server["id"], "ACTIVE")
    return nova, server["id"]


def _call(world: World, method: str, path: str, token: str, key: Ed25519PrivateKey | None,
          json: Any = None, url: str | None = None) -> requests.Response:  # fmt: skip
    target = (url or world.stor_cinder) + path
    headers = {"X-Auth-Token": token, **CINDER}
    if key is not None:
        headers[delegation.PROOF_HEADER] = delegation.make_proof(key, token, method, target)
    return requests.request(method, target, headers=headers, json=json, timeout=30)


def test_attach_a_volume_of_another_landlord(world: World) -> None:
    nova, server_id = _server(world)
    made = attach_remote(
        world.fpga.urls["compute"], nova.token, server_id, volume_id=world.volume_id,
        landlord="stor", identity_url=world.stor_identity, volume_url=world.stor_cinder,
        volume_token=world.stor_token,
    )  # fmt: skip
    assert made["device"] == "/dev/vdb" and made["volumeId"] == world.volume_id
    deadline = time.monotonic() + 30
    while "checksum vdb" not in (text := _console(nova, server_id)):
        assert time.monotonic() < deadline, text
        time.sleep(0.05)
    assert "ocx-guest: wrote vdb 0+12" in text
    digest = hashlib.sha256(b"data-at-stor").hexdigest()
    assert f"ocx-guest: checksum vdb 0+12 sha256={digest}" in text
    assert world.stor.block_storage.get_volume(world.volume_id).status == "in-use"
    assert nova.call("DELETE", f"/servers/{server_id}/os-volume_attachments/{world.volume_id}"
                     ).status_code == 202  # fmt: skip
    world.stor.block_storage.wait_for_status(
        world.stor.block_storage.get_volume(world.volume_id), "available", wait=30
    )


def _console(nova: Nova, server_id: str) -> str:
    resp = nova.call("POST", f"/servers/{server_id}/action", {"os-getConsoleOutput": {}})
    return str(resp.json()["output"])


def test_every_misuse_is_refused(world: World) -> None:
    compute_key = Ed25519PrivateKey.generate()  # stands for fpga's compute in direct calls
    jwk = delegation.public_jwk(compute_key.public_key())
    grant = delegate(world.stor_identity, world.stor_token, world.volume_id, jwk)
    token = grant["token"]
    ok = _call(world, "GET", f"/volumes/{world.volume_id}", token, compute_key)
    assert ok.status_code == 200, ok.text
    # other volume
    other = _call(world, "GET", f"/volumes/{world.other_volume_id}", token, compute_key)
    assert "only attaching and detaching volume" in fault(other, "forbidden", 403)
    attach_other = _call(world, "POST", "/attachments", token, compute_key,
                         {"attachment": {"volume_uuid": world.other_volume_id}})  # fmt: skip
    fault(attach_other, "forbidden", 403)
    # other operation on the same volume
    for method, path in (("DELETE", f"/volumes/{world.volume_id}"), ("GET", "/volumes/detail"),
                         ("POST", "/snapshots")):  # fmt: skip
        body = {"snapshot": {"volume_id": world.volume_id}} if method == "POST" else None
        fault(_call(world, method, path, token, compute_key, body), "forbidden", 403)
    extend = _call(world, "POST", f"/volumes/{world.volume_id}/action", token, compute_key,
                   {"os-extend": {"new_size": 2}})  # fmt: skip
    fault(extend, "forbidden", 403)
    # other presenter, no proof, a replayed proof, a proof for another request
    thief = Ed25519PrivateKey.generate()
    stolen = _call(world, "GET", f"/volumes/{world.volume_id}", token, thief)
    assert "another presenter" in fault(stolen, "unauthorized", 401)
    bare = _call(world, "GET", f"/volumes/{world.volume_id}", token, None)
    assert "proof of possession" in fault(bare, "unauthorized", 401)
    url = f"{world.stor_cinder}/volumes/{world.volume_id}"
    proof = delegation.make_proof(compute_key, token, "GET", url)
    headers = {"X-Auth-Token": token, delegation.PROOF_HEADER: proof, **CINDER}
    assert requests.get(url, headers=headers, timeout=30).status_code == 200
    replay = requests.get(url, headers=headers, timeout=30)
    assert "replay" in fault(replay, "unauthorized", 401)
    wrong = {
        **headers,
        delegation.PROOF_HEADER: delegation.make_proof(compute_key, token, "GET", url + "x"),
    }
    assert "another request" in fault(
        requests.get(url, headers=wrong, timeout=30), "unauthorized", 401
    )
    # the delegation is not an ordinary token, at stor or anywhere else
    as_token = requests.get(world.stor_identity + "/v3/auth/projects",
                            headers={"X-Auth-Token": token}, timeout=30)  # fmt: skip
    assert as_token.status_code == 401
    third = world.exchange.landlords["third"].base_urls["volume"] + "/v3"
    elsewhere = _call(world, "GET", f"/volumes/{world.volume_id}", token, compute_key, url=third)
    assert fault(elsewhere, "unauthorized", 401)
    # revoked
    revoke = {"X-Auth-Token": world.stor_token, "X-Subject-Token": token}
    revoked = requests.delete(
        world.stor_identity + "/v3/OS-OCX/delegations", headers=revoke, timeout=30
    )
    assert revoked.status_code == 204
    # verifiers poll the revocation list (every 2 s by default): wait for it to arrive
    deadline = time.monotonic() + 30
    while (after := _call(world, "GET", f"/volumes/{world.volume_id}", token, compute_key)).ok:
        assert time.monotonic() < deadline, "the revocation never reached the volume service"
        time.sleep(0.1)
    assert "revoked" in fault(after, "unauthorized", 401)


def test_expired_delegations_are_refused(world: World) -> None:
    compute_key = Ed25519PrivateKey.generate()
    jwk = delegation.public_jwk(compute_key.public_key())
    grant = delegate(world.stor_identity, world.stor_token, world.volume_id, jwk, ttl=1)
    claims = delegation_claims(grant["token"])
    while time.time() <= claims["exp"]:
        time.sleep(0.05)
    expired = _call(world, "GET", f"/volumes/{world.volume_id}", grant["token"], compute_key)
    assert "expired" in fault(expired, "unauthorized", 401)


def test_compute_refuses_a_delegation_for_another_volume(world: World) -> None:
    nova, server_id = _server(world)
    jwk = presenter_jwk(world.fpga.urls["compute"])
    grant = delegate(world.stor_identity, world.stor_token, world.volume_id, jwk)
    body = {"volumeAttachment": {"volumeId": world.other_volume_id, "ocx:landlord": "stor",
            "ocx:volume_url": world.stor_cinder, "ocx:delegation": grant["token"]}}  # fmt: skip
    resp = nova.call("POST", f"/servers/{server_id}/os-volume_attachments", body)
    fault(resp, "itemNotFound", 404)
    assert world.stor.block_storage.get_volume(world.other_volume_id).status == "available"


def delegation_claims(token: str) -> dict[str, Any]:
    import json

    from ocx.common import jws

    return dict(json.loads(jws.b64url_decode(token.split(".")[1])))


def test_compute_attaches_only_from_landlords_it_knows(world: World) -> None:
    """The compute calls only the block storage the topology names: never a customer's URL."""
    nova, server_id = _server(world)
    jwk = presenter_jwk(world.fpga.urls["compute"])
    grant = delegate(world.stor_identity, world.stor_token, world.volume_id, jwk)
    third = world.exchange.landlords["third"].base_urls["volume"] + "/v3"
    unknown = "runs no block storage this compute knows of."
    for landlord, url, message in [
        ("stor", third, f"is not the block storage of stor: that is {world.stor_cinder}."),
        ("stor", "http://127.0.0.1:1/v3", "ocx:volume_url is not the block storage of stor"),
        ("nowhere", world.stor_cinder, f"Landlord 'nowhere' {unknown}"),
        ("fpga", world.stor_cinder, f"Landlord 'fpga' {unknown}"),
    ]:  # fmt: skip
        body = {"volumeAttachment": {"volumeId": world.volume_id, "ocx:landlord": landlord,
                "ocx:volume_url": url, "ocx:delegation": grant["token"]}}  # fmt: skip
        resp = nova.call("POST", f"/servers/{server_id}/os-volume_attachments", body)
        assert message in fault(resp, "badRequest", 400)
    assert world.stor.block_storage.get_volume(world.volume_id).status == "available"
