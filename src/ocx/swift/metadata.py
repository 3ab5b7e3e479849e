"""Swift's rules for metadata and object headers, as pure functions over header mappings.

Header values arrive as latin-1 strings (how ASGI servers decode bytes) and go back out the
same way, so metadata round-trips byte for byte whatever encoding the client used.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from ocx.swift.faults import bad_request
from ocx.swift.limits import Limits

# Object headers Swift stores and returns besides user metadata.
OBJECT_HEADERS = (
    "content-disposition",
    "content-encoding",
    "content-language",
    "cache-control",
    "expires",
    "x-robots-tag",
)


def meta_updates(headers: Mapping[str, str], kind: str) -> dict[str, str]:
    """``X-<Kind>-Meta-*`` from request headers; ``""`` means remove (as does X-Remove-…)."""
    prefix = f"x-{kind}-meta-"
    remove = f"x-remove-{kind}-meta-"
    found: dict[str, str] = {}
    for name, value in headers.items():
        if name.startswith(prefix):
            found[name[len(prefix) :]] = value.strip()
        elif name.startswith(remove):
            found[name[len(remove) :]] = ""
    return found


def merge_meta(current: Mapping[str, str], updates: Mapping[str, str]) -> dict[str, str]:
    merged = {**current, **updates}
    return {key: value for key, value in merged.items() if value != ""}


def object_meta(current: Mapping[str, str], headers: Mapping[str, str]) -> dict[str, str]:
    """An object's metadata after a PUT, POST or copy: ``current`` (a copy's source, else
    nothing) with ``X-Object-Meta-*`` as sent, less ``X-Remove-Object-Meta-*``.

    Unlike containers and accounts, an empty value is kept: Swift stores it for objects, and
    clients read it back as an empty header.
    """
    meta = dict(current)
    for name, value in headers.items():
        if name.startswith("x-object-meta-"):
            meta[name[len("x-object-meta-") :]] = value.strip()
    for name in headers:
        if name.startswith("x-remove-object-meta-"):
            meta.pop(name[len("x-remove-object-meta-") :], None)
    return meta


def check_meta(meta: Mapping[str, str], kind: str, limits: Limits) -> None:
    prefix = f"X-{kind.title()}-Meta-"
    total = 0
    for key, value in meta.items():
        if not key:
            raise bad_request("Metadata name cannot be empty")
        if len(key) > limits.max_meta_name_length:
            raise bad_request(f"Metadata name too long: {prefix}{key}")
        if len(value) > limits.max_meta_value_length:
            raise bad_request(
                f"Metadata value longer than {limits.max_meta_value_length}: {prefix}{key}"
            )
        total += len(key) + len(value)
    if len(meta) > limits.max_meta_count:
        raise bad_request(f"Too many metadata items; max {limits.max_meta_count}")
    if total > limits.max_meta_overall_size:
        raise bad_request(f"Total metadata too large; max {limits.max_meta_overall_size}")


def meta_headers(meta: Mapping[str, str], kind: str) -> dict[str, str]:
    prefix = f"X-{kind.title()}-Meta-"
    return {prefix + key.title(): value for key, value in meta.items()}


def object_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {name: headers[name] for name in OBJECT_HEADERS if name in headers}


def delete_at(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """When the object expires, from ``X-Delete-At`` or ``X-Delete-After``; None if never."""
    now = time.time() if now is None else now
    if "x-delete-after" in headers:
        after = _integer(headers["x-delete-after"], "Non-integer X-Delete-After")
        if after < 0:
            raise bad_request("X-Delete-After in past")
        return float(int(now) + after)
    if "x-delete-at" in headers:
        at = _integer(headers["x-delete-at"], "Non-integer X-Delete-At")
        if at <= now:
            raise bad_request("X-Delete-At in past")
        return float(at)
    return None


def _integer(value: str, message: str) -> int:
    try:
        return int(value)
    except ValueError as exc:
        raise bad_request(message) from exc


def truthy(value: str | None) -> bool:
    return value is not None and value.strip().lower() in ("true", "1", "yes", "on", "t", "y")
