"""Bulk requests' formats, as pure functions: Swift's ``?bulk-delete`` (a list of paths in,
counts out) and ``?extract-archive`` (a tar archive in: where each member goes; counts out)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import unquote
from xml.sax.saxutils import escape

from ocx.common import errors
from ocx.swift.faults import fault


@dataclass
class Outcome:
    deleted: int = 0
    not_found: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)

    @property
    def status(self) -> str:
        return "400 Bad Request" if self.errors else "200 OK"

    def doc(self) -> dict[str, object]:
        return {
            "Number Deleted": self.deleted,
            "Number Not Found": self.not_found,
            "Response Body": "",
            "Response Status": self.status,
            "Errors": [list(e) for e in self.errors],
        }


def parse(body: bytes, max_deletes: int) -> list[tuple[str, str]]:
    """``(container, object)`` pairs (object "" for a container) of a bulk-delete body."""
    lines = [line.strip() for line in body.decode("utf-8", "replace").splitlines()]
    paths = [unquote(line) for line in lines if line]
    if len(paths) > max_deletes:
        raise fault(
            errors.RequestEntityTooLarge, f"Maximum Bulk Deletes: {max_deletes} per request"
        )
    pairs = []
    for path in paths:
        container, _, obj = path.lstrip("/").partition("/")
        pairs.append((container, obj))
    return pairs


@dataclass
class Extracted:
    created: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)

    def doc(self) -> dict[str, object]:
        return {
            "Number Files Created": self.created,
            "Response Body": "",
            "Response Status": "400 Bad Request" if self.errors else "201 Created",
            "Errors": [list(e) for e in self.errors],
        }


# ?extract-archive=<format>: tarfile's mode for it.
ArchiveMode = Literal["r:", "r:gz", "r:bz2"]
ARCHIVE_MODES: dict[str, ArchiveMode] = {"tar": "r:", "tar.gz": "r:gz", "tar.bz2": "r:bz2"}


def archive_mode(value: str) -> ArchiveMode:
    if value not in ARCHIVE_MODES:
        raise fault(errors.BadRequest, "Unsupported archive format")
    return ARCHIVE_MODES[value]


def member_target(member: str, container: str | None, prefix: str) -> tuple[str, str] | None:
    """``(container, object)`` for an archive member uploaded at an account (``container``
    None: the member's first directory is its container) or into ``container/prefix``;
    None if the member names no object (a bare top-level file at an account)."""
    path = member.removeprefix("./").lstrip("/")
    if container is None:
        container, _, path = path.partition("/")
    else:
        path = prefix + path
    if not container or not path:
        return None
    return container, path


def render(outcome: Outcome | Extracted, accept: str | None) -> tuple[bytes, str]:
    accept = (accept or "").lower()
    doc = outcome.doc()
    root = "delete" if isinstance(outcome, Outcome) else "extract"
    if "json" in accept:
        return json.dumps(doc).encode(), "application/json"
    if "xml" in accept:
        inner = "".join(
            f"<{k.lower().replace(' ', '_')}>{escape(str(v))}</{k.lower().replace(' ', '_')}>"
            for k, v in doc.items()
            if k != "Errors"
        )
        errs = "".join(
            f"<object><name>{escape(n)}</name><status>{escape(s)}</status></object>"
            for n, s in outcome.errors
        )
        head = '<?xml version="1.0" encoding="UTF-8"?>\n'
        body = f"{head}<{root}>{inner}<errors>{errs}</errors></{root}>"
        return body.encode(), "application/xml"
    lines = [f"{k}: {v}" for k, v in doc.items() if k != "Errors"]
    lines.append("Errors:")
    lines += [f"{n}, {s}" for n, s in outcome.errors]
    return ("\n".join(lines) + "\n").encode(), "text/plain"
