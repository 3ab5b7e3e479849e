"""Static large objects: a JSON manifest listing segments, stored as the object's data.

``PUT ?multipart-manifest=put`` takes ``[{"path": "/c/o", "etag", "size_bytes", "range"}]``;
each segment must exist and match what the manifest says. What is stored is Swift's form,
``[{"name", "hash", "bytes", "content_type", "last_modified", "range"}]``, and the object's
ETag is the MD5 of its segments' ETags (each ``etag:range;`` when ranged).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ocx.common import errors
from ocx.object import ranges
from ocx.object.models import Object
from ocx.swift.faults import bad_request
from ocx.swift.limits import Limits
from ocx.swift.listing import last_modified

Lookup = Callable[[str, str], Awaitable[Object | None]]


@dataclass(frozen=True)
class Wanted:
    """One segment as the client's manifest asks for it."""

    container: str
    name: str
    etag: str | None
    size: int | None
    range: str | None

    @property
    def path(self) -> str:
        return f"/{self.container}/{self.name}"


def parse_put(body: bytes, limits: Limits) -> list[Wanted]:
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError) as exc:  # RecursionError: absurdly deep nesting
        raise bad_request("Manifest must be valid JSON.") from exc
    if not isinstance(doc, list) or not doc:
        raise bad_request("Manifest must be a list of segments.")
    if len(doc) > limits.slo_max_segments:
        raise bad_request(f"Number of segments must be <= {limits.slo_max_segments}")
    return [_wanted(index, item) for index, item in enumerate(doc)]


def _wanted(index: int, item: Any) -> Wanted:
    if not isinstance(item, dict) or not isinstance(item.get("path"), str):
        raise bad_request(f"Index {index}: segment must be an object with a path.")
    container, _, name = item["path"].lstrip("/").partition("/")
    if not container or not name or not _is_utf8(item["path"]):
        raise bad_request(
            f"Index {index}: path does not refer to an object. "
            "Path must be of the form /container/object."
        )
    size = item.get("size_bytes")
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 0):
        raise bad_request(f"Index {index}: size_bytes must be an integer.")
    etag, span = item.get("etag"), item.get("range")
    if etag is not None and not (isinstance(etag, str) and _is_utf8(etag)):
        raise bad_request(f"Index {index}: etag must be a string.")
    if span is not None and not (isinstance(span, str) and _is_utf8(span)):
        raise bad_request(f"Index {index}: range must be a string.")
    return Wanted(container, name, etag.strip('"') if etag else None, size, span)


def _is_utf8(text: str) -> bool:
    """False for strings JSON can hold but UTF-8 cannot (lone surrogates)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


async def validate(wanted: Sequence[Wanted], lookup: Lookup) -> list[dict[str, Any]]:
    """Swift's stored manifest for ``wanted``, or 400 listing every problem."""
    stored: list[dict[str, Any]] = []
    problems: list[str] = []
    for index, seg in enumerate(wanted):
        found = await lookup(seg.container, seg.name)
        problem = _problem(seg, found, last=index == len(wanted) - 1)
        if problem:
            problems.append(f"{seg.path}, {problem}")
            continue
        assert found is not None
        stored.append(_stored(seg, found))
    if problems:
        raise bad_request("Errors:\n" + "\n".join(problems))
    return stored


def _problem(seg: Wanted, found: Object | None, *, last: bool) -> str | None:
    if found is None:
        return "404 Not Found"
    if seg.etag is not None and seg.etag != found.etag:
        return "Etag Mismatch"
    if seg.size is not None and seg.size != found.size:
        return "Size Mismatch"
    if seg.range is not None and _span(seg.range, found.size) is None:
        return "Unsatisfiable Range"
    if found.size == 0 and not last:
        return "Too small; each segment must be at least 1 byte."
    return None


def _span(value: str, size: int) -> ranges.Span | None:
    try:
        spans = ranges.parse("bytes=" + value, size)
    except errors.OCXError:
        return None
    return spans[0] if spans and len(spans) == 1 else None


def _stored(seg: Wanted, found: Object) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": seg.path,
        "hash": found.etag,
        "bytes": found.size,
        "content_type": found.content_type,
        "last_modified": last_modified(found.created_at),
    }
    if found.kind == "slo":
        entry["sub_slo"] = True
    if seg.range is not None:
        entry["range"] = seg.range
    return entry


def segment_span(entry: dict[str, Any]) -> ranges.Span:
    """The bytes of a stored segment that belong to the large object."""
    if "range" in entry:
        span = _span(entry["range"], int(entry["bytes"]))
        if span is not None:
            return span
    return 0, int(entry["bytes"])


def total_size(stored: Sequence[dict[str, Any]]) -> int:
    return sum(stop - start for start, stop in map(segment_span, stored))


def etag(stored: Sequence[dict[str, Any]]) -> str:
    md5 = hashlib.md5(usedforsecurity=False)
    for entry in stored:
        if "range" in entry:
            md5.update(f"{entry['hash']}:{entry['range']};".encode())
        else:
            md5.update(entry["hash"].encode())
    return md5.hexdigest()


def load(data: bytes) -> list[dict[str, Any]]:
    doc = json.loads(data)
    assert isinstance(doc, list)
    return doc


def raw(stored: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The manifest in the form it is PUT (``?multipart-manifest=get&format=raw``)."""
    out = []
    for entry in stored:
        item = {"path": entry["name"], "etag": entry["hash"], "size_bytes": entry["bytes"]}
        if "range" in entry:
            item["range"] = entry["range"]
        out.append(item)
    return out


def split_name(path: str) -> tuple[str, str]:
    container, _, name = path.lstrip("/").partition("/")
    return container, name
