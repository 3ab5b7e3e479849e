"""Region ``ocx`` at the exchange operator's identity: a customer signed in at the exchange
(a federated harvard user; K2K here, WebSSO in the dashboard) reaches their compute, volumes
and images at every landlord through the exchange's proxy, which federates them on from the
exchange's identity. Each landlord admits the exchange's users only as themselves, each in a
project of their own (``market-<user id>``) with ``member``: no other customer's resources,
no landlord's own users' projects, no role the landlord did not give."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import openstack
import pytest
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

from ocx.runner import BackgroundExchange, Exchange
from tests.conftest import make_topology

ALL = ["identity", "object", "compute", "image", "volume"]
WORLD: dict[str, Any] = {
    "harvard": {"parts": ALL, "demo_users": ["alice", "bob"], "trusts": ["market"]},
    "stor": {"parts": ["identity", "object", "volume"], "trusts": ["harvard", "market"]},
    # The exchange holds no resources of its own: a new one goes to the first landlord.
    "market": {
        "parts": ["identity", "exchange", "proxy"],
        "trusts": ["harvard"],
        "options": {"proxy": {"placement": "first"}},
    },
}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Exchange]:
    background = BackgroundExchange(make_topology(WORLD), tmp_path_factory.mktemp("xregion"))
    with background as exchange:
        yield exchange


def at_harvard(exchange: Exchange, user: str) -> v3.Password:
    lord = exchange.landlords["harvard"]
    return v3.Password(
        auth_url=lord.auth_url,
        username=user,
        password=lord.demo_passwords[user],
        user_domain_id="default",
        project_name=f"{user}-project",
        project_domain_id="default",
    )


def k2k(base: Any, sp: str, project: str, auth_url: str) -> ks_session.Session:
    """K2K from ``base``'s identity to ``sp``, scoped to the project named ``project`` there."""
    unscoped = ks_session.Session(auth=v3.Keystone2Keystone(base, sp))
    found = unscoped.get(auth_url + "/auth/projects").json()["projects"]
    names = {p["name"]: p["id"] for p in found}
    assert project in names, names
    return ks_session.Session(auth=v3.Keystone2Keystone(base, sp, project_id=names[project]))


def at_market(exchange: Exchange, user: str) -> ks_session.Session:
    """``user`` of harvard signed in at the exchange (as WebSSO would: a federated user)."""
    market = exchange.landlords["market"].auth_url
    return k2k(at_harvard(exchange, user), "market", f"harvard-{user}", market)


def sdk(sess: ks_session.Session) -> Any:
    return openstack.connection.Connection(session=sess, region_name="ocx")


def test_an_exchange_customer_works_at_two_landlords_through_the_exchanges_proxy(
    world: Exchange,
) -> None:
    alice = sdk(at_market(world, "alice"))
    catalog = alice.session.auth.get_access(alice.session).service_catalog
    url = catalog.url_for(service_type="compute", region_name="ocx", interface="public")
    assert url.startswith(world.landlords["market"].base_urls["proxy"])
    image = alice.image.create_image(
        name="debian@harvard", data=b"\x01" * 4096, disk_format="raw", container_format="bare"
    )
    volume = alice.block_storage.create_volume(name="data", size=1, availability_zone="stor")
    alice.block_storage.wait_for_status(volume, "available", wait=60)
    flavor = alice.compute.find_flavor("m1.tiny")
    server = alice.compute.create_server(
        name="vm1", image_id=image.id, flavor_id=flavor.id, availability_zone="harvard",
        networks="none",
    )  # fmt: skip
    server = alice.compute.wait_for_server(server, wait=60)
    assert (server.availability_zone, server.status) == ("harvard", "ACTIVE")
    alice.compute.create_volume_attachment(server, volume_id=volume.id)
    volume = alice.block_storage.wait_for_status(volume, "in-use", wait=60)
    assert volume.availability_zone == "stor"
    assert [a["server_id"] for a in volume.attachments] == [server.id]
    alice.object_store.create_container("notes")
    alice.object_store.upload_object(container="notes", name="n.txt", data=b"hello")
    assert alice.object_store.download_object("n.txt", container="notes") == b"hello"
    assert [c.name for c in alice.object_store.containers()] == ["notes"]
    assert [o.name for o in alice.object_store.objects("notes")] == ["n.txt"]

    # Another customer of the exchange sees none of it, even by id.
    bob = sdk(at_market(world, "bob"))
    assert [v.name for v in bob.block_storage.volumes()] == []
    assert [s.name for s in bob.compute.servers()] == []
    assert bob.block_storage.find_volume(volume.id) is None
    assert bob.compute.find_server(server.id) is None
    assert [c.name for c in bob.object_store.containers()] == []
    # Nor does alice at harvard's own identity: the exchange's customer is its own project.
    home = ks_session.Session(auth=at_harvard(world, "alice"))
    compute = world.landlords["harvard"].base_urls["compute"] + "/v2.1"
    mine = home.get(compute + "/servers", raise_exc=False)
    assert mine.status_code == 200 and mine.json()["servers"] == []


def test_landlords_admit_the_exchanges_users_each_as_themselves_with_member_only(
    world: Exchange,
) -> None:
    stor = world.landlords["stor"].auth_url
    market = world.landlords["market"]
    # The exchange's own administrator is a customer like any other at a landlord.
    admin = v3.Password(
        auth_url=market.auth_url,
        username="admin",
        password=market.admin_password,
        user_domain_id="default",
        project_name="admin",
        project_domain_id="default",
    )
    for base in (at_market(world, "alice").auth, admin):
        user_id = ks_session.Session(auth=base).get_user_id()
        there = k2k(base, "stor", f"market-{user_id}", stor)
        access = there.auth.get_access(there)
        assert sorted(access.role_names) == ["member", "reader"]  # member implies reader
        assert access.project_name == f"market-{user_id}"
        projects = there.get(stor + "/auth/projects").json()["projects"]
        assert [p["name"] for p in projects] == [f"market-{user_id}"]
        assert there.get(stor + "/users", raise_exc=False).status_code == 403


def test_tokens_stay_where_they_were_issued(world: Exchange) -> None:
    """A token of the exchange's identity is refused by a landlord's services, and a landlord's
    token by the exchange's proxy (each identity's tokens are for its own audience)."""
    market_token = at_market(world, "alice").get_token()
    harvard = world.landlords["harvard"]
    answer = httpx.get(
        harvard.base_urls["compute"] + "/v2.1/servers", headers={"X-Auth-Token": market_token}
    )
    assert answer.status_code == 401, answer.text
    home_token = ks_session.Session(auth=at_harvard(world, "alice")).get_token()
    proxy = world.landlords["market"].base_urls["proxy"]
    for path in ("/compute/v2.1/servers", "/volume/v3/volumes"):
        answer = httpx.get(proxy + path, headers={"X-Auth-Token": home_token})
        assert answer.status_code == 401, (path, answer.text)
