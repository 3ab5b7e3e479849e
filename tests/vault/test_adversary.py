"""Providers that serve bad bytes: corrupt, truncated, swapped, stale and forged shares and
manifests are detected and named; reads stay correct while k good shares remain, and are
refused with a clear error when they do not."""

from __future__ import annotations

import json

import pytest

from ocx.vault import crypto
from ocx.vault.errors import NotEnoughShares
from ocx.vault.store import Store
from ocx.vault.vault import Vault
from tests.vault.helpers import SEGMENT, World, data, get, put, snapshot, store_of

PAYLOAD = data(6 * SEGMENT + 100, seed=3)


@pytest.fixture
def vault(world: World) -> Vault:
    found = world.vault()
    put(found, "records", PAYLOAD)
    return found


def part(store: Store) -> str:
    return next(n for n in store.list("d/"))


def rewrite(store: Store, name: str, change: object) -> None:
    store.put(name, change(store.get(name)))  # type: ignore[operator]


def flip(body: bytes, at: int = 1000) -> bytes:
    return body[:at] + bytes([body[at] ^ 1]) + body[at + 1 :]


def test_corrupt_share_is_named_and_read_stays_right(vault: Vault) -> None:
    mit = store_of(vault, "mit")
    rewrite(mit, part(mit), lambda b: flip(b, len(b) // 2))
    got, problems = get(vault, "records")
    assert got == PAYLOAD
    assert problems == ["mit:corrupt"]


def test_truncated_share(vault: Vault) -> None:
    mit = store_of(vault, "mit")
    rewrite(mit, part(mit), lambda b: b[: len(b) // 2])
    got, problems = get(vault, "records")
    assert got == PAYLOAD
    assert problems == ["mit:truncated"]


def test_share_swapped_between_providers(vault: Vault) -> None:
    harvard, mit = store_of(vault, "harvard"), store_of(vault, "mit")
    harvard.put(part(harvard), mit.get(part(mit)))
    got, problems = get(vault, "records")
    assert got == PAYLOAD
    assert problems == ["harvard:swapped"]


def test_segments_swapped_inside_a_share(vault: Vault) -> None:
    harvard = store_of(vault, "harvard")
    size = vault.resolve("records").manifest.fragment_size
    rewrite(harvard, part(harvard), lambda b: b[size : 2 * size] + b[:size] + b[2 * size :])
    got, problems = get(vault, "records")
    assert got == PAYLOAD
    assert problems == ["harvard:swapped"]


def test_tree_that_does_not_match_the_signed_root(vault: Vault) -> None:
    mit = store_of(vault, "mit")
    tree = next(n for n in mit.list("t/"))
    rewrite(mit, tree, lambda b: flip(b, 5))
    got, problems = get(vault, "records")
    assert got == PAYLOAD
    assert problems == ["mit:corrupt"]


def test_stale_provider_rolled_back_is_named(vault: Vault) -> None:
    with snapshot(store_of(vault, "mit")):
        put(vault, "records", b"the new version")
    got, problems = get(vault, "records")
    assert got == b"the new version"
    assert problems == ["mit:stale"]


def test_forged_manifest_is_named(vault: Vault) -> None:
    stor = store_of(vault, "stor")
    name = next(n for n in stor.list("m/"))

    def bigger(body: bytes) -> bytes:
        doc = json.loads(body)
        doc["body"]["size"] += 1
        return json.dumps(doc).encode()

    rewrite(stor, name, bigger)
    got, problems = get(vault, "records")
    assert got == PAYLOAD
    assert problems == ["stor:forged"]


def test_forged_newer_version_signed_by_another_key(vault: Vault) -> None:
    stor = store_of(vault, "stor")
    name = next(n for n in stor.list("m/"))
    doc = json.loads(stor.get(name))
    doc["body"]["version"] += 1
    doc["signature"] = crypto.Signer.generate().sign(doc["body"])
    version = str(doc["body"]["version"]).zfill(20)
    stor.put(name.rsplit("/", 1)[0] + f"/{version}.000000", json.dumps(doc).encode())
    got, problems = get(vault, "records")
    assert got == PAYLOAD
    assert problems == ["stor:forged"]


def test_forged_key_share(vault: Vault) -> None:
    harvard = store_of(vault, "harvard")
    name = next(n for n in harvard.list("m/"))

    def other_share(body: bytes) -> bytes:
        doc = json.loads(body)
        doc["key_share"] = crypto.b64(b"\x01" + bytes(32))
        return json.dumps(doc).encode()

    rewrite(harvard, name, other_share)
    got, problems = get(vault, "records")
    assert got == PAYLOAD
    assert problems == ["harvard:forged"]


def test_too_few_good_shares_is_refused_by_name(vault: Vault) -> None:
    mit, stor = store_of(vault, "mit"), store_of(vault, "stor")
    rewrite(mit, part(mit), flip)
    rewrite(stor, part(stor), lambda b: b[:10])
    with pytest.raises(NotEnoughShares) as caught:
        get(vault, "records")
    message = str(caught.value)
    assert "fewer than k good shares" in message
    assert "mit: corrupt" in message and "stor: truncated" in message


def test_too_few_good_manifests_is_refused(vault: Vault) -> None:
    for landlord in ("mit", "stor"):
        store = store_of(vault, landlord)
        rewrite(store, next(n for n in store.list("m/")), lambda b: b.replace(b'"k"', b'"K"'))
    with pytest.raises(NotEnoughShares) as caught:
        get(vault, "records")
    assert "mit: forged" in str(caught.value) and "stor: forged" in str(caught.value)
