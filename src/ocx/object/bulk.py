"""Bulk delete's request and answer formats (Swift's ``?bulk-delete``), as pure functions."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
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


def render(outcome: Outcome, accept: str | None) -> tuple[bytes, str]:
    accept = (accept or "").lower()
    doc = outcome.doc()
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
        body = f"{head}<delete>{inner}<errors>{errs}</errors></delete>"
        return body.encode(), "application/xml"
    lines = [f"{k}: {v}" for k, v in doc.items() if k != "Errors"]
    lines.append("Errors:")
    lines += [f"{n}, {s}" for n, s in outcome.errors]
    return ("\n".join(lines) + "\n").encode(), "text/plain"
