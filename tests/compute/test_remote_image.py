"""Booting at one landlord (fpga, no image service of its own) from an image of another
(harvard), read with alice's image delegation: fetched once, then kept; every misuse refused."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import openstack
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ocx import clouds
from ocx.clients.compute import delegate, delegate_image, presenter_jwk, remote_image
from ocx.common import delegation
from ocx.compute.service import ComputeService
from ocx.runner import Exchange
from tests.compute.helpers import fault
from tests.conftest import ExchangeFactory

NOVA = {"OpenStack-API-Version": "compute 2.100"}


@dataclass
class World:
    exchange: Exchange
    harvard: openstack.connection.Connection
    fpga_token: str
    compute_url: str
    image_url: str
    identity_url: str
    image_id: str
    other_image_id: str

    @property
    def compute(self) -> ComputeService:
        found = next(r.service for r in self.exchange.running
                     if r.landlord == "fpga" and r.part == "compute")  # fmt: skip
        return found.service  # type: ignore[attr-defined,no-any-return]

    def grant(self, image_id: str | None = None, ttl: int = 300) -> str:
        jwk = presenter_jwk(self.compute_url)
        made = delegate_image(self.identity_url, str(self.harvard.auth_token),
                              image_id or self.image_id, jwk, ttl)  # fmt: skip
        return str(made["token"])

    def boot(self, name: str, grant: str, image_id: str | None = None,
             landlord: str = "harvard") -> requests.Response:  # fmt: skip
        body = {"name": name, "imageRef": image_id or self.image_id, "flavorRef": "1",
                "networks": "none", **remote_image(landlord, grant)}  # fmt: skip
        headers = {"X-Auth-Token": self.fpga_token, **NOVA}
        return requests.post(f"{self.compute_url}/v2.1/servers", json={"server": body},
                             headers=headers, timeout=60)  # fmt: skip

    def status(self, server_id: str) -> str:
        headers = {"X-Auth-Token": self.fpga_token, **NOVA}
        resp = requests.get(f"{self.compute_url}/v2.1/servers/{server_id}", headers=headers,
                            timeout=30)  # fmt: skip
        return str(resp.json()["server"]["status"])


def _connect(exchange: Exchange, name: str) -> openstack.connection.Connection:
    entry: dict[str, Any] = clouds.entries(exchange)["clouds"][name]
    return openstack.connect(auth_type=entry["auth_type"], auth=entry["auth"],
                             region_name=entry["region_name"])  # fmt: skip


@pytest.fixture
def world(exchange_factory: ExchangeFactory) -> World:
    exchange = exchange_factory(
        {
            "harvard": {"parts": ["identity", "image"], "demo_users": ["alice"]},
            "fpga": {"parts": ["identity", "compute"], "trusts": ["harvard"]},
            "mit": {"parts": ["identity", "image"], "demo_users": ["carol"]},
        }
    )
    harvard = _connect(exchange, "harvard-alice")
    made = [harvard.image.create_image(name, data=name.encode() * 1000, disk_format="raw",
                                       container_format="bare")
            for name in ("debian", "other")]  # fmt: skip
    fpga = _connect(exchange, "alice-fpga-k2k")
    landlords = exchange.landlords
    return World(exchange, harvard, str(fpga.auth_token), landlords["fpga"].base_urls["compute"],
                 landlords["harvard"].base_urls["image"], landlords["harvard"].identity_url,
                 made[0].id, made[1].id)  # fmt: skip


def _active(world: World, resp: requests.Response) -> str:
    assert resp.status_code == 202, resp.text
    server_id = str(resp.json()["server"]["id"])
    deadline = time.monotonic() + 30
    while (status := world.status(server_id)) != "ACTIVE":
        assert status == "BUILD" and time.monotonic() < deadline, status
        time.sleep(0.05)
    return server_id


def test_boot_from_another_landlords_image_fetches_it_once(world: World) -> None:
    grant = world.grant()
    _active(world, world.boot("r1", grant))
    remote = world.compute.remote_images
    digest = world.harvard.image.get_image(world.image_id).hash_value
    kept = remote.path("harvard", world.image_id, digest)
    assert kept.read_bytes() == b"debian" * 1000 and remote.fetches == 1
    inode = kept.stat().st_ino
    _active(world, world.boot("r2", world.grant()))  # a new delegation, the same bytes
    assert remote.fetches == 1 and kept.stat().st_ino == inode
    headers = {"X-Auth-Token": world.fpga_token, **NOVA}
    listed = requests.get(f"{world.compute_url}/v2.1/servers/detail", headers=headers,
                          timeout=30)  # fmt: skip
    images = {s["name"]: s["image"]["id"] for s in listed.json()["servers"]}
    assert images == {"r1": world.image_id, "r2": world.image_id}


def test_the_compute_refuses_what_the_image_landlord_refuses(world: World) -> None:
    grant = world.grant()
    cases = [
        (world.boot("wrong", grant, image_id=world.other_image_id),
         f"This delegation allows only reading image {world.image_id} and its data."),
        (world.boot("foreign", grant, landlord="mit"),
         "of mit could not be read: The token is not valid: token is signed with an unknown key"),
        (world.boot("nowhere", grant, landlord="nowhere"),
         "Landlord 'nowhere' runs no image service this compute knows of."),
    ]  # fmt: skip
    volume_grant = delegate(world.identity_url, str(world.harvard.auth_token), "v-1",
                            presenter_jwk(world.compute_url))["token"]  # fmt: skip
    cases.append(
        (world.boot("volume", volume_grant), "is for another landlord, not 'harvard:image'")
    )
    stranger = delegation.public_jwk(Ed25519PrivateKey.generate().public_key())
    theirs = delegate_image(world.identity_url, str(world.harvard.auth_token), world.image_id,
                            stranger)["token"]  # fmt: skip
    cases.append((world.boot("stranger", theirs), "signed by another presenter"))
    short = world.grant(ttl=1)
    time.sleep(1.2)
    while time.time() <= _claims(short)["exp"]:
        time.sleep(0.05)
    cases.append((world.boot("late", short), "The token has expired."))
    for resp, message in cases:
        assert message in fault(resp, "badRequest", 400), message
    assert world.compute.remote_images.fetches == 0


def test_image_delegations_at_the_image_service(world: World) -> None:
    """Directly at harvard's Glance, as a compute would call it: one image, read only, with a
    fresh proof each time, by the key the delegation names."""
    key = Ed25519PrivateKey.generate()
    token = delegate_image(world.identity_url, str(world.harvard.auth_token), world.image_id,
                           delegation.public_jwk(key.public_key()))["token"]  # fmt: skip
    url = f"{world.image_url}/v2/images/{world.image_id}/file"

    def call(method: str, target: str, proof: str | None = None) -> requests.Response:
        proof = proof or delegation.make_proof(key, token, method, target)
        headers = {"X-Auth-Token": token, delegation.PROOF_HEADER: proof}
        return requests.request(method, target, headers=headers, timeout=30)

    proof = delegation.make_proof(key, token, "GET", url)
    assert call("GET", url, proof).content == b"debian" * 1000
    replayed = call("GET", url, proof)
    assert replayed.status_code == 401 and "The proof was already used (replay)." in replayed.text
    images = f"{world.image_url}/v2/images"
    for method, target in [("GET", images), ("DELETE", f"{images}/{world.image_id}"),
                           ("GET", f"{images}/{world.other_image_id}")]:  # fmt: skip
        resp = call(method, target)
        assert resp.status_code == 403, resp.text
        assert "allows only reading image" in resp.text
    no_proof = requests.get(url, headers={"X-Auth-Token": token}, timeout=30)
    assert no_proof.status_code == 401
    as_token = requests.get(f"{world.compute_url}/v2.1/servers",
                            headers={"X-Auth-Token": token, **NOVA}, timeout=30)  # fmt: skip
    assert as_token.status_code == 401
    assert world.harvard.image.get_image(world.image_id).status == "active"


def _claims(token: str) -> dict[str, Any]:
    import json

    from ocx.common import jws

    return dict(json.loads(jws.b64url_decode(token.split(".")[1])))
