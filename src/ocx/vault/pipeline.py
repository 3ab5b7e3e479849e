"""The write pipeline, in memory: plaintext segments → sealed → erasure-coded → hashed.

Segments are read one ahead so the last one is known (its associated data says so); an
empty object is one empty last segment. The C codecs run in a thread pool, a bounded
window of segments in flight, results in order: memory stays a few segments whatever the
object's size.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from typing import BinaryIO

from ocx.vault.codec import Codec, leaf
from ocx.vault.crypto import SegmentCipher


@dataclass(frozen=True)
class Encoded:
    index: int
    plain_len: int
    last: bool
    fragments: list[bytes]
    leaves: list[bytes]


def read_full(source: BinaryIO, size: int) -> bytes:
    parts = []
    wanted = size
    while wanted:
        got = source.read(wanted)
        if not got:
            break
        parts.append(got)
        wanted -= len(got)
    return b"".join(parts)


def segments(source: BinaryIO, size: int) -> Iterator[tuple[int, bytes, bool]]:
    current = read_full(source, size)
    index = 0
    while True:
        following = read_full(source, size) if len(current) == size else b""
        last = not following
        yield index, current, last
        if last:
            return
        current, index = following, index + 1


class Pipeline:
    def __init__(self, cipher: SegmentCipher, codec: Codec, pool: Executor, depth: int = 3):
        self.cipher, self.codec, self.pool, self.depth = cipher, codec, pool, depth

    def run(self, source: BinaryIO, segment_size: int) -> Iterator[Encoded]:
        window: deque[Future[Encoded]] = deque()
        try:
            for index, plain, last in segments(source, segment_size):
                window.append(self.pool.submit(self.one, index, plain, last))
                if len(window) >= self.depth:
                    yield window.popleft().result()
            while window:
                yield window.popleft().result()
        finally:
            for pending in window:
                pending.cancel()

    def one(self, index: int, plain: bytes, last: bool) -> Encoded:
        fragments = self.codec.encode(self.cipher.seal(index, plain, last))
        return Encoded(index, len(plain), last, fragments, [leaf(f) for f in fragments])
