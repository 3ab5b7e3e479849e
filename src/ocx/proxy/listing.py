"""The combined account listing, as pure functions: what to ask each landlord, and the merge.

Every landlord is asked the same question (same ``prefix``, ``delimiter``, ``limit``,
``reverse``, markers translated below) and answers with a page in its own order. The merge
orders everything by (name, landlord rank), so one landlord's copy of a name comes before
another's, keeps what lies strictly between the client's markers, folds a pseudo-folder that
several landlords report into one, and stops at ``limit``. Any entry of the combined page is
within the first ``limit`` of its own landlord's page, so asking each for ``limit`` is enough.

A name held by two or more landlords is shown qualified (``photos@mit``, ``photos@stor``);
a client paging on with a qualified marker gets the remaining copies of that name first. For
that the landlords are asked from just before the bare name (``before``): Swift's markers
are exclusive, and the name's other copies must come back too.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ocx.proxy import names
from ocx.swift import listing as swift_listing
from ocx.swift.listing import Entry, Item, Query, Subdir

MAX_CHAR = "\U0010ffff"
SUBDIR_RANK = -1


Row = dict[str, Any]  # one element of a landlord's JSON listing: {"name", …} or {"subdir"}


@dataclass(frozen=True)
class Page:
    """One landlord's answer: its rows in its own order."""

    landlord: str
    rank: int
    rows: Sequence[Row]


@dataclass(frozen=True)
class Cut:
    """A marker or end marker: a bare name (rank None) or one landlord's copy of a name."""

    name: str
    rank: int | None = None


def parse_cut(value: str, ranks: Mapping[str, int]) -> Cut | None:
    if not value:
        return None
    name = names.parse(value, ranks)
    return Cut(name.bare, None if name.landlord is None else ranks[name.landlord])


def before(name: str) -> str:
    """A string that sorts just below ``name`` (only names that start with it lie between)."""
    code = ord(name[-1]) - 1
    if code == 0:  # NUL is never in a name: nothing lies between name[:-1] and name
        return name[:-1]
    if 0xD800 <= code <= 0xDFFF:
        code = 0xD7FF
    return name[:-1] + chr(code) + MAX_CHAR


def after(name: str) -> str:
    """A string that sorts just above ``name`` (only ``name`` + NUL… would lie between)."""
    return name + "\x01"


def upstream_params(query: Query, marker: Cut | None, end: Cut | None) -> dict[str, str]:
    """The query string for every landlord (JSON, so the merge sees counts and bytes)."""
    params = {"format": "json", "limit": str(query.limit)}
    if query.prefix:
        params["prefix"] = query.prefix
    if query.delimiter:
        params["delimiter"] = query.delimiter
    if query.reverse:
        params["reverse"] = "true"
    if marker is not None:
        # Forward, a listing starts above the marker; reversed, below it.
        keep = marker.rank is None
        params["marker"] = marker.name if keep else _widen(marker.name, below=not query.reverse)
    if end is not None:
        keep = end.rank is None
        params["end_marker"] = end.name if keep else _widen(end.name, below=query.reverse)
    return params


def _widen(name: str, *, below: bool) -> str:
    return before(name) if below else after(name)


def merge(
    pages: Iterable[Page], query: Query, marker: Cut | None = None, end: Cut | None = None
) -> list[Row]:
    """The combined page: sorted, between the markers, at most ``limit`` rows.

    Entries come back as the landlords' own rows (not copied: the merge owns them) with
    ``landlord`` added, and ``name`` qualified where two landlords hold it.
    """
    pages = list(pages)
    holders = _holders(pages)
    placed = [p for p in _placed(pages) if _inside(p, query.reverse, marker, end)]
    placed.sort(key=_order, reverse=query.reverse)
    return [_shown(p, holders) for p in placed[: query.limit]]


Placed = tuple[str, int, Row, str]  # (name, rank, row, landlord); subdirs have rank -1


def _order(p: Placed) -> tuple[str, int]:
    return p[0], p[1]


def _holders(pages: Sequence[Page]) -> Counter[str]:
    """How many landlords list an entry (not a pseudo-folder) of each name."""
    counts: Counter[str] = Counter()
    for page in pages:
        counts.update({row["name"] for row in page.rows if "name" in row})
    return counts


def _placed(pages: Sequence[Page]) -> list[Placed]:
    out: list[Placed] = []
    folders: set[str] = set()
    for page in pages:
        rank, landlord = page.rank, page.landlord
        for row in page.rows:
            name = row.get("name")
            if name is not None:
                out.append((name, rank, row, landlord))
            elif row["subdir"] not in folders:
                folders.add(row["subdir"])
                out.append((row["subdir"], SUBDIR_RANK, row, landlord))
    return out


def _inside(p: Placed, reverse: bool, marker: Cut | None, end: Cut | None) -> bool:
    sign = -1 if reverse else 1
    if marker is not None and sign * _compare(p, marker) <= 0:
        return False
    return end is None or sign * _compare(p, end) < 0


def _compare(p: Placed, cut: Cut) -> int:
    """-1, 0 or 1 as ``p`` sorts before, at or after ``cut`` (a bare cut covers every copy)."""
    name, rank = p[0], p[1]
    if name != cut.name:
        return -1 if name < cut.name else 1
    if cut.rank is None or rank == cut.rank:
        return 0
    return -1 if rank < cut.rank else 1


def _shown(p: Placed, holders: Counter[str]) -> Row:
    name, rank, row, landlord = p
    if rank == SUBDIR_RANK:
        return row
    if holders[name] > 1:
        row["name"] = names.qualified(name, landlord)
    row["landlord"] = landlord
    return row


def rows_from_json(doc: object) -> list[Row]:
    """A landlord's JSON listing, checked; ValueError if it is not one."""
    if not isinstance(doc, list):
        raise ValueError("a listing is a JSON array")
    for row in doc:
        if not isinstance(row, dict):
            raise ValueError("a listing entry is a JSON object")
        if not isinstance(row.get("name", row.get("subdir")), str):
            raise ValueError("a listing entry has a name or a subdir")
    return doc


def render(rows: Sequence[Row], fmt: str, root: str, name: str) -> bytes:
    """The combined listing in the client's format (rows as :func:`merge` returns them)."""
    if fmt == "json":
        return json.dumps(rows).encode()
    if fmt == "plain":
        return "".join(f"{r.get('name', r.get('subdir'))}\n" for r in rows).encode()
    items: list[Item] = [
        Subdir(r["subdir"]) if "name" not in r else Entry(r["name"], _fields(r)) for r in rows
    ]
    return swift_listing.render(items, fmt, root, name)


def _fields(row: Row) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k != "name"}


ACCOUNT_SUMS = (
    "x-account-container-count",
    "x-account-object-count",
    "x-account-bytes-used",
    "x-account-storage-policy-policy-0-container-count",
    "x-account-storage-policy-policy-0-object-count",
    "x-account-storage-policy-policy-0-bytes-used",
)
ACCOUNT_FROM_PRIMARY = ("x-timestamp", "x-put-timestamp")


def account_headers(answers: Sequence[Mapping[str, str]]) -> dict[str, str]:
    """Counts summed over the landlords; metadata and timestamps from the first (the primary).

    ``answers`` are lower-case header maps in landlord order; the primary is the first that
    answered (the home landlord when it is up), where account POSTs also always go.
    """
    out: dict[str, str] = {}
    for name in ACCOUNT_SUMS:
        values = [a.get(name, "0") for a in answers]
        out[name] = str(sum(int(v) for v in values if v.isdigit()))
    if answers:
        primary = answers[0]
        for name, value in primary.items():
            if name.startswith(("x-account-meta-", "x-account-access-control")):
                out[name] = value
        for name in ACCOUNT_FROM_PRIMARY:
            if name in primary:
                out[name] = primary[name]
    return out
