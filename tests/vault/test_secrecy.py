"""What k - 1 providers hold together yields neither the data key nor any plaintext; the
customer's own wrapping key keeps even k of them out; providers down; owners."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pyeclib.ec_iface import ECDriverError

from ocx.vault import config as vault_config
from ocx.vault import crypto, shamir
from ocx.vault.codec import Codec
from ocx.vault.errors import NotEnoughShares, Problem, ProviderFailed, VaultConfigError
from ocx.vault.manifest import load_copy
from ocx.vault.providers import Constraints, Offering, choose
from ocx.vault.vault import Vault
from tests.vault.helpers import SEGMENT, World, data, get, put, same_owner, stop

SECRET = b"BRCA1 c.68_69delAG carrier " * 400


def holdings(vault: Vault, slot: int) -> dict[str, bytes]:
    store = vault.stores[slot]
    return {name: store.get(name) for name in store.list("")}


def test_k_minus_one_providers_learn_nothing(world: World) -> None:
    cfg = world.config(k=3, landlords=("harvard", "mit", "stor", "vast"))
    with world.vault(cfg) as vault:
        put(vault, "variants", SECRET)
        real = vault.resolve("variants")
        colluders = [holdings(vault, 0), holdings(vault, 1)]  # k - 1 = 2 of them
    copies = [
        load_copy(next(v for n, v in held.items() if n.startswith("m/")), cfg.signer.public)
        for held in colluders
    ]
    # Their key shares combine to something that is not the key.
    guess = shamir.combine([c.key_share for c in copies], 2)
    assert crypto.key_check(guess) != real.manifest.key_check
    assert guess != shamir.combine([real.copies[s].key_share for s in (0, 1, 2)], 3)
    # Their fragments do not decode, and hold no plaintext.
    parts = [next(v for n, v in held.items() if n.startswith("d/")) for held in colluders]
    size = real.manifest.fragment_size
    sealed = real.manifest.plain_len(0) + crypto.TAG_BYTES
    with pytest.raises(ECDriverError):
        Codec(3, 4).decode({0: parts[0][:size], 1: parts[1][:size]}, sealed)
    for held in colluders:
        for body in held.values():
            assert b"BRCA1" not in body
    # Even with the true key's check value, the guessed key opens no segment.
    cipher = crypto.SegmentCipher(guess, real.manifest.object_id, real.manifest.version)
    with pytest.raises(crypto.Unsealed):
        cipher.open(0, parts[0][80:size], False)


def test_wrapping_key_keeps_k_providers_out(world: World, tmp_path: Path) -> None:
    vault_config.new_wrap_key(tmp_path / "wrap.key")
    wrap = vault_config.load_wrap_key(tmp_path / "wrap.key")
    cfg = world.config()
    with world.vault(cfg, wrap_key=wrap) as vault:
        put(vault, "wrapped", SECRET)
        assert get(vault, "wrapped")[0] == SECRET
        resolved = vault.resolve("wrapped")
    stored = [resolved.copies[s].key_share for s in (0, 1)]
    guess = shamir.combine([s[: shamir.SHARE_BYTES] for s in stored], 2)
    assert crypto.key_check(guess) != resolved.manifest.key_check
    with world.vault(cfg) as vault, pytest.raises(VaultConfigError, match="wrapped"):
        get(vault, "wrapped")
    with (
        world.vault(cfg, wrap_key=crypto.new_key()) as vault,
        pytest.raises(VaultConfigError, match="does not open"),
    ):
        get(vault, "wrapped")


def test_read_with_n_minus_k_providers_down(own_world: World) -> None:
    cfg = own_world.config(k=2, landlords=("harvard", "mit", "stor", "vast"))
    payload = data(3 * SEGMENT + 1)
    with own_world.vault(cfg) as vault:
        put(vault, "doc", payload)
    stop(own_world, "mit")
    stop(own_world, "stor")
    with own_world.vault(cfg) as vault:
        got, problems = get(vault, "doc")
        assert got == payload
        assert sorted(problems) == ["mit:unreachable", "stor:unreachable"]
        with pytest.raises(ProviderFailed, match=r"write failed at (mit|stor): unreachable"):
            put(vault, "doc", b"a new version while two providers are down")
        assert get(vault, "doc")[0] == payload  # the failed write left nothing visible
        for store in (vault.stores[0], vault.stores[3]):
            assert len(store.list("d/")) == 1 and len(store.list("t/")) == 1
        stop(own_world, "vast")
        with pytest.raises(NotEnoughShares, match="vast: unreachable"):
            get(vault, "doc")


def test_two_providers_of_one_owner_are_never_chosen(world: World) -> None:
    offers = [
        same_owner(o, "acme") if o.landlord in ("mit", "stor") else o for o in world.offerings()
    ]
    choice = choose(offers, 3, Constraints())
    owners = [o.owner for o in choice.chosen]
    assert len(set(owners)) == 3 and owners.count("acme") == 1
    assert any("owner acme is already chosen" in r for r in choice.reasons)
    with pytest.raises(VaultConfigError, match="only 3 object stores of distinct owners"):
        choose(offers, 4, Constraints())
    twice = tuple(o for o in offers if o.landlord in ("harvard", "mit", "stor"))
    with pytest.raises(VaultConfigError, match="two providers of one owner"):
        vault_config.VaultConfig.new(2, twice)


def test_constraints_and_reasons() -> None:
    offers = [
        Offering("a", "A", "c-a", "r1", price=3.0),
        Offering("b", "B", "c-b", "r1", price=1.0),
        Offering("c", "C", "c-c", "r2", price=2.0),
        Offering("d", "D", "c-d", "r1", price=9.0),
    ]
    choice = choose(offers, 2, Constraints(max_price=5, regions=("r1",)))
    assert [o.landlord for o in choice.chosen] == ["b", "a"]
    assert any(r.startswith("c: left out, region r2 is not among r1") for r in choice.reasons)
    assert any(r.startswith("d: left out, estimated 9") for r in choice.reasons)
    assert choice.reasons[0].startswith("b: chosen, owner B")


def test_problems_print_their_provider() -> None:
    assert str(Problem("mit", "stale", "serves 1.0, not 2.0")) == "mit: stale (serves 1.0, not 2.0)"


def test_segments_cannot_be_reordered_or_cut() -> None:
    cipher = crypto.SegmentCipher(crypto.new_key(), crypto.new_object_id(), 1)
    first, last = cipher.seal(0, b"a" * 10, False), cipher.seal(1, b"b", True)
    assert cipher.open(1, last, True) == b"b"
    for index, sealed, is_last in [(1, first, True), (0, last, False), (0, first, True)]:
        with pytest.raises(crypto.Unsealed):
            cipher.open(index, sealed, is_last)
    other = crypto.SegmentCipher(crypto.new_key(), cipher.object_id, 2)
    with pytest.raises(crypto.Unsealed):
        other.open(0, first, False)


def test_a_segment_opened_into_a_buffer_checks_as_much_as_a_whole_opening() -> None:
    """Opening into a buffer (as a read of the k data fragments does, straight from the
    segment's buffer) gives the plaintext from any kind of buffer, and refuses what the
    whole opening refuses: a changed byte anywhere, another index or end, a cut, a short tag."""
    cipher = crypto.SegmentCipher(crypto.new_key(), crypto.new_object_id(), 1)
    plain = bytes(range(256)) * 40
    sealed = cipher.seal(3, plain, False)
    tag_at = len(sealed) - crypto.TAG_BYTES
    out = bytearray(len(plain))
    for source in (sealed, bytearray(sealed), memoryview(b"x" + sealed + b"y")[1:-1]):
        out[:] = bytes(len(plain))
        cipher.open_into(3, source, False, out)
        assert out == plain
    for wrong in [(2, False), (3, True)]:
        with pytest.raises(crypto.Unsealed):
            cipher.open_into(wrong[0], sealed, wrong[1], out)
    for at in (0, 2000, tag_at, len(sealed) - 1):
        changed = bytearray(sealed)
        changed[at] ^= 1
        with pytest.raises(crypto.Unsealed):
            cipher.open_into(3, changed, False, out)
    for short in (sealed[:-1], sealed[: crypto.TAG_BYTES - 1], b""):
        with pytest.raises(crypto.Unsealed):
            cipher.open_into(3, short, False, bytearray(max(0, len(short) - crypto.TAG_BYTES)))
    empty = cipher.seal(4, b"", True)
    cipher.open_into(4, empty, True, bytearray())


def test_shamir_any_k_of_n() -> None:
    key = crypto.new_key()
    shares = shamir.split(key, 3, 5)
    for chosen in ([0, 1, 2], [4, 2, 0], [1, 3, 4]):
        assert shamir.combine([shares[i] for i in chosen], 3) == key
    assert shamir.combine([shares[0], shares[1]], 2) != key
    assert shamir.combine(shamir.split(key, 1, 2)[1:], 1) == key
    with pytest.raises(ValueError):
        shamir.combine(shares[:2], 3)


def test_empty_object_through_a_stream(world: World) -> None:
    with world.vault() as vault:
        vault.put("empty", io.BytesIO())
        assert get(vault, "empty") == (b"", [])
