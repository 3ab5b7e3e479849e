"""rm writes a signed tombstone above every version: a provider that was down during the rm
and comes back unchanged serves an older version, is named stale, and does not bring the
name back; reads report the name deleted. Below n - k + 1 providers, rm removes nothing."""

from __future__ import annotations

import json

import pytest

from ocx.vault import crypto, maintenance
from ocx.vault.errors import NotEnoughShares, ProviderFailed, VaultDeleted, VaultNotFound
from ocx.vault.store import Store
from tests.vault.helpers import SEGMENT, World, data, get, put, snapshot, store_of
from tests.vault.test_degraded import vault_without

PAYLOAD = data(3 * SEGMENT + 5, seed=11)
THREE = ("harvard", "mit", "stor")


def kept(store: Store) -> list[str]:
    return sorted(store.list(""))


def test_a_provider_down_during_rm_does_not_bring_the_name_back(world: World) -> None:
    cfg = world.config(k=2, landlords=THREE)
    with world.vault(cfg) as vault:
        put(vault, "doc", PAYLOAD)
        version = vault.resolve("doc").manifest.version
    with vault_without(world, cfg, "stor") as degraded:
        left = degraded.rm("doc")
        assert [(p.landlord, p.kind) for p in left] == [("stor", "unreachable")]
    with world.vault(cfg) as vault:  # stor answers again, its old version untouched
        stor = store_of(vault, "stor")
        assert any(f"{version:020d}" in n for n in stor.list("m/")) and stor.list("d/")
        with pytest.raises(VaultDeleted, match=r"deleted at version .*stor: stale") as caught:
            get(vault, "doc")
        assert [(p.landlord, p.kind) for p in caught.value.problems] == [("stor", "stale")]
        assert caught.value.version > version
        assert vault.ls() == []
        [entry] = vault.ls(deleted=True)
        assert (entry.name, entry.deleted) == ("doc", True)
        assert [(p.landlord, p.kind) for p in entry.problems] == [("stor", "stale")]
        [checked] = maintenance.verify(vault)
        assert [(p.landlord, p.kind) for p in checked.problems] == [("stor", "stale")]
        assert vault.rm("doc") == []  # stor emptied too; only the tombstone stays
        for store in vault.stores:
            [manifest] = kept(store)
            assert manifest.startswith("m/")
        with pytest.raises(VaultDeleted):
            vault.rm("doc")  # nothing left to remove


def test_rm_below_n_minus_k_plus_one_removes_nothing(world: World) -> None:
    cfg = world.config(k=2, landlords=THREE)
    with world.vault(cfg) as vault:
        put(vault, "doc", PAYLOAD)
        before = [kept(s) for s in vault.stores]
    with (
        vault_without(world, cfg, "mit", "stor") as degraded,
        pytest.raises(ProviderFailed, match=r"mit: unreachable.*stor: unreachable"),
    ):
        degraded.rm("doc")
    with world.vault(cfg) as vault:
        assert [kept(s) for s in vault.stores] == before  # no tombstone left behind either
        assert get(vault, "doc") == (PAYLOAD, [])


def test_put_after_rm_replaces_the_tombstone(world: World) -> None:
    with world.vault() as vault:
        put(vault, "doc", PAYLOAD)
        assert vault.rm("doc") == []
        with pytest.raises(VaultNotFound, match="deleted"):
            get(vault, "doc")
        put(vault, "doc", b"again")
        assert get(vault, "doc") == (b"again", [])
        assert [e.name for e in vault.ls()] == ["doc"]
        for store in vault.stores:
            assert len(store.list("m/")) == 1


def test_a_provider_rolled_back_to_the_tombstone_is_stale(world: World) -> None:
    with world.vault() as vault:
        put(vault, "doc", PAYLOAD)
        vault.rm("doc")
        with snapshot(store_of(vault, "mit")):  # mit will serve the tombstone again
            put(vault, "doc", b"again")
        assert get(vault, "doc") == (b"again", ["mit:stale"])


def forge_tombstone(store: Store, version: int) -> None:
    """A tombstone made by the provider: the customer's body marked deleted one version up,
    under the signature of the version it holds."""
    [path] = store.list("m/")
    doc = json.loads(store.get(path))
    doc["body"] = {**doc["body"], "deleted": True, "version": version + 1}
    store.put(path.replace(f"{version:020d}", f"{version + 1:020d}"), json.dumps(doc).encode())


def test_a_tombstone_the_customer_did_not_sign_deletes_nothing(world: World) -> None:
    with world.vault() as vault:
        put(vault, "doc", PAYLOAD)
        version = vault.resolve("doc").manifest.version
        forge_tombstone(store_of(vault, "mit"), version)
        assert get(vault, "doc") == (PAYLOAD, ["mit:forged"])
        forge_tombstone(store_of(vault, "stor"), version)  # k of them: refused, not deleted
        with pytest.raises(NotEnoughShares, match=r"mit: forged.*stor: forged"):
            get(vault, "doc")


def test_repair_carries_the_tombstone_to_the_new_provider(world: World) -> None:
    cfg = world.config(k=2, landlords=THREE)
    with world.vault(cfg) as vault:
        put(vault, "doc", PAYLOAD)
    with vault_without(world, cfg, "stor") as degraded:
        degraded.rm("doc")  # stor keeps its old version
    with world.vault(cfg) as vault:
        vast = next(o for o in world.offerings() if o.landlord == "vast")
        _, failed = maintenance.repair(vault, cfg.slot_of("harvard"), vast)
        assert failed == []
        # the tombstone's new revision names vast, is kept there, and stor's old version
        # (it was down during the rm) is gone with the tombstone's old revision
        with pytest.raises(VaultDeleted) as caught:
            get(vault, "doc")
        assert caught.value.problems == []
        for store in vault.stores:
            [manifest] = kept(store)
            assert manifest.startswith(f"m/{crypto.name_id(cfg.meta, 'doc')}/")
