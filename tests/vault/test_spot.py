"""Spot checks of a share of more than one chunk of leaves read the tree's chunk roots and
one run of leaves per sample, never the whole leaf list; a tree whose leaves or chunk roots
were changed is caught; a tree kept without chunk roots is read whole, as before."""

from __future__ import annotations

import pytest

from ocx.vault import maintenance
from ocx.vault.codec import CHUNK, LEAF
from ocx.vault.errors import Problem
from ocx.vault.store import Store, tree_path
from ocx.vault.vault import Vault
from tests.vault.helpers import SEGMENT, World, data, put, store_of

SEGMENTS = 2 * CHUNK + 40  # three chunks, the last one short


@pytest.fixture(scope="module")
def vault(world: World) -> Vault:
    found = world.vault()
    put(found, "big", data(SEGMENTS * SEGMENT - 5, seed=9))
    return found


def tree_of(vault: Vault, store: Store) -> str:
    manifest = vault.resolve("big").manifest
    return tree_path(manifest.object_id, vault.stores.index(store))


def spot(vault: Vault, store: Store, picks: list[int]) -> dict[int, bytes] | Problem:
    manifest = vault.resolve("big").manifest
    return maintenance.spot_leaves(store, manifest, vault.stores.index(store), picks)


def test_spot_checks_read_no_whole_leaf_list(vault: Vault, monkeypatch: pytest.MonkeyPatch) -> None:
    whole = {store.landlord: store.get(tree_of(vault, store)) for store in vault.stores}
    for store in vault.stores:
        monkeypatch.setattr(store, "get", _no_tree(store.get))
    checked = maintenance.verify(vault, samples=6)
    assert [(c.name, c.problems) for c in checked] == [("big", ())]
    harvard = store_of(vault, "harvard")
    picks = [0, CHUNK + 3, 2 * CHUNK + 39]
    found = spot(vault, harvard, picks)
    assert found == {i: whole["harvard"][LEAF * i : LEAF * (i + 1)] for i in picks}


def _no_tree(get: object) -> object:
    def guarded(name: str, **kwargs: object) -> bytes:
        assert not name.startswith("t/"), "a spot check read a whole leaf list"
        return get(name, **kwargs)  # type: ignore[operator, no-any-return]

    return guarded


def test_a_changed_leaf_or_chunk_root_is_caught(vault: Vault) -> None:
    mit = store_of(vault, "mit")
    path = tree_of(vault, mit)
    good = mit.get(path)
    try:
        at = LEAF * (CHUNK + 7)  # a leaf in the second chunk
        mit.put(path, good[:at] + bytes([good[at] ^ 1]) + good[at + 1 :])
        found = spot(vault, mit, [CHUNK + 1])
        assert isinstance(found, Problem) and "leaves of chunk 1 are wrong" in found.detail
        assert not isinstance(spot(vault, mit, [5]), Problem)  # the first chunk is intact
        at = LEAF * SEGMENTS + 3  # in the chunk roots
        mit.put(path, good[:at] + bytes([good[at] ^ 1]) + good[at + 1 :])
        found = spot(vault, mit, [5])
        assert isinstance(found, Problem) and "chunk roots do not match" in found.detail
    finally:
        mit.put(path, good)


def test_a_tree_without_chunk_roots_is_read_whole(vault: Vault) -> None:
    stor = store_of(vault, "stor")
    path = tree_of(vault, stor)
    good = stor.get(path)
    try:
        stor.put(path, good[: LEAF * SEGMENTS])  # as trees were kept before chunk roots
        assert spot(vault, stor, [CHUNK + 2]) == {CHUNK + 2: good[LEAF * (CHUNK + 2) :][:LEAF]}
        assert [c.problems for c in maintenance.verify(vault, samples=4)] == [()]
    finally:
        stor.put(path, good)
