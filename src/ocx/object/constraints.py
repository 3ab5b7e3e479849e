"""Swift's rules for names and metadata, as pure functions over header mappings.

Header values arrive as latin-1 strings (how ASGI servers decode bytes) and go back out the
same way, so metadata round-trips byte for byte whatever encoding the client used.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from urllib.parse import unquote_to_bytes

from ocx.common import errors
from ocx.object.errors import bad_request, fault
from ocx.object.settings import Limits

RESELLER_PREFIX = "AUTH_"

# Object headers Swift stores and returns besides user metadata.
OBJECT_HEADERS = (
    "content-disposition",
    "content-encoding",
    "content-language",
    "cache-control",
    "expires",
    "x-robots-tag",
)


def project_of(account: str) -> str:
    """The project id an account belongs to (``AUTH_<project_id>``)."""
    if not account.startswith(RESELLER_PREFIX) or len(account) == len(RESELLER_PREFIX):
        raise fault(errors.NotFound)
    return account[len(RESELLER_PREFIX) :]


def check_raw_path(raw_path: bytes) -> None:
    """Swift's 412 for names that are not UTF-8 or that hold a NUL."""
    decoded = unquote_to_bytes(raw_path)
    try:
        text = decoded.decode("utf-8")
    except UnicodeDecodeError:
        text = "\x00"
    if "\x00" in text:
        raise fault(errors.PreconditionFailed, "Invalid UTF8 or contains NULL")


def check_names(names: Mapping[str, str], raw_path: bytes | None) -> None:
    """412 for a path whose names are not UTF-8 or hold a NUL. The server decodes the path
    with U+FFFD for bad UTF-8, so the raw bytes decide then."""
    for value in names.values():
        if "\ufffd" in value or "\x00" in value:
            check_raw_path(raw_path or b"\x00")


def check_container_name(name: str, limits: Limits) -> None:
    size = len(name.encode("utf-8"))
    if size > limits.max_container_name_length:
        raise bad_request(
            f"Container name length of {size} longer than {limits.max_container_name_length}"
        )


def check_object_name(name: str, limits: Limits) -> None:
    size = len(name.encode("utf-8"))
    if size > limits.max_object_name_length:
        raise bad_request(
            f"Object name length of {size} longer than {limits.max_object_name_length}"
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
