"""Account and container listings, as pure functions: parse, fold pseudo-folders, render.

A listing walks names in byte order (or reversed) between ``marker`` and ``end_marker``,
within ``prefix``. With a ``delimiter``, names that go on past the prefix and contain the
delimiter fold into one ``subdir`` entry, and the walk then skips past every name under it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from ocx.swift.faults import precondition
from ocx.swift.metadata import truthy

FORMATS = {
    "json": "application/json; charset=utf-8",
    "xml": "application/xml; charset=utf-8",
    "plain": "text/plain; charset=utf-8",
}


@dataclass(frozen=True)
class Query:
    prefix: str = ""
    delimiter: str = ""
    marker: str = ""
    end_marker: str = ""
    limit: int = 10000
    reverse: bool = False


@dataclass(frozen=True)
class Bound:
    """Where the next batch of names starts: after (or from, if inclusive) ``name``."""

    name: str
    inclusive: bool = False


@dataclass(frozen=True)
class Entry:
    """A container (in an account) or an object (in a container) as listings show it."""

    name: str
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Subdir:
    name: str


Item = Entry | Subdir


def parse_query(params: Mapping[str, str], max_limit: int) -> Query:
    delimiter = params.get("delimiter", "")
    if len(delimiter) > 1 or (delimiter and ord(delimiter) > 254):
        raise precondition("Bad delimiter")
    limit = max_limit
    given = params.get("limit", "")
    if given.isdigit():
        limit = int(given)
        if limit > max_limit:
            raise precondition(f"Maximum limit is {max_limit}")
    return Query(
        prefix=params.get("prefix", ""),
        delimiter=delimiter,
        marker=params.get("marker", ""),
        end_marker=params.get("end_marker", ""),
        limit=limit,
        reverse=truthy(params.get("reverse")),
    )


def choose_format(params: Mapping[str, str], accept: str | None) -> str:
    wanted = params.get("format", "").lower()
    if wanted in FORMATS:
        return wanted
    accept = (accept or "").lower()
    if "application/json" in accept:
        return "json"
    if "application/xml" in accept or "text/xml" in accept:
        return "xml"
    return "plain"


def subdir_of(name: str, query: Query) -> str | None:
    """The pseudo-folder ``name`` folds into, if any."""
    if not query.delimiter:
        return None
    at = name.find(query.delimiter, len(query.prefix))
    return None if at < 0 else name[: at + 1]


def after_subdir(subdir: str, reverse: bool) -> Bound:
    """The bound past every name under ``subdir`` (which ends with its delimiter)."""
    if reverse:
        return Bound(subdir)
    return Bound(subdir[:-1] + chr(ord(subdir[-1]) + 1), inclusive=True)


def prefix_end(prefix: str) -> str | None:
    """The smallest string above every string that starts with ``prefix``."""
    if not prefix:
        return None
    code = ord(prefix[-1]) + 1
    if code == 0xD800:
        code = 0xE000
    if code > 0x10FFFF:
        return None
    return prefix[:-1] + chr(code)


Fetch = Callable[[Bound | None, int], Any]  # async: (bound, batch) -> list of Entry


async def walk(fetch: Fetch, query: Query) -> list[Item]:
    """The listing, fetching batches of entries in order through ``fetch``."""
    items: list[Item] = []
    bound = Bound(query.marker) if query.marker else None
    while len(items) < query.limit:
        want = query.limit - len(items)
        batch: Sequence[Entry] = await fetch(bound, want)
        bound = _fold(batch, query, items)
        if bound is None and len(batch) < want:
            break
        if bound is None:
            bound = Bound(batch[-1].name)
    return items


def _fold(batch: Sequence[Entry], query: Query, items: list[Item]) -> Bound | None:
    """Append ``batch`` to ``items``; a bound when a subdir cut the batch short."""
    for entry in batch:
        if len(items) >= query.limit:
            return None
        sub = subdir_of(entry.name, query)
        if sub is None:
            items.append(entry)
            continue
        if sub != query.marker:  # a client paging on with a subdir as its marker
            items.append(Subdir(sub))
        return after_subdir(sub, query.reverse)
    return None


def last_modified(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


def render(items: Sequence[Item], fmt: str, root: str, name: str) -> bytes:
    """The body of a listing; ``root`` is "account" or "container"."""
    if fmt == "json":
        return json.dumps([_json_item(i) for i in items]).encode()
    if fmt == "xml":
        return _xml(items, root, name).encode()
    return "".join(f"{i.name}\n" for i in items).encode()


def _json_item(item: Item) -> dict[str, Any]:
    if isinstance(item, Subdir):
        return {"subdir": item.name}
    return {"name": item.name, **item.fields}


def _xml(items: Sequence[Item], root: str, name: str) -> str:
    child = "container" if root == "account" else "object"
    out = ['<?xml version="1.0" encoding="UTF-8"?>', f"<{root} name={quoteattr(name)}>"]
    for item in items:
        if isinstance(item, Subdir):
            out.append(
                f"<subdir name={quoteattr(item.name)}><name>{escape(item.name)}</name></subdir>"
            )
            continue
        fields = "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in item.fields.items())
        out.append(f"<{child}><name>{escape(item.name)}</name>{fields}</{child}>")
    out.append(f"</{root}>")
    return "".join(out)
