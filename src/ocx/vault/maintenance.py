"""Keeping a vault healthy: status, verify (spot checks or full), repair and migrate.

Repair rebuilds one slot's share at a new provider of a new owner from k good shares:
fragments are reconstructed from fragments, never decrypted, so no plaintext is held.
The data key is re-split for the new set (the old provider's key share then combines with
nothing), and a new revision of each manifest is published.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, replace

from ocx.vault import crypto
from ocx.vault.codec import (
    CHUNK,
    LEAF,
    chunk_roots,
    chunks_of,
    leaf,
    root,
    split_leaves,
    top_of,
    tree_blob,
)
from ocx.vault.config import VaultConfig
from ocx.vault.errors import NotEnoughShares, Problem, VaultConfigError
from ocx.vault.manifest import Manifest
from ocx.vault.providers import Offering
from ocx.vault.reader import Reader, fragments, load_leaves
from ocx.vault.resolve import Resolved, Resolver, data_key
from ocx.vault.store import Store, StoreError, tree_path
from ocx.vault.vault import Vault
from ocx.vault.writer import Plan, ShareSink, Writer

Progress = Callable[[int], None]


@dataclass(frozen=True)
class Checked:
    name: str
    version: int
    problems: tuple[Problem, ...]


@dataclass(frozen=True)
class ProviderStatus:
    slot: int
    landlord: str
    owner: str
    answers: bool
    manifests: int
    detail: str


def status(vault: Vault) -> list[ProviderStatus]:
    found = []
    for slot, (offer, store) in enumerate(zip(vault.config.providers, vault.stores, strict=True)):
        try:
            count, answers, detail = len(store.list("m/")), True, "answers"
        except StoreError as exc:
            count, answers, detail = 0, False, exc.detail
        found.append(ProviderStatus(slot, offer.landlord, offer.owner, answers, count, detail))
    return found


def verify(
    vault: Vault, full: bool = False, samples: int = 3, progress: Progress | None = None
) -> list[Checked]:
    """Every name's current version at every provider: the tree against the signed root,
    then ``samples`` random fragments against the tree (every fragment with ``full``)."""
    results = []
    for name_id in sorted(vault.names()):
        try:
            resolved = vault.resolver.resolve(name_id, name_id)
        except NotEnoughShares as exc:
            results.append(Checked(name_id, 0, tuple(exc.problems)))
            continue
        name = _name(vault, resolved.manifest)
        problems = list(resolved.problems)
        for slot in [] if resolved.manifest.deleted else sorted(resolved.copies):
            found = _check_share(vault.stores[slot], resolved.manifest, slot, full, samples)
            problems += [found] if found else []
            if progress:
                progress(1)
        results.append(Checked(name, resolved.manifest.version, tuple(problems)))
    return results


def _check_share(
    store: Store, manifest: Manifest, slot: int, full: bool, samples: int
) -> Problem | None:
    if full:
        picks = list(range(manifest.segments))
        found = load_leaves(store, manifest, slot)
        leaves = found if isinstance(found, Problem) else dict(enumerate(found))
    else:
        picks = sorted(random.sample(range(manifest.segments), min(samples, manifest.segments)))
        leaves = spot_leaves(store, manifest, slot, picks)
    if isinstance(leaves, Problem):
        return leaves
    runs = [(0, manifest.segments)] if full else [(i, i + 1) for i in picks]
    try:
        for first, end in runs:
            for item in fragments(store, manifest, slot, first, end):
                if isinstance(item, Problem):
                    return item
                index, _, digest = item
                if digest != leaves[index]:
                    kind = "swapped" if digest in leaves.values() else "corrupt"
                    return Problem(store.landlord, kind, f"segment {index} fails its hash")
    except StoreError as exc:
        return Problem(exc.landlord, exc.kind, exc.detail)
    return None


def spot_leaves(
    store: Store, manifest: Manifest, slot: int, picks: list[int]
) -> dict[int, bytes] | Problem:
    """The leaves of segments ``picks``: the tree's chunk roots checked against the signed
    root, then each run of CHUNK leaves that holds a pick against its chunk root; 32 KiB of
    leaves a sample instead of 32 bytes per segment of the share. A tree without chunk
    roots (or of one chunk) is read whole."""
    m, path = manifest, tree_path(manifest.object_id, slot)
    chunks = chunks_of(m.segments)
    try:
        tops = _nodes(store, path, m.segments, chunks) if chunks > 1 else []
    except StoreError as exc:
        if exc.kind != "truncated":  # truncated: a tree kept before chunk roots were
            return Problem(exc.landlord, exc.kind, f"tree: {exc.detail}")
        tops = []
    if len(tops) != chunks:
        whole = load_leaves(store, m, slot)
        return whole if isinstance(whole, Problem) else {i: whole[i] for i in picks}
    if top_of(tops) != m.share(slot).root:
        return Problem(store.landlord, "corrupt", "tree's chunk roots do not match the signed root")
    found: dict[int, bytes] = {}
    for chunk in sorted({i // CHUNK for i in picks}):
        first = chunk * CHUNK
        try:
            run = _nodes(store, path, first, min(CHUNK, m.segments - first))
        except StoreError as exc:
            return Problem(exc.landlord, exc.kind, f"tree: {exc.detail}")
        if chunk_roots(run) != [tops[chunk]]:
            return Problem(store.landlord, "corrupt", f"tree's leaves of chunk {chunk} are wrong")
        found.update({i: run[i - first] for i in picks if i // CHUNK == chunk})
    return found


def _nodes(store: Store, path: str, first: int, count: int) -> list[bytes]:
    """``count`` 32-byte nodes of a tree object from node ``first`` on (fewer if short)."""
    with store.ranged(path, LEAF * first, LEAF * count) as read:
        return split_leaves(read(LEAF * count))


def repair(
    vault: Vault, slot: int, offer: Offering, progress: Progress | None = None
) -> tuple[VaultConfig, list[Checked]]:
    """Rebuild slot ``slot`` of every name at ``offer`` (a new provider, or the slot's own
    one when it answers again: a share a write could not give it, or one it lost); the new
    configuration, and the names that could not be rebuilt (fewer than k good shares)."""
    cfg = vault.config
    others = [p for i, p in enumerate(cfg.providers) if i != slot]
    if offer.owner in {p.owner for p in others} or offer.landlord in {p.landlord for p in others}:
        raise VaultConfigError(
            f"{offer.landlord} (owner {offer.owner}) would be a second share of one owner"
        )
    target = vault.make_store(offer, cfg.container)
    try:
        target.ensure()
    except StoreError as exc:
        raise VaultConfigError(f"{offer.landlord} cannot take a share: {exc.detail}") from exc
    stores = list(vault.stores)
    stores[slot] = target
    new_cfg = cfg.with_provider(slot, offer)
    failed = []
    for name_id in sorted(vault.names()):
        try:
            resolved = vault.resolver.resolve(name_id, name_id)
            if resolved.manifest.deleted:
                _retomb(vault, resolved, stores, new_cfg.providers)
            else:
                _rebuild(vault, resolved, slot, target, stores, new_cfg.providers, progress)
        except NotEnoughShares as exc:
            failed.append(Checked(name_id, 0, tuple(exc.problems)))
    vault.retired.append(vault.stores[slot])
    vault.stores[slot] = target
    vault.config = new_cfg
    return new_cfg, failed


def _rebuild(
    vault: Vault,
    resolved: Resolved,
    slot: int,
    target: Store,
    stores: list[Store],
    providers: tuple[Offering, ...],
    progress: Progress | None,
) -> None:
    m = resolved.manifest
    key = data_key(resolved, vault.wrap_key)
    reader = Reader(resolved, vault.stores, key, vault.codec, vault.pool, exclude=(slot,))
    sink = ShareSink(target, m.object_id, slot, m.fragments_per_part)
    try:
        for index in range(m.segments):
            got = reader.whole_fragments(index, m.segments)
            fragment = vault.pool.submit(vault.codec.reconstruct, list(got.values()), slot).result()
            sink.send(fragment, leaf(fragment))
            if progress:
                progress(len(fragment))
    finally:
        reader.stop()
        error = sink.finish()
    if error is not None:
        raise VaultConfigError(f"{target.landlord} failed while taking the share: {error}")
    target.put(tree_path(m.object_id, slot), tree_blob(sink.leaves))
    roots = [entry.root for entry in m.shares]
    roots[slot] = root(sink.leaves)
    draft = replace(m, revision=m.revision + 1)
    writer = Writer(
        stores, vault.codec, vault.pool, vault.signer, vault.config.meta, vault.wrap_key
    )
    published = writer.publish(draft, key, providers, roots, required=m.k)
    listed, _ = Resolver(stores, vault.signer.public, m.k, vault.io).listings(m.name_id)
    older = {s: [o for o in orders if o < published.order] for s, orders in listed.items()}
    vault.drop_older(m.name_id, published.order, older, stores)


def _retomb(
    vault: Vault, resolved: Resolved, stores: list[Store], providers: tuple[Offering, ...]
) -> None:
    """A removed name: its tombstone again, as a new revision naming the new set of
    providers, at every one of them (the new one too: it has no share to rebuild, but
    without the tombstone it would count for nothing against an older version)."""
    m = resolved.manifest
    plan = Plan(
        _name(vault, m), m.name_id, m.version, m.segment_size, m.fragments_per_part, m.k, providers
    )
    writer = Writer(
        stores, vault.codec, vault.pool, vault.signer, vault.config.meta, vault.wrap_key
    )
    published, _ = writer.tombstone(plan, list(range(len(stores))), m.k, m.revision + 1)
    listed, _ = Resolver(stores, vault.signer.public, m.k, vault.io).listings(m.name_id)
    older = {s: [o for o in orders if o < published.order] for s, orders in listed.items()}
    vault.drop_older(m.name_id, published.order, older, stores)


def migrate(
    vault: Vault, landlord: str, offer: Offering, progress: Progress | None = None
) -> tuple[VaultConfig, list[Checked]]:
    """Move one provider's share to another (of a new owner); the old one is emptied."""
    slot = vault.config.slot_of(landlord)
    old = vault.make_store(vault.config.providers[slot], vault.config.container)
    new_cfg, failed = repair(vault, slot, offer, progress)
    try:
        for name in old.list(""):
            old.delete(name)
    except StoreError:
        pass  # unreachable: its shares are worthless without the new key split
    finally:
        old.close()
    return new_cfg, failed


def _name(vault: Vault, manifest: Manifest) -> str:
    sealed = crypto.unb64(manifest.name_sealed)
    return crypto.open_small(vault.config.meta, sealed, manifest.name_id.encode()).decode()
