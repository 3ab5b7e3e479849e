"""The erasure code's fast path: with the k data fragments, decoding is joining their
pieces; it must give exactly what the codec's own decoder gives, for every size and every
choice of k fragments (the others take the codec's path)."""

from __future__ import annotations

import itertools
import os

import pytest
from pyeclib.ec_iface import ECDriverError

from ocx.vault.codec import CHUNK, Codec, chunk_roots, root, top_of

SIZES = [0, 1, 15, 16, 17, 4095, 4096 + 16, 65_537, 1024 * 1024 + 16]


@pytest.mark.parametrize(("k", "n"), [(1, 1), (1, 2), (2, 2), (2, 3), (3, 5), (4, 6)])
def test_every_k_fragments_give_the_data(k: int, n: int) -> None:
    codec = Codec(k, n)
    for size in SIZES:
        data = os.urandom(size)
        fragments = dict(enumerate(codec.encode(data)))
        assert len(fragments) == n
        for slots in itertools.combinations(range(n), k):
            assert codec.decode({s: fragments[s] for s in slots}, size) == data, (size, slots)


def test_the_data_fragments_are_joined_without_the_codec() -> None:
    """A data fragment with its codec header wiped still joins (the header is never read)
    but no longer decodes through the codec: proof that the fast path is the one taken."""
    codec = Codec(2, 3)
    data = os.urandom(10_000)
    fragments = codec.encode(data)
    wiped = b"\0" * codec.header + fragments[0][codec.header :]
    assert codec.decode({0: wiped, 1: fragments[1]}, len(data)) == data
    with pytest.raises(ECDriverError):
        codec.decode({0: wiped, 2: fragments[2]}, len(data))


def test_fewer_than_k_fragments_do_not_decode() -> None:
    codec = Codec(3, 4)
    fragments = codec.encode(os.urandom(5000))
    with pytest.raises(ECDriverError):
        codec.decode({0: fragments[0], 1: fragments[1]}, 5000)


@pytest.mark.parametrize("count", [1, 2, 3, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK + 1, 3000])
def test_chunk_roots_have_the_trees_root(count: int) -> None:
    leaves = [os.urandom(32) for _ in range(count)]
    assert top_of(chunk_roots(leaves)) == root(leaves)
    assert len(chunk_roots(leaves)) == -(-count // CHUNK)
