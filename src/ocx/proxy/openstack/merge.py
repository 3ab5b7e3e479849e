"""Merging the listings of many landlords into one: pure functions, tested without a network.

A merged page is a k-way merge of each landlord's own page, in the order the client asked for
(``sort_key``/``sort_dir``, or the API's default). Because the proxy only ever takes items off
the front of each landlord's page, a page is always a *prefix* of every landlord's listing,
whatever the comparison between landlords says. The opaque marker records, for each landlord,
the id of its last item the client has seen (the landlord's own marker) and which landlords
have nothing more. The next page asks each landlord for what follows its own marker, so the
guarantees of each landlord's listing (no repeats, no gaps for what existed when the listing
began) hold for the merged one.
"""

from __future__ import annotations

import base64
import binascii
import heapq
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Item = dict[str, Any]
MARKER_PREFIX = "ocx1."

# Sort keys of the APIs and the view fields that hold them (Nova's views say "created").
FIELDS: dict[str, tuple[str, ...]] = {
    "created_at": ("created_at", "created"),
    "updated_at": ("updated_at", "updated"),
    "display_name": ("name", "display_name"),
    "uuid": ("id",),
    "flavorid": ("id",),
    "memory_mb": ("ram",),
    "root_gb": ("disk",),
    "vm_state": ("OS-EXT-STS:vm_state", "status"),
}


@dataclass(frozen=True)
class SortKey:
    key: str
    descending: bool


@dataclass(frozen=True)
class Position:
    """Where the client stands in each landlord's listing."""

    after: Mapping[str, str] = field(default_factory=dict)  # landlord -> its last id seen
    done: frozenset[str] = frozenset()


def encode_marker(position: Position) -> str:
    doc = {"a": dict(sorted(position.after.items())), "d": sorted(position.done)}
    raw = json.dumps(doc, separators=(",", ":")).encode()
    return MARKER_PREFIX + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_marker(marker: str) -> Position | None:
    """The position a proxy marker encodes; None for anything else (a plain id, garbage)."""
    if not marker.startswith(MARKER_PREFIX):
        return None
    text = marker[len(MARKER_PREFIX) :]
    try:
        doc = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (ValueError, binascii.Error):
        return None
    after, done = (doc.get("a"), doc.get("d")) if isinstance(doc, dict) else (None, None)
    if not isinstance(after, dict) or not isinstance(done, list):
        return None
    if not all(isinstance(v, str) for v in [*after, *after.values(), *done]):
        return None
    return Position(dict(after), frozenset(done))


def sort_keys(
    keys: Sequence[str], dirs: Sequence[str], default: Sequence[SortKey]
) -> list[SortKey]:
    """Nova's and Cinder's ``sort_key``/``sort_dir`` pairs (a missing direction is desc)."""
    if not keys:
        return list(default)
    return [
        SortKey(key, (dirs[i] if i < len(dirs) else "desc").lower() != "asc")
        for i, key in enumerate(keys)
    ]


def parse_sort(text: str) -> list[SortKey]:
    """Glance's and Cinder's ``sort=key:dir,key2`` (a missing direction is desc)."""
    found = []
    for part in text.split(","):
        key, _, direction = part.strip().partition(":")
        if key:
            found.append(SortKey(key, (direction or "desc").lower() != "asc"))
    return found


def value_of(item: Item, key: str) -> Any:
    for name in FIELDS.get(key, (key,)):
        if name in item:
            return item[name]
    return None


def _compare_values(a: Any, b: Any) -> int:
    if a is None or b is None:
        return (a is None) - (b is None)  # missing values last
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return (a > b) - (a < b)
    a, b = str(a), str(b)
    return (a > b) - (a < b)


def comparator(keys: Sequence[SortKey]) -> Callable[[Item, Item], int]:
    def compare(a: Item, b: Item) -> int:
        for key in keys:
            found = _compare_values(value_of(a, key.key), value_of(b, key.key))
            if found:
                return -found if key.descending else found
        return 0

    return compare


@dataclass(frozen=True)
class Page:
    items: list[tuple[str, Item]]  # (landlord, item), in the merged order
    next: Position | None  # None: nothing more anywhere


def merge_page(
    pages: Mapping[str, Sequence[Item]],
    asked: int,
    keys: Sequence[SortKey],
    ranks: Mapping[str, int],
    before: Position,
) -> Page:
    """The first ``asked`` items of the landlords' pages (each asked for ``asked`` items).

    A heap of the landlords' heads: O(asked log L) comparisons for L landlords, where picking
    the least head anew for every item cost asked x L (2,000 per page of 20 over 100).
    A landlord is done when it answered fewer than asked and all of it was taken; the next
    position is each landlord's last item taken (or where it stood before).
    """
    compare = comparator(keys)
    heap = [
        _Head(compare, item_list[0], landlord, 0, (ranks.get(landlord, 0), order))
        for order, (landlord, item_list) in enumerate(pages.items())
        if item_list
    ]
    heapq.heapify(heap)
    taken: list[tuple[str, Item]] = []
    while heap and len(taken) < asked:
        head = heap[0]
        taken.append((head.landlord, head.item))
        following = pages[head.landlord]
        if head.index + 1 < len(following):
            heapq.heapreplace(heap, head.next(following[head.index + 1]))
        else:
            heapq.heappop(heap)
    left = {head.landlord for head in heap}
    after = dict(before.after)
    for landlord, item in taken:
        after[landlord] = str(item.get("id"))
    done = set(before.done)
    for landlord, items in pages.items():
        if len(items) < asked and landlord not in left:
            done.add(landlord)
    more = bool(left) or any(landlord not in done for landlord in ranks)
    return Page(taken, Position(after, frozenset(done)) if more else None)


class _Head:
    """A landlord's next item in the merge: ordered by the sort keys, then by the landlord's
    rank (then its place in the answers), as one landlord's listing is."""

    __slots__ = ("compare", "index", "item", "landlord", "tie")

    def __init__(
        self,
        compare: Callable[[Item, Item], int],
        item: Item,
        landlord: str,
        index: int,
        tie: tuple[int, int],
    ):
        self.compare, self.item, self.landlord, self.index, self.tie = (
            compare, item, landlord, index, tie
        )  # fmt: skip

    def next(self, item: Item) -> _Head:
        return _Head(self.compare, item, self.landlord, self.index + 1, self.tie)

    def __lt__(self, other: _Head) -> bool:
        found = self.compare(self.item, other.item)
        return found < 0 if found else self.tie < other.tie


def qualified(name: str, landlord: str) -> str:
    return f"{name}@{landlord}"


def split_qualified(
    text: str, landlords: Sequence[str] | Mapping[str, int]
) -> tuple[str, str | None]:
    """``debian@mit`` → ("debian", "mit") when mit is one of the customer's landlords."""
    bare, at, landlord = text.rpartition("@")
    if at and bare and landlord in landlords:
        return bare, landlord
    return text, None


def qualify_collisions(items: Sequence[tuple[str, Item]], key: str = "name") -> list[Item]:
    """Names held at more than one landlord become ``name@landlord``, in every such item."""
    holders: dict[Any, set[str]] = {}
    for landlord, item in items:
        holders.setdefault(item.get(key), set()).add(landlord)
    out = []
    for landlord, item in items:
        name = item.get(key)
        if isinstance(name, str) and len(holders[name]) > 1:
            item = {**item, key: qualified(name, landlord)}
        out.append(item)
    return out


def same_flavor(a: Item, b: Item) -> bool:
    """Two landlords' flavors are one flavor to the customer when everything they promise is
    the same (id, name, size); then a server of that flavor may go to either."""
    fields = ("id", "name", "vcpus", "ram", "disk", "OS-FLV-EXT-DATA:ephemeral", "swap")
    return all(a.get(f) == b.get(f) for f in fields)


def merge_flavors(found: Sequence[tuple[str, Sequence[Item]]]) -> list[tuple[list[str], Item]]:
    """Flavors of every landlord (rank order): equal ones are one entry (with every landlord
    that has it); different ones that share an id or a name are told apart as ``x@landlord``."""
    merged: list[tuple[list[str], Item]] = []
    for landlord, flavors in found:
        for flavor in flavors:
            same = next((m for m in merged if same_flavor(m[1], flavor)), None)
            if same is not None:
                same[0].append(landlord)
            else:
                merged.append(([landlord], dict(flavor)))
    original = [(str(m["id"]), str(m["name"])) for _, m in merged]
    out = []
    for index, (holders, flavor) in enumerate(merged):
        fid, name = original[index]
        clash = any(
            i != index and (other_id == fid or other_name == name)
            for i, (other_id, other_name) in enumerate(original)
        )
        if clash and len(holders) == 1:
            flavor["id"], flavor["name"] = qualified(fid, holders[0]), qualified(name, holders[0])
        out.append((holders, flavor))
    return out


def rewrite_urls(doc: Any, old_root: str, new_root: str) -> Any:
    """Every string in ``doc`` that is a URL under the landlord's root, under the proxy's."""
    if isinstance(doc, str):
        if doc == old_root or doc.startswith(old_root + "/") or doc.startswith(old_root + "?"):
            return new_root + doc[len(old_root) :]
        return doc
    if isinstance(doc, list):
        return [rewrite_urls(v, old_root, new_root) for v in doc]
    if isinstance(doc, dict):
        return {k: rewrite_urls(v, old_root, new_root) for k, v in doc.items()}
    return doc


def version_range(docs: Sequence[Mapping[str, Any]]) -> tuple[str, str] | None:
    """(min, max) microversion every landlord accepts: the highest minimum, the lowest maximum."""
    pairs = [(_parse(d.get("min_version")), _parse(d.get("version"))) for d in docs]
    known = [(lo, hi) for lo, hi in pairs if lo is not None and hi is not None]
    if not known:
        return None
    low = max(lo for lo, _ in known)
    high = min(hi for _, hi in known)
    return f"{low[0]}.{low[1]}", f"{high[0]}.{high[1]}"


def _parse(text: Any) -> tuple[int, int] | None:
    major, dot, minor = str(text or "").partition(".")
    if not (dot and major.isdigit() and minor.isdigit()):
        return None
    return int(major), int(minor)


def sum_limits(absolutes: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Cinder's absolute limits over several landlords: the region's room and use.

    ``maxTotal*`` and ``total*Used`` are sums (what the customer may hold and holds across
    their landlords; -1, unlimited, at any of them is unlimited); any other number is a limit
    per item (Nova's ``maxServerMeta``), and the region's is the smallest. The first landlord
    answering gives the fields; a field only some landlords send is summed over those.
    """
    out: dict[str, Any] = {}
    for absolute in absolutes:
        for key, value in absolute.items():
            if not isinstance(value, int) or isinstance(value, bool):
                out.setdefault(key, value)
            elif key not in out:
                out[key] = value
            elif key.startswith(("maxTotal", "total")):
                out[key] = -1 if -1 in (out[key], value) else out[key] + value
            else:
                out[key] = _smaller_limit(out[key], value)
    return out


def _smaller_limit(a: int, b: int) -> int:
    if -1 in (a, b):
        return b if a == -1 else a
    return min(a, b)


# What the proxy itself serves of Cinder's extensions, whatever its landlords do: it answers
# os-availability-zone (every landlord is a zone).
PROXY_EXTENSIONS: tuple[Item, ...] = (
    {
        "name": "AvailabilityZones",
        "alias": "os-availability-zone",
        "description": "Every landlord is an availability zone.",
        "links": [],
        "updated": "2026-11-27T00:00:00+00:00",
    },
)


def common_extensions(lists: Sequence[Sequence[Item]], own: Sequence[Item] = ()) -> list[Item]:
    """The extensions every landlord lists (by alias, as the first lists them), and the
    proxy's own: a client that reads one as served may use it at whichever landlord holds
    its resource."""
    aliases = [{e.get("alias") for e in found} for found in lists]
    shared = set.intersection(*aliases) if aliases else set()
    kept = [e for e in (lists[0] if lists else []) if e.get("alias") in shared]
    mine = {e["alias"] for e in own}
    return sorted([*(e for e in kept if e.get("alias") not in mine), *own],
                  key=lambda e: str(e.get("name")))  # fmt: skip
