"""``ocx up``'s default exchange runs object storage on two landlords, in their catalogs."""

from __future__ import annotations

from ocx import topology
from tests.object.conftest import Customer, Landlord


def test_default_topology_has_object_storage_on_two_landlords() -> None:
    default = topology.load(None)
    with_object = [landlord.name for landlord in default.landlords if "object" in landlord.parts]
    assert {"harvard", "mit"} <= set(with_object)


def test_catalog_lists_the_object_store(landlord: Landlord, alice: Customer) -> None:
    conn = alice.connect()
    url, _ = conn.get_auth()
    assert url == f"{landlord.object_url}/v1/AUTH_{alice.project_id}"
    conn.close()
