"""What Glance v2 looks like on the wire: attributes, formats, limits, and their checks.

Pure functions on plain dicts, so the service, the CLI and tests share one definition of a
valid image document.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from ocx.common import errors

DISK_FORMATS = (
    "ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop",
)  # fmt: skip
CONTAINER_FORMATS = ("ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed")
VISIBILITIES = ("public", "private", "shared", "community")
MEMBER_STATUSES = ("pending", "accepted", "rejected")

# Settable by the owner, on create and by PATCH.
WRITABLE = (
    "name", "visibility", "protected", "os_hidden", "disk_format", "container_format",
    "min_disk", "min_ram", "tags",
)  # fmt: skip
# Computed by the service: shown, never set by a client.
READ_ONLY = (
    "id", "status", "size", "virtual_size", "checksum", "os_hash_algo", "os_hash_value",
    "created_at", "updated_at", "self", "file", "schema", "direct_url", "stores", "locations",
    "owner",
)  # fmt: skip
RESERVED = ("location", "deleted", "deleted_at")
RESERVED_PREFIX = "os_glance"

MAX_PROPERTIES = 128
MAX_TAGS = 128
MAX_KEY = 255
MAX_VALUE = 65535


def check_core(name: str, value: Any) -> Any:
    """``value`` for core attribute ``name``, or BadRequest saying what is wrong."""
    if name == "name":
        return _string_or_none(name, value, 255)
    if name in ("disk_format", "container_format"):
        allowed = DISK_FORMATS if name == "disk_format" else CONTAINER_FORMATS
        if value is not None and value not in allowed:
            raise errors.BadRequest(
                f"Invalid value '{value}' for {name}: expected one of {', '.join(allowed)}."
            )
        return value
    if name == "visibility":
        if value not in VISIBILITIES:
            raise errors.BadRequest(
                f"Invalid visibility value: {value!r}; expected one of {', '.join(VISIBILITIES)}."
            )
        return value
    if name in ("protected", "os_hidden"):
        if not isinstance(value, bool):
            raise errors.BadRequest(f"{name} must be a boolean, not {value!r}.")
        return value
    if name in ("min_disk", "min_ram"):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise errors.BadRequest(f"{name} must be a non-negative integer, not {value!r}.")
        return value
    if name == "tags":
        return check_tags(value)
    raise errors.Forbidden(f"Attribute '{name}' is read-only.")


def check_tags(value: Any) -> list[str]:
    if not isinstance(value, list):
        raise errors.BadRequest("tags must be a list of strings.")
    tags: list[str] = []
    for tag in value:
        tags.append(check_tag(tag))
    unique = list(dict.fromkeys(tags))
    if len(unique) > MAX_TAGS:
        raise errors.RequestEntityTooLarge(f"An image may have at most {MAX_TAGS} tags.")
    return unique


def check_tag(tag: Any) -> str:
    if not isinstance(tag, str) or not 0 < len(tag) <= 255:
        raise errors.BadRequest(f"Invalid tag {tag!r}: a tag is a string of 1 to 255 characters.")
    return tag


def check_property(key: str, value: Any) -> str:
    """An extra property's value; Glance keeps them as strings."""
    if len(key) > MAX_KEY or not key:
        raise errors.BadRequest(f"Property names are 1 to {MAX_KEY} characters long.")
    if key in RESERVED or key.startswith(RESERVED_PREFIX):
        raise errors.Forbidden(f"Attribute '{key}' is reserved.")
    if key in READ_ONLY:
        raise errors.Forbidden(f"Attribute '{key}' is read-only.")
    if not isinstance(value, str):
        raise errors.BadRequest(f"Property {key!r} must be a string, not {value!r}.")
    if len(value) > MAX_VALUE:
        raise errors.BadRequest(f"Property {key!r} is longer than {MAX_VALUE} characters.")
    return value


def check_properties(properties: dict[str, Any]) -> dict[str, str]:
    if len(properties) > MAX_PROPERTIES:
        raise errors.RequestEntityTooLarge(
            f"An image may have at most {MAX_PROPERTIES} extra properties."
        )
    return {k: check_property(k, v) for k, v in properties.items()}


def check_id(value: Any) -> str:
    if not isinstance(value, str):
        raise errors.BadRequest("id must be a string.")
    try:
        return str(uuid.UUID(value))
    except ValueError as exc:
        raise errors.BadRequest(f"Invalid image id {value!r}: expected a UUID.") from exc


def _string_or_none(name: str, value: Any, limit: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise errors.BadRequest(f"{name} must be a string of at most {limit} characters.")
    return value


def split_create(doc: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """A create body as (core attributes, extra properties), checked."""
    core: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for key, value in doc.items():
        if key == "id":
            if value is not None:
                core["id"] = check_id(value)
        elif key in WRITABLE:
            if value is not None or key in ("name", "disk_format", "container_format"):
                core[key] = check_core(key, value)
        elif key in READ_ONLY:
            raise errors.Forbidden(f"Attribute '{key}' is read-only.")
        elif value is not None:
            extra[key] = value
    return core, check_properties(extra)


_CREATED = re.compile(r"^(gt|gte|eq|neq|lt|lte):(.+)$")


def comparison(value: str) -> tuple[str, str]:
    """``gte:2026-01-01T00:00:00Z`` → (operator, operand); a bare value means ``eq``."""
    found = _CREATED.match(value)
    return (found.group(1), found.group(2)) if found else ("eq", value)
