"""Listing images the way Glance does: filters, sort keys, markers and the ``next`` link.

Parsing and sorting are pure; :mod:`ocx.image.store` turns a :class:`Query` into SQL for the
filters a database can answer and applies the rest here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ocx.common import errors
from ocx.image import wire
from ocx.image.models import Image
from ocx.openstack import links

SORT_KEYS = (
    "name", "status", "container_format", "disk_format", "size", "id", "created_at",
    "updated_at", "visibility", "owner", "min_disk", "min_ram", "virtual_size",
)  # fmt: skip
IN_FIELDS = ("id", "name", "status", "container_format", "disk_format")
EQ_FIELDS = ("name", "status", "owner", "container_format", "disk_format", "visibility")
KNOWN = (
    *EQ_FIELDS, "id", "member_status", "tag", "os_hidden", "protected", "size_min", "size_max",
    "created_at", "updated_at", "limit", "marker", "sort_key", "sort_dir", "sort",
)  # fmt: skip
_OPS: dict[str, Callable[[float, float], bool]] = {
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
    "eq": lambda a, b: a == b,
    "neq": lambda a, b: a != b,
    "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b,
}


@dataclass
class Query:
    equal: dict[str, str] = field(default_factory=dict)
    within: dict[str, list[str]] = field(default_factory=dict)
    visibility: str | None = None
    member_status: str = "accepted"
    tags: list[str] = field(default_factory=list)
    os_hidden: bool = False
    protected: bool | None = None
    size_min: int | None = None
    size_max: int | None = None
    times: list[tuple[str, str, float]] = field(default_factory=list)
    sort: list[tuple[str, bool]] = field(default_factory=lambda: [("created_at", True)])
    limit: int = 25
    marker: str | None = None


def parse(params: Sequence[tuple[str, str]], default_limit: int, max_limit: int) -> Query:
    q = Query(limit=default_limit)
    sort_keys: list[str] = []
    sort_dirs: list[str] = []
    for name, value in params:
        if name in IN_FIELDS and value.startswith("in:"):
            q.within[name] = _in_values(value[3:])
        elif name == "visibility":
            if value not in (*wire.VISIBILITIES, "all"):
                raise errors.BadRequest(f"Invalid visibility value: {value}")
            q.visibility = value
        elif name in EQ_FIELDS:
            q.equal[name] = value
        elif name == "id":
            q.within["id"] = [value]
        elif name == "member_status":
            if value not in (*wire.MEMBER_STATUSES, "all"):
                raise errors.BadRequest(f"Invalid status value: {value}")
            q.member_status = value
        elif name == "tag":
            q.tags.append(value)
        elif name in ("os_hidden", "protected"):
            setattr(q, name, _bool(name, value))
        elif name in ("size_min", "size_max"):
            setattr(q, name, _int(name, value))
        elif name in ("created_at", "updated_at"):
            op, operand = wire.comparison(value)
            q.times.append((name, op, _time(name, operand)))
        elif name == "limit":
            q.limit = min(_int("limit", value), max_limit)
        elif name == "marker":
            q.marker = value
        elif name == "sort_key":
            sort_keys.append(value)
        elif name == "sort_dir":
            sort_dirs.append(value)
        elif name == "sort":
            q.sort = [_sort_item(item) for item in value.split(",") if item]
    if sort_keys:
        q.sort = _legacy_sort(sort_keys, sort_dirs)
    return q


def _legacy_sort(keys: list[str], dirs: list[str]) -> list[tuple[str, bool]]:
    if len(dirs) > 1 and len(dirs) != len(keys):
        raise errors.BadRequest("Give one sort_dir, or one per sort_key.")
    dirs = dirs or ["desc"]
    if len(dirs) == 1:
        dirs = dirs * len(keys)
    return [_sort_item(f"{k}:{d}") for k, d in zip(keys, dirs, strict=True)]


def _sort_item(item: str) -> tuple[str, bool]:
    key, _, direction = item.partition(":")
    direction = direction or "desc"
    if key not in SORT_KEYS:
        raise errors.BadRequest(
            f"Invalid sort key: {key}. It must be one of {', '.join(SORT_KEYS)}."
        )
    if direction not in ("asc", "desc"):
        raise errors.BadRequest(f"Invalid sort direction: {direction}")
    return key, direction == "desc"


def _in_values(text: str) -> list[str]:
    values = [v.strip().strip('"') for v in text.split(",")]
    if not all(values):
        raise errors.BadRequest("The 'in' operator needs a comma-separated list of values.")
    return values


def _bool(name: str, value: str) -> bool:
    lowered = value.lower()
    if lowered in ("true", "1", "yes", "on"):
        return True
    if lowered in ("false", "0", "no", "off"):
        return False
    raise errors.BadRequest(f"{name} must be true or false, not {value!r}.")


def _int(name: str, value: str) -> int:
    try:
        number = int(value)
    except ValueError as exc:
        raise errors.BadRequest(f"{name} must be an integer, not {value!r}.") from exc
    if number < 0:
        raise errors.BadRequest(f"{name} must not be negative.")
    return number


def _time(name: str, value: str) -> float:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError as exc:
        raise errors.BadRequest(f"{name}: {value!r} is not an ISO 8601 time.") from exc


def keep(image: Image, q: Query) -> bool:
    """The filters applied after SQL: tags and time comparisons."""
    if any(tag not in image.tags for tag in q.tags):
        return False
    return all(_OPS[op](getattr(image, name), operand) for name, op, operand in q.times)


def ordered(images: list[Image], q: Query) -> list[Image]:
    """Sorted by the query's keys, then by id (descending unless the first key ascends)."""
    result = sorted(images, key=lambda i: i.id, reverse=q.sort[0][1])
    for key, descending in reversed(q.sort):
        present = [i for i in result if getattr(i, key) is not None]
        missing = [i for i in result if getattr(i, key) is None]
        present.sort(key=lambda i, k=key: getattr(i, k), reverse=descending)  # type: ignore[misc]
        result = present + missing if not descending else missing + present
    return result


def page(images: list[Image], q: Query) -> tuple[list[Image], bool]:
    start = 0
    if q.marker is not None:
        ids = [i.id for i in images]
        if q.marker not in ids:
            raise errors.BadRequest(f"Invalid marker. Image {q.marker} could not be found.")
        start = ids.index(q.marker) + 1
    chosen = images[start : start + q.limit]
    return chosen, start + q.limit < len(images)


def next_link(params: Sequence[tuple[str, Any]], last_id: str) -> str:
    return "/v2/images?" + links.next_query(params, last_id)
