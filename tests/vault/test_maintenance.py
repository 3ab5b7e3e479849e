"""status, verify, repair and migrate against live stores."""

from __future__ import annotations

import pytest

from ocx.vault import maintenance
from ocx.vault.errors import VaultConfigError
from ocx.vault.vault import Vault
from tests.vault.helpers import SEGMENT, World, data, get, put, snapshot, store_of

PAYLOAD = data(7 * SEGMENT + 3, seed=11)


@pytest.fixture
def vault(world: World) -> Vault:
    found = world.vault(world.config(fragments_per_part=4))
    put(found, "a", PAYLOAD)
    put(found, "b", b"small")
    return found


def problems_of(checked: list[maintenance.Checked]) -> dict[str, list[str]]:
    return {c.name: [f"{p.landlord}:{p.kind}" for p in c.problems] for c in checked}


def test_verify_clean_then_finds_a_corrupt_share(vault: Vault) -> None:
    assert problems_of(maintenance.verify(vault)) == {"a": [], "b": []}
    stor = store_of(vault, "stor")  # never read by get (k = 2): verify finds it
    name = sorted(stor.list("d/"))[-1]
    body = stor.get(name)
    stor.put(name, body[:-1] + bytes([body[-1] ^ 0xFF]))
    found = problems_of(maintenance.verify(vault, full=True))
    assert "stor:corrupt" in found["a"] + found["b"]


def test_verify_names_a_stale_provider(vault: Vault) -> None:
    with snapshot(store_of(vault, "harvard")):
        put(vault, "a", b"newer")
    assert problems_of(maintenance.verify(vault))["a"] == ["harvard:stale"]


def test_status(vault: Vault) -> None:
    found = maintenance.status(vault)
    assert [(s.landlord, s.answers, s.manifests) for s in found] == [
        ("harvard", True, 2),
        ("mit", True, 2),
        ("stor", True, 2),
    ]


def test_repair_a_stale_share_onto_a_fourth_owner(world: World, vault: Vault) -> None:
    with snapshot(store_of(vault, "stor")):
        put(vault, "a", PAYLOAD[::-1])
    assert get(vault, "a") == (PAYLOAD[::-1], ["stor:stale"])
    vast = next(o for o in world.offerings() if o.landlord == "vast")
    old_stor = store_of(vault, "stor")
    cfg, failed = maintenance.repair(vault, vault.config.slot_of("stor"), vast)
    assert failed == []
    assert [p.landlord for p in cfg.providers] == ["harvard", "mit", "vast"]
    assert problems_of(maintenance.verify(vault, full=True)) == {"a": [], "b": []}
    # Read from vast and one other, the old stor out of the picture entirely.
    with world.vault(cfg) as fresh:
        for store in fresh.stores[:1]:
            for name in store.list("d/"):
                store.delete(name)  # harvard loses everything: mit and vast suffice
        got, problems = get(fresh, "a")
        assert got == PAYLOAD[::-1]
        assert problems == ["harvard:missing"]
    assert old_stor.list("m/")  # the stale provider's leftovers stay (it is not trusted)


def test_repair_refuses_an_owner_already_holding_a_share(world: World, vault: Vault) -> None:
    mit = next(o for o in world.offerings() if o.landlord == "mit")
    with pytest.raises(VaultConfigError, match="second share of one owner"):
        maintenance.repair(vault, vault.config.slot_of("stor"), mit)


def test_migrate_moves_a_share_and_empties_the_old_provider(world: World, vault: Vault) -> None:
    vast = next(o for o in world.offerings() if o.landlord == "vast")
    mit = store_of(vault, "mit")
    cfg, failed = maintenance.migrate(vault, "mit", vast)
    assert failed == []
    assert [p.landlord for p in cfg.providers] == ["harvard", "vast", "stor"]
    assert mit.list("") == []
    assert get(vault, "a") == (PAYLOAD, [])
    assert problems_of(maintenance.verify(vault, full=True)) == {"a": [], "b": []}
