"""Swift's rules for account, container and object names in a request path."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import unquote_to_bytes

from ocx.common import errors
from ocx.swift.faults import bad_request, fault
from ocx.swift.limits import Limits

RESELLER_PREFIX = "AUTH_"


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
