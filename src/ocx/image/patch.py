"""JSON Patch (RFC 6902 subset Glance takes: add, replace, remove) on an image document.

The document is ``{core attribute: value, ..., extra property: value}``; the result is
checked by :mod:`ocx.image.wire` exactly like a create body.
"""

from __future__ import annotations

from typing import Any

from ocx.common import errors
from ocx.image import wire

OPS = ("add", "replace", "remove")


def apply(doc: dict[str, Any], ops: Any) -> dict[str, Any]:
    if not isinstance(ops, list):
        raise errors.BadRequest("A JSON patch is a list of operations.")
    out = {**doc, "tags": list(doc.get("tags", []))}
    for op in ops:
        _apply_one(out, op)
    return out


def _apply_one(doc: dict[str, Any], op: Any) -> None:
    if not isinstance(op, dict) or op.get("op") not in OPS or not isinstance(op.get("path"), str):
        raise errors.BadRequest(
            "Each patch operation needs 'op' (add, replace or remove) and a 'path'."
        )
    parts = _pointer(op["path"])
    name = parts[0]
    if name in wire.READ_ONLY:
        raise errors.Forbidden(f"Attribute '{name}' is read-only.")
    if name in wire.RESERVED or name.startswith(wire.RESERVED_PREFIX):
        raise errors.Forbidden(f"Attribute '{name}' is reserved.")
    if op["op"] != "remove" and "value" not in op:
        raise errors.BadRequest(f"Operation {op['op']!r} on {op['path']!r} needs a 'value'.")
    if len(parts) == 2 and name == "tags":
        _tag_op(doc, op["op"], parts[1], op.get("value"))
        return
    if len(parts) != 1:
        raise errors.BadRequest(f"Invalid JSON pointer for this resource: '{op['path']}'.")
    if op["op"] == "remove":
        if name in wire.WRITABLE:
            raise errors.Forbidden(f"Attribute '{name}' may not be removed.")
        if name not in doc:
            raise errors.Conflict(f"Property {name} does not exist.")
        del doc[name]
        return
    if op["op"] == "replace" and name not in doc and name not in wire.WRITABLE:
        raise errors.Conflict(f"Property {name} does not exist.")
    doc[name] = op["value"]


def _tag_op(doc: dict[str, Any], op: str, index: str, value: Any) -> None:
    tags: list[str] = doc["tags"]
    if op == "add" and index == "-":
        tags.append(wire.check_tag(value))
        return
    if not index.isdigit() or int(index) >= len(tags) + (op == "add"):
        raise errors.BadRequest(f"Invalid tag index {index!r}.")
    at = int(index)
    if op == "remove":
        del tags[at]
    elif op == "add":
        tags.insert(at, wire.check_tag(value))
    else:
        tags[at] = wire.check_tag(value)


def _pointer(path: str) -> list[str]:
    if not path.startswith("/") or path == "/":
        raise errors.BadRequest(f"Invalid JSON pointer for this resource: '{path}'.")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]
