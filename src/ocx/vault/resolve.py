"""Which version of a name to read, and from whom: the highest ``(version, revision)``
listed and verified at ≥ k providers. Every provider that serves less is named: one that
lists only older versions is *stale* (rolled back), one whose copy is not what the customer
signed is *forged*, one that holds nothing is *missing*, one that does not answer
*unreachable*."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import Executor
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ocx.vault import crypto, shamir
from ocx.vault.errors import NotEnoughShares, Problem, VaultConfigError, VaultNotFound
from ocx.vault.manifest import Copy, Forged, Manifest, load_copy
from ocx.vault.store import (
    Store,
    StoreError,
    manifest_path,
    manifest_prefix,
    parse_manifest_path,
)
from ocx.vault.writer import wrap_context

Order = tuple[int, int]


@dataclass
class Resolved:
    manifest: Manifest
    copies: dict[int, Copy]  # slot → that provider's verified copy
    problems: list[Problem] = field(default_factory=list)

    @property
    def good_slots(self) -> list[int]:
        bad = {p.landlord for p in self.problems}
        slots = sorted(self.copies)
        return [s for s in slots if self.manifest.share(s).landlord not in bad] + [
            s for s in slots if self.manifest.share(s).landlord in bad
        ]


class Resolver:
    def __init__(self, stores: list[Store], public: Ed25519PublicKey, k: int, io: Executor):
        self.stores, self.public, self.k, self.io = stores, public, k, io

    def listings(
        self, name_id: str, early: dict[tuple[int, Order], Copy | Problem] | None = None
    ) -> tuple[dict[int, list[Order]], list[Problem]]:
        """Every provider's versions of the name, newest first (and the providers that did
        not answer). With ``early``, each provider's newest copy is fetched as soon as its
        own listing is in, not after every listing (one round trip less for a read: it is
        the copy a read almost always needs), and kept there by (slot, version)."""
        found: dict[int, list[Order]] = {}
        problems: list[Problem] = []
        futures = {
            s: self.io.submit(self._listing, s, name_id, early is not None)
            for s in range(len(self.stores))
        }
        for slot, future in futures.items():
            try:
                orders, newest = future.result()
            except StoreError as exc:
                problems.append(Problem(exc.landlord, exc.kind, exc.detail))
                continue
            found[slot] = orders
            if early is not None and newest is not None:
                early[(slot, orders[0])] = newest
        return found, problems

    def _listing(
        self, slot: int, name_id: str, fetch: bool
    ) -> tuple[list[Order], Copy | Problem | None]:
        names = self.stores[slot].list(manifest_prefix(name_id))
        parsed = (parse_manifest_path(n) for n in names)
        orders = sorted((o for o in parsed if o is not None), reverse=True)
        if not (fetch and orders):
            return orders, None
        return orders, self._copy(slot, manifest_path(name_id, *orders[0]), orders[0])

    def resolve(self, name_id: str, what: str) -> Resolved:
        early: dict[tuple[int, Order], Copy | Problem] = {}
        listed, problems = self.listings(name_id, early)
        counts = Counter(order for orders in listed.values() for order in orders)
        if not counts and not problems:
            raise VaultNotFound(f"{what}: not in the vault")
        forged: dict[int, Problem] = {}
        for order in sorted(counts, reverse=True):
            if counts[order] < self.k:
                continue
            copies = self._copies(name_id, order, listed, forged, early)
            if len(copies) >= self.k:
                resolved = Resolved(next(iter(copies.values())).manifest, copies)
                found = self._others(name_id, resolved, listed, forged, early)
                resolved.problems = problems + found
                return resolved
        if not counts:
            raise NotEnoughShares(what, problems)
        raise NotEnoughShares(what, problems + list(forged.values()))

    def _copies(
        self,
        name_id: str,
        order: Order,
        listed: dict[int, list[Order]],
        forged: dict[int, Problem],
        early: dict[tuple[int, Order], Copy | Problem],
    ) -> dict[int, Copy]:
        path = manifest_path(name_id, *order)
        slots = [s for s, orders in listed.items() if order in orders and s not in forged]
        futures = {
            s: self.io.submit(self._copy, s, path, order) for s in slots if (s, order) not in early
        }
        copies: dict[int, Copy] = {}
        for slot in slots:
            result = futures[slot].result() if slot in futures else early[(slot, order)]
            if isinstance(result, Problem):
                forged[slot] = result
            else:
                copies[slot] = result
        bodies = Counter(c.signed_body() for c in copies.values())
        if len(bodies) > 1:  # two signed bodies for one version: keep the majority
            keep = bodies.most_common(1)[0][0]
            for slot in [s for s, c in copies.items() if c.signed_body() != keep]:
                store = self.stores[slot]
                forged[slot] = Problem(store.landlord, "forged", "a different copy of this version")
                del copies[slot]
        return copies

    def _copy(self, slot: int, path: str, order: Order) -> Copy | Problem:
        store = self.stores[slot]
        try:
            copy = load_copy(store.get(path), self.public)
        except StoreError as exc:
            return Problem(exc.landlord, exc.kind, exc.detail)
        except Forged as exc:
            return Problem(store.landlord, "forged", f"manifest {order[0]}.{order[1]}: {exc}")
        manifest = copy.manifest
        if manifest.order != order or manifest.name_id != path.split("/")[1]:
            return Problem(store.landlord, "forged", "manifest served under another name")
        if copy.slot != slot or manifest.share(slot).landlord != store.landlord:
            return Problem(store.landlord, "swapped", f"holds slot {copy.slot}'s manifest")
        return copy

    def _others(
        self,
        name_id: str,
        resolved: Resolved,
        listed: dict[int, list[Order]],
        forged: dict[int, Problem],
        early: dict[tuple[int, Order], Copy | Problem],
    ) -> list[Problem]:
        order = resolved.manifest.order
        found = list(forged.values())
        for slot, store in enumerate(self.stores):
            orders = listed.get(slot)
            if orders is None or slot in forged:
                continue  # unreachable or forged: already named
            newer = [o for o in orders if o > order]
            if newer:  # a forged newer version, or a write that never completed
                result = early.get((slot, newer[0])) or self._copy(
                    slot, manifest_path(name_id, *newer[0]), newer[0]
                )
                if isinstance(result, Problem):
                    found.append(result)
                    continue
            if slot in resolved.copies:
                continue
            if resolved.manifest.deleted:  # a provider that lists nothing is fine here
                older = [o for o in orders if o < order]
                if older:
                    was, now = f"{older[0][0]}.{older[0][1]}", f"{order[0]}.{order[1]}"
                    stale = f"serves {was}, deleted at {now}"
                    found.append(Problem(store.landlord, "stale", stale))
                continue
            if not resolved.manifest.share(slot).root:
                was = f"version {order[0]} was written without it (it failed then)"
                found.append(Problem(store.landlord, "missing", f"{was}: repair rebuilds it"))
                continue
            older = [o for o in orders if o < order]
            if older:
                was = f"{older[0][0]}.{older[0][1]}"
                now = f"{order[0]}.{order[1]}"
                found.append(Problem(store.landlord, "stale", f"serves {was}, not {now}"))
            elif not newer:
                found.append(Problem(store.landlord, "missing", f"no version {order[0]}"))
        return found


def data_key(resolved: Resolved, wrap_key: bytes | None) -> bytes:
    """The version's data key from k verified key shares, checked against the manifest."""
    manifest = resolved.manifest
    if manifest.wrapped and wrap_key is None:
        raise VaultConfigError("this version's key shares are wrapped: give --wrap-key")
    shares = []
    for slot, copy in sorted(resolved.copies.items()):
        share = copy.key_share
        if manifest.wrapped:
            assert wrap_key is not None
            try:
                share = crypto.open_small(wrap_key, share, wrap_context(manifest, slot))
            except crypto.Unsealed:
                raise VaultConfigError("the wrapping key does not open the key shares") from None
        shares.append(share)
    key = shamir.combine(shares, manifest.k)
    if crypto.key_check(key) != manifest.key_check:
        raise NotEnoughShares("data key", resolved.problems)
    return key
