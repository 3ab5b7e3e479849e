"""The vault's Python API (also ``ocx.clients.vault``).

from ocx.vault.vault import Vault
with Vault.open(config.load(path)) as vault:
    vault.put_file(Path("genome.tar"), "genome.tar")
    report = vault.get_file("genome.tar", Path("copy.tar"))
    print(report.problems)  # providers that served something bad, by name
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO

from ocx.proxy.client import session_for_cloud
from ocx.vault import crypto
from ocx.vault.codec import Codec
from ocx.vault.config import VaultConfig
from ocx.vault.errors import NotEnoughShares, Problem, ProviderFailed, VaultDeleted, VaultNotFound
from ocx.vault.manifest import Forged, Manifest, load_copy
from ocx.vault.providers import Offering
from ocx.vault.reader import Buffers, Reader
from ocx.vault.resolve import Resolved, Resolver, data_key
from ocx.vault.store import SessionAuth, Store, StoreError, manifest_path, tree_path
from ocx.vault.writer import Plan, Writer

StoreFactory = Callable[[Offering, str], Store]


@dataclass
class Report:
    manifest: Manifest
    bytes: int
    problems: list[Problem] = field(default_factory=list)


@dataclass(frozen=True)
class Entry:
    name: str
    size: int
    version: int
    created: float
    problems: tuple[Problem, ...] = ()
    deleted: bool = False


def codec_workers() -> int:
    """Threads for the C codecs: one core is left to the thread that reads, writes and
    coordinates (on two busy cores, a second codec thread measured slower, not faster)."""
    return max(1, min(4, (os.cpu_count() or 2) - 1))


def cloud_store(clouds_file: Path | None) -> StoreFactory:
    """Stores reached with the customer's own ``clouds.yaml`` entries (K2K away from home)."""

    def make(offer: Offering, container: str) -> Store:
        session = session_for_cloud(offer.cloud, clouds_file)
        return Store(offer.landlord, SessionAuth(session, offer.region), container)

    return make


class Vault:
    def __init__(
        self, config: VaultConfig, make_store: StoreFactory, wrap_key: bytes | None = None
    ):
        self.config, self.make_store, self.wrap_key = config, make_store, wrap_key
        self.stores = [make_store(p, config.container) for p in config.providers]
        self.retired: list[Store] = []  # stores replaced by repair or migration
        self.codec = Codec(config.k, config.n)
        self.pool = ThreadPoolExecutor(codec_workers(), thread_name_prefix="vault-codec")
        self.io = ThreadPoolExecutor(max(4, config.n), thread_name_prefix="vault-io")
        self.buffers = Buffers()  # reads' segment buffers, kept from one read to the next
        self.signer = config.signer

    @classmethod
    def open(
        cls, config: VaultConfig, clouds_file: Path | None = None, wrap_key: bytes | None = None
    ) -> Vault:
        return cls(config, cloud_store(clouds_file), wrap_key)

    def __enter__(self) -> Vault:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self.pool.shutdown(cancel_futures=True)
        self.io.shutdown(cancel_futures=True)
        for store in self.stores + self.retired:
            store.close()

    def name_id(self, name: str) -> str:
        return crypto.name_id(self.config.meta, name)

    @property
    def resolver(self) -> Resolver:
        return Resolver(self.stores, self.signer.public, self.config.k, self.io)

    def writer(self, stores: list[Store] | None = None) -> Writer:
        return Writer(
            stores or self.stores,
            self.codec,
            self.pool,
            self.signer,
            self.config.meta,
            self.wrap_key,
        )

    def resolve(self, name: str) -> Resolved:
        return self.resolver.resolve(self.name_id(name), name)

    def plan(self, name: str, listed: dict[int, list[tuple[int, int]]]) -> Plan:
        """A new version of ``name``: above every version any provider lists."""
        highest = max((o[0] for orders in listed.values() for o in orders), default=0)
        return Plan(
            name,
            self.name_id(name),
            max(highest + 1, time.time_ns() // 1000),
            self.config.segment_size,
            self.config.fragments_per_part,
            self.config.k,
            self.config.providers,
            self.config.write_quorum,
        )

    def put(self, name: str, source: BinaryIO) -> Manifest:
        name_id = self.name_id(name)
        listed, _ = self.resolver.listings(name_id)
        manifest = self.writer().write(self.plan(name, listed), source)
        self.drop_older(name_id, manifest.order, listed)
        return manifest

    def put_file(self, path: Path, name: str | None = None) -> Manifest:
        with path.open("rb") as source:
            return self.put(name or path.name, source)

    def get(self, name: str, out: BinaryIO, start: int = 0, end: int | None = None) -> Report:
        resolved = self.resolve(name)
        if resolved.manifest.deleted:
            raise VaultDeleted(name, resolved.manifest.version, _unique(resolved.problems))
        key = self.io.submit(data_key, resolved, self.wrap_key)
        reader = Reader(resolved, self.stores, key, self.codec, self.pool, buffers=self.buffers)
        reader.prefetch(self.io)
        count = reader.read(out, start, end)
        return Report(resolved.manifest, count, _unique(reader.problems))

    def get_file(
        self,
        name: str,
        path: Path,
        start: int = 0,
        end: int | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> Report:
        """Written to a temporary name, fsynced and renamed: never half a file."""
        tmp = path.with_name(f".{path.name}.vault-{os.getpid()}")
        try:
            with tmp.open("wb") as out:
                sink: Any = out if progress is None else _Counted(out, progress)
                report = self.get(name, sink, start, end)
                out.flush()
                os.fsync(out.fileno())
            tmp.replace(path)
        finally:
            tmp.unlink(missing_ok=True)
        return report

    def names(self) -> dict[str, set[int]]:
        """Every name id any provider lists, and which slots list it."""
        found: dict[str, set[int]] = {}
        futures = {s: self.io.submit(st.list, "m/") for s, st in enumerate(self.stores)}
        for slot, future in futures.items():
            with contextlib.suppress(StoreError):
                for path in future.result():
                    found.setdefault(path.split("/")[1], set()).add(slot)
        return found

    def ls(self, deleted: bool = False) -> list[Entry]:
        """The readable names (with ``deleted``, also those removed: size 0, their
        tombstone's version), each with the problems its read found."""
        entries = []
        for name_id in sorted(self.names()):
            try:
                resolved = self.resolver.resolve(name_id, name_id)
            except (VaultNotFound, NotEnoughShares):  # not readable: not listed
                continue
            m = resolved.manifest
            if m.deleted and not deleted:
                continue
            name = crypto.open_small(
                self.config.meta, crypto.unb64(m.name_sealed), m.name_id.encode()
            ).decode()
            problems = tuple(resolved.problems)
            entries.append(Entry(name, m.size, m.version, m.created, problems, m.deleted))
        return sorted(entries, key=lambda e: e.name)

    def rm(self, name: str) -> list[Problem]:
        """Remove ``name``: a signed tombstone above every version listed, at every provider
        that answers, then every older version there. What could not be removed, by
        provider: one that does not answer keeps its copies, but the tombstone outranks
        them (run rm again once it answers, to empty it).

        The tombstone must reach n - k + 1 providers (and k): then at most k - 1 lack it,
        too few to make an older version readable again. With fewer, nothing is removed
        and :class:`ProviderFailed` names the providers that failed."""
        name_id = self.name_id(name)
        resolver = self.resolver
        listed, problems = resolver.listings(name_id)
        if not any(listed.values()):
            if problems:
                raise NotEnoughShares(f"{name}: no provider could be asked", problems)
            raise VaultNotFound(f"{name}: not in the vault")
        try:
            top: Manifest | None = resolver.resolve(name_id, name).manifest
        except (NotEnoughShares, VaultNotFound):
            top = None  # removed all the same
        gone = top.order if top is not None and top.deleted else None
        if gone and all(order == gone for orders in listed.values() for order in orders):
            raise VaultDeleted(name, gone[0], problems)  # removed already: nothing left
        k, n = self.config.k, self.config.n
        try:
            tombstone, failed = self.writer().tombstone(
                self.plan(name, listed), sorted(listed), max(k, n - k + 1)
            )
        except ProviderFailed as exc:
            raise ProviderFailed(*problems, *exc.problems) from None
        return problems + failed + self.drop_older(name_id, tombstone.order, listed)

    def drop_older(
        self,
        name_id: str,
        keep: tuple[int, int] | None,
        listed: dict[int, list[tuple[int, int]]],
        stores: list[Store] | None = None,
    ) -> list[Problem]:
        """Remove every version in ``listed`` but ``keep``; what could not be removed (a
        provider that is down keeps its old copies, which reads then name as stale)."""
        failed = []
        for slot, orders in listed.items():
            store = (stores or self.stores)[slot]
            for order in orders:
                if order == keep:
                    continue
                try:
                    self._remove_version(store, slot, name_id, order, keep)
                except StoreError as exc:
                    detail = f"version {order[0]}.{order[1]} not removed: {exc.detail}"
                    failed.append(Problem(exc.landlord, exc.kind, detail))
        return failed

    def _remove_version(
        self,
        store: Store,
        slot: int,
        name_id: str,
        order: tuple[int, int],
        keep: tuple[int, int] | None,
    ) -> None:
        path = manifest_path(name_id, *order)
        try:
            copy = load_copy(store.get(path), self.signer.public)
            object_id = copy.manifest.object_id
            same_data = keep is not None and keep[0] == order[0]
        except Forged:
            object_id, same_data = None, True
        except StoreError as exc:
            if exc.kind != "missing":
                raise
            return  # gone meanwhile
        if object_id and not same_data:
            for part in store.list(f"d/{object_id}/"):
                store.delete(part)
            store.delete(tree_path(object_id, slot))
        store.delete(path)  # last: while it stays, a later rm finds what is left


class _Counted:
    def __init__(self, inner: BinaryIO, tick: Callable[[int], None]):
        self.inner, self.tick = inner, tick

    def write(self, data: bytes) -> int:
        self.tick(len(data))
        return self.inner.write(data)


def _unique(problems: list[Problem]) -> list[Problem]:
    seen: list[Problem] = []
    for problem in problems:
        if problem not in seen:
            seen.append(problem)
    return seen
