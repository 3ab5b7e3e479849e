"""Writing one object version: the pipeline's fragments streamed to n providers at once
(share i, in parts, to provider i), then each share's tree, then the manifest copies, each
with its own key share. Nothing is visible before its manifest: a write that fails part
way leaves no manifest, and what it wrote is removed.

A provider that fails during the write is dropped from it; the write goes on while the
plan's quorum (by default k + 1) remains. The signed manifest then records which shares
were not written (an empty root), readers name those providers, and ``ocx vault repair``
rebuilds their shares later, in place once they answer again."""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from dataclasses import dataclass, replace
from typing import BinaryIO

from ocx.vault import crypto, shamir
from ocx.vault.codec import Codec, root, tree_blob
from ocx.vault.errors import Problem, ProviderFailed
from ocx.vault.manifest import Copy, Manifest, ShareEntry, sign
from ocx.vault.pipeline import Pipeline
from ocx.vault.providers import Offering
from ocx.vault.store import Store, StoreError, manifest_path, part_path, tree_path

QUEUE_FRAGMENTS = 4


class ShareSink:
    """Streams one share to one provider from a bounded queue, in parts, on its own thread."""

    def __init__(self, store: Store, object_id: str, slot: int, per_part: int):
        self.store, self.object_id, self.slot, self.per_part = store, object_id, slot, per_part
        self.queue: queue.Queue[bytes | None] = queue.Queue(QUEUE_FRAGMENTS)
        self.error: StoreError | None = None
        self.leaves: list[bytes] = []
        self._end_seen = threading.Event()  # the producer's last None was taken
        self.thread = threading.Thread(target=self._run, daemon=True, name=f"vault-put-{slot}")
        self.thread.start()

    def send(self, fragment: bytes, leaf: bytes) -> None:
        self.leaves.append(leaf)
        self.queue.put(fragment)

    def finish(self) -> StoreError | None:
        self.queue.put(None)
        self.thread.join()
        return self.error

    def _run(self) -> None:
        try:
            part = 0
            while (first := self.queue.get()) is not None:
                self.store.put(part_path(self.object_id, self.slot, part), self._part(first))
                if self._end_seen.is_set():
                    return
                part += 1
            self._end_seen.set()
        except Exception as exc:
            failed = exc if isinstance(exc, StoreError) else None
            self.error = failed or StoreError(self.store.landlord, "unreachable", repr(exc))
            while not self._end_seen.is_set():  # keep the producer moving
                if self.queue.get() is None:
                    self._end_seen.set()

    def _part(self, first: bytes) -> Iterator[bytes]:
        yield first
        for _ in range(self.per_part - 1):
            item = self.queue.get()
            if item is None:
                self._end_seen.set()
                return
            yield item


@dataclass(frozen=True)
class Plan:
    name: str
    name_id: str
    version: int
    segment_size: int
    per_part: int
    k: int
    providers: tuple[Offering, ...]
    quorum: int = 0  # providers that must take the version; 0: all of them


class Writer:
    def __init__(
        self,
        stores: list[Store],
        codec: Codec,
        pool: Executor,
        signer: crypto.Signer,
        meta_key: bytes,
        wrap_key: bytes | None,
    ):
        self.stores, self.codec, self.pool = stores, codec, pool
        self.signer, self.meta_key, self.wrap_key = signer, meta_key, wrap_key

    def write(self, plan: Plan, source: BinaryIO) -> Manifest:
        key, object_id = crypto.new_key(), crypto.new_object_id()
        cipher = crypto.SegmentCipher(key, object_id, plan.version)
        quorum = plan.quorum or len(self.stores)
        failed: dict[int, Problem] = {}
        for slot, store in enumerate(self.stores):
            self._attempt(failed, slot, store.ensure)
        self._enough(failed, quorum, object_id)
        sinks = {
            i: ShareSink(s, object_id, i, plan.per_part)
            for i, s in enumerate(self.stores)
            if i not in failed
        }
        size = segments = 0
        sizes: list[int] = []
        try:
            for enc in Pipeline(cipher, self.codec, self.pool).run(source, plan.segment_size):
                size, segments = size + enc.plain_len, segments + 1
                sizes = [len(enc.fragments[0])] if not sizes else [sizes[0], len(enc.fragments[0])]
                for slot, sink in sinks.items():
                    sink.send(enc.fragments[slot], enc.leaves[slot])
        finally:
            for slot, sink in sinks.items():
                error = sink.finish()
                if error is not None:
                    failed[slot] = Problem(error.landlord, error.kind, error.detail)
        self._enough(failed, quorum, object_id)
        for slot, sink in sinks.items():
            if slot not in failed:
                tree = tree_blob(sink.leaves)
                self._attempt(failed, slot, self.stores[slot].put, tree_path(object_id, slot), tree)
        self._enough(failed, quorum, object_id)
        draft = Manifest(
            name_id=plan.name_id,
            name_sealed=crypto.b64(
                crypto.seal_small(self.meta_key, plan.name.encode(), plan.name_id.encode())
            ),
            version=plan.version,
            revision=0,
            object_id=object_id,
            size=size,
            segment_size=plan.segment_size,
            segments=segments,
            k=plan.k,
            n=len(self.stores),
            ec_type=self.codec.ec_type,
            fragment_size=sizes[0],
            last_fragment_size=sizes[-1],
            fragments_per_part=plan.per_part,
            key_check=crypto.key_check(key),
            wrapped=self.wrap_key is not None,
            created=time.time(),
        )
        roots = ["" if i in failed else root(sinks[i].leaves) for i in range(len(self.stores))]
        try:
            published = self.publish(draft, key, plan.providers, roots, quorum)
        except ProviderFailed:
            self._abandon(object_id, manifest_path(plan.name_id, plan.version, 0))
            raise
        self._abandon(object_id, slots=[i for i in failed if not roots[i]])  # half shares
        return published

    def publish(
        self,
        draft: Manifest,
        key: bytes,
        providers: tuple[Offering, ...],
        roots: list[str],
        required: int | None = None,
    ) -> Manifest:
        """Split the key afresh and write the manifest's copy, each with its key share, at
        every provider that holds a share (an empty root: none); at least ``required`` of
        them must take it (all by default). A share not written keeps no key share either."""
        raw = shamir.split(key, draft.k, draft.n)
        stored = [self.wrap(draft, slot, share) for slot, share in enumerate(raw)]
        entries = tuple(
            ShareEntry(slot, p.landlord, p.owner, roots[slot], _hash_if(roots[slot], stored[slot]))
            for slot, p in enumerate(providers)
        )
        manifest = replace(draft, shares=entries)
        signature = sign(manifest, self.signer)
        path = manifest_path(manifest.name_id, manifest.version, manifest.revision)
        failed: dict[int, Problem] = {}
        holders = [slot for slot in range(len(self.stores)) if roots[slot]]
        for slot in holders:
            copy = Copy(manifest, signature, slot, stored[slot])
            self._attempt(failed, slot, self.stores[slot].put, path, copy.dumps())
        if len(holders) - len(failed) < (len(self.stores) if required is None else required):
            raise ProviderFailed(*failed.values())
        return manifest

    def tombstone(
        self, plan: Plan, slots: list[int], required: int, revision: int = 0
    ) -> tuple[Manifest, list[Problem]]:
        """Write a signed tombstone for ``plan``'s name at version ``plan.version`` to the
        providers of ``slots``: the tombstone, and the providers that did not take it. Below
        ``required`` of them, the copies written are taken back and :class:`ProviderFailed`
        says who failed (nothing is removed then: the rm did not happen)."""
        entries = tuple(
            ShareEntry(slot, p.landlord, p.owner, "", crypto.digest(b""))
            for slot, p in enumerate(plan.providers)
        )
        manifest = Manifest(
            name_id=plan.name_id,
            name_sealed=crypto.b64(
                crypto.seal_small(self.meta_key, plan.name.encode(), plan.name_id.encode())
            ),
            version=plan.version,
            revision=revision,
            object_id="",
            size=0,
            segment_size=plan.segment_size,
            segments=0,
            k=plan.k,
            n=len(self.stores),
            ec_type=self.codec.ec_type,
            fragment_size=0,
            last_fragment_size=0,
            fragments_per_part=plan.per_part,
            key_check="",
            wrapped=False,
            created=time.time(),
            shares=entries,
            deleted=True,
        )
        signature = sign(manifest, self.signer)
        path = manifest_path(manifest.name_id, manifest.version, manifest.revision)
        failed: dict[int, Problem] = {}
        for slot in slots:
            copy = Copy(manifest, signature, slot, b"")
            self._attempt(failed, slot, self.stores[slot].put, path, copy.dumps())
        if len(slots) - len(failed) < required:
            for slot in slots:
                if slot not in failed:
                    with contextlib.suppress(StoreError):
                        self.stores[slot].delete(path)
            raise ProviderFailed(*failed.values())
        return manifest, list(failed.values())

    def wrap(self, manifest: Manifest, slot: int, share: bytes) -> bytes:
        if self.wrap_key is None:
            return share
        return crypto.seal_small(self.wrap_key, share, wrap_context(manifest, slot))

    def _enough(self, failed: dict[int, Problem], quorum: int, object_id: str) -> None:
        """Go on only while ``quorum`` providers are still taking the write."""
        if len(self.stores) - len(failed) < quorum:
            self._abandon(object_id)
            raise ProviderFailed(*failed.values())

    def _abandon(
        self, object_id: str, manifest: str | None = None, slots: list[int] | None = None
    ) -> None:
        """Remove what a failed write left at ``slots`` (all by default); best effort: a
        provider that failed may well not answer now either, and no manifest's tree root
        covers its leftovers."""
        for slot in range(len(self.stores)) if slots is None else slots:
            store = self.stores[slot]
            with contextlib.suppress(StoreError):
                if manifest is not None:
                    store.delete(manifest)
                for name in store.list(f"d/{object_id}/{slot}/"):
                    store.delete(name)
                store.delete(tree_path(object_id, slot))

    @staticmethod
    def _attempt(
        failed: dict[int, Problem], slot: int, call: Callable[..., object], *args: object
    ) -> None:
        try:
            call(*args)
        except StoreError as exc:
            failed[slot] = Problem(exc.landlord, exc.kind, exc.detail)


def _hash_if(held: str, key_share: bytes) -> str:
    """The key share's hash for a share that was written; none for one that was not (its
    key share is dropped: no provider keeps it)."""
    return crypto.digest(key_share) if held else ""


def wrap_context(manifest: Manifest, slot: int) -> bytes:
    return f"ocx-vault-keyshare:{manifest.object_id}:{manifest.version}:{slot}".encode()
