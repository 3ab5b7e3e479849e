"""A provider that does not answer during a write: the write goes on while its quorum
(k + 1) remains and records which share is missing; reads name it; repair rebuilds its
share in place once it answers again. rm says what it could not remove (its tombstone:
test_tombstone.py)."""

from __future__ import annotations

import io

import pytest

from ocx.vault import maintenance
from ocx.vault.config import VaultConfig
from ocx.vault.errors import ProviderFailed
from ocx.vault.providers import Offering
from ocx.vault.store import Access, Store
from ocx.vault.vault import Vault, cloud_store
from tests.vault.helpers import SEGMENT, World, data, get, put, store_of

PAYLOAD = data(5 * SEGMENT + 9, seed=5)
FOUR = ("harvard", "mit", "stor", "vast")


def unreachable(renew: bool) -> Access:
    raise LookupError("no object store in the catalog")


def vault_without(world: World, cfg: VaultConfig, *down: str) -> Vault:
    """The vault with ``down`` not answering (as the customer sees a provider that is off)."""
    reach = cloud_store(world.clouds_file)

    def make(offer: Offering, container: str) -> Store:
        if offer.landlord in down:
            return Store(offer.landlord, unreachable, container)
        return reach(offer, container)

    return Vault(cfg, make)


def test_put_with_one_provider_down_then_repair_in_place(world: World) -> None:
    cfg = world.config(k=2, landlords=FOUR)
    with world.vault(cfg) as vault:
        put(vault, "doc", b"the first version, at all four")
    with vault_without(world, cfg, "stor") as degraded:
        manifest = degraded.put("doc", io.BytesIO(PAYLOAD))
        assert [s.landlord for s in manifest.shares if not s.root] == ["stor"]
        assert get(degraded, "doc") == (PAYLOAD, ["stor:unreachable"])
    with world.vault(cfg) as vault:  # stor answers again, with only the first version
        got, problems = get(vault, "doc")
        assert got == PAYLOAD and problems == ["stor:missing"]
        stor = store_of(vault, "stor")
        new, failed = maintenance.repair(vault, cfg.slot_of("stor"), cfg.providers[2])
        assert failed == [] and new.providers == cfg.providers
        assert get(vault, "doc") == (PAYLOAD, [])
        checked = maintenance.verify(vault, full=True)
        assert [(c.name, c.problems) for c in checked] == [("doc", ())]
        assert len(stor.list("m/")) == 1 and len(stor.list("t/")) == 1  # the old one is gone
        for store in vault.stores:  # the same share set everywhere, the first version gone
            assert {n.split("/")[1] for n in store.list("d/")} == {manifest.object_id}


def test_put_below_the_quorum_fails_and_leaves_nothing(world: World) -> None:
    cfg = world.config(k=2, landlords=FOUR)
    with vault_without(world, cfg, "mit", "vast") as degraded:
        with pytest.raises(ProviderFailed, match=r"mit: unreachable .*vast: unreachable"):
            put(degraded, "doc", PAYLOAD)
        for store in (store_of(degraded, "harvard"), store_of(degraded, "stor")):
            assert store.list("") == []


def test_a_quorum_of_all_providers_is_kept(world: World) -> None:
    cfg = world.config(k=2, landlords=FOUR, min_shares=4)
    with (
        vault_without(world, cfg, "vast") as degraded,
        pytest.raises(ProviderFailed, match="vast: unreachable"),
    ):
        put(degraded, "doc", PAYLOAD)


def test_rm_names_what_it_could_not_remove(world: World) -> None:
    cfg = world.config(k=2, landlords=FOUR)
    with world.vault(cfg) as vault:
        put(vault, "doc", PAYLOAD)
    with vault_without(world, cfg, "mit") as degraded:
        left = degraded.rm("doc")
        assert [(p.landlord, p.kind) for p in left] == [("mit", "unreachable")]
        assert degraded.ls() == []
    with world.vault(cfg) as vault:
        assert store_of(vault, "mit").list("m/")  # its copy stays: one, fewer than k
        assert vault.ls() == []
        assert vault.rm("doc") == []  # mit answers again: removed there too
        assert all(len(store.list("")) == 1 for store in vault.stores)  # the tombstone
