"""Reed-Solomon k-of-n over each sealed segment (pyeclib's ISA-L Cauchy codec), and the
BLAKE3 tree that authenticates a share.

pyeclib decodes a corrupt fragment into wrong output without a word, so every fragment is
checked against its share's tree before it reaches the decoder. A share's leaves are the
hashes of its fragments in segment order; its root, in the signed manifest, binds the order
and the share's slot. The leaves travel as one small object (32 bytes per segment) beside
the share, so ranges and spot checks verify without reading the whole share.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import blake3
from pyeclib.ec_iface import ECDriver

EC_TYPE = "isa_l_rs_cauchy"
LEAF = 32
CHUNK = 1024  # leaves under one chunk root (a power of two): 32 KiB of leaves per spot check


class Codec:
    def __init__(self, k: int, n: int, ec_type: str = EC_TYPE):
        if not 1 <= k <= n:
            raise ValueError("1 <= k <= n")
        self.k, self.n, self.ec_type = k, n, ec_type
        # The codecs need at least one parity fragment; n == k stores the data fragments alone.
        self._driver = ECDriver(k=k, m=max(n - k, 1), ec_type=ec_type)
        probe: bytes = self._driver.encode(b"probe")[0]
        found: Any = self._driver.get_metadata(probe, formatted=True)  # a dict when formatted
        self.header = len(probe) - int(found["size"])  # the codec's header before each piece

    def encode(self, data: bytes) -> list[bytes]:
        fragments: list[bytes] = self._driver.encode(data)
        return fragments[: self.n]

    def decode(self, fragments: dict[int, bytes], size: int) -> bytes:
        """The ``size`` bytes encoded in k fragments (by slot). The code is systematic: the
        k data fragments (slots 0 .. k-1) carry the data itself, cut in k pieces after a
        header, so with those decoding is joining the pieces (one copy; the codec's own
        decode costs about three times as much). Every fragment was checked against its
        share's tree before, and AES-GCM checks the result after, so this path trusts
        nothing the slow one would have checked."""
        pieces = self.pieces(fragments, size)
        if pieces is not None:
            return b"".join(pieces)
        slots = sorted(fragments)[: self.k]
        data: bytes = self._driver.decode([fragments[s] for s in slots])
        return data

    def pieces(self, fragments: dict[int, bytes], size: int) -> list[memoryview] | None:
        """The ``size`` bytes encoded in k fragments as the k pieces the data fragments
        carry (views: nothing copied), whose concatenation :meth:`decode` returns; None
        when the fragments are not the k data fragments (or are too short for ``size``)."""
        if not self.joins(fragments):
            return None
        pieces, wanted = [], size
        for slot in range(self.k):
            piece = memoryview(fragments[slot])[self.header : self.header + wanted]
            pieces.append(piece)
            wanted -= len(piece)
        return None if wanted else pieces

    def joins(self, fragments: Mapping[int, object]) -> bool:
        """Whether :meth:`decode` of these fragments is a join (the k data shares)."""
        return sorted(fragments)[: self.k] == list(range(self.k))

    def reconstruct(self, fragments: list[bytes], slot: int) -> bytes:
        rebuilt: list[bytes] = self._driver.reconstruct(fragments, [slot])
        return rebuilt[0]


def leaf(*fragment: bytes | bytearray | memoryview) -> bytes:
    """BLAKE3 of a zero byte and the fragment, which may come in pieces where they lie (a
    read puts a fragment's header and the rest in two places): nothing joined first."""
    hasher = blake3.blake3(b"\0")
    for piece in fragment:
        hasher.update(piece)
    return hasher.digest()


def root(leaves: list[bytes]) -> str:
    """The tree's root over ``leaves`` (an odd node is carried up unchanged)."""
    return _top(leaves or [blake3.blake3(b"\2").digest()]).hex()


def _top(level: list[bytes]) -> bytes:
    while len(level) > 1:
        paired = [
            blake3.blake3(b"\1" + a + b).digest()
            for a, b in zip(level[::2], level[1::2], strict=False)
        ]
        level = paired + ([level[-1]] if len(level) % 2 else [])
    return level[0]


def chunk_roots(leaves: list[bytes]) -> list[bytes]:
    """The tree's nodes ``CHUNK`` levels up: the roots of each run of CHUNK leaves. CHUNK
    is a power of two, so the pairing inside a run is the pairing of the whole tree (a
    short last run is carried up as its odd node would be), and the tree over these nodes
    has the very same root: a spot check verifies one run of leaves against them, and
    them against the signed root, without the other leaves."""
    return [_top(leaves[i : i + CHUNK]) for i in range(0, len(leaves), CHUNK)]


def tree_blob(leaves: list[bytes]) -> bytes:
    """What a share's tree object holds: its leaves, then its chunk roots."""
    return b"".join(leaves) + b"".join(chunk_roots(leaves))


def chunks_of(segments: int) -> int:
    return -(-segments // CHUNK)


def top_of(nodes: list[bytes]) -> str:
    return _top(nodes).hex() if nodes else root([])


def split_leaves(blob: bytes) -> list[bytes]:
    return [blob[i : i + LEAF] for i in range(0, len(blob), LEAF)]
