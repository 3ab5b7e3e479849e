"""HTTP ``Range`` requests over an object of known length, as Swift answers them.

A header that does not parse is ignored (the whole object is sent); one that parses but
selects no byte is 416. Byte ranges are half-open ``(start, stop)`` pairs here.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence

from ocx.common import errors
from ocx.swift.faults import fault

_SPEC = re.compile(r"^\s*(\d*)\s*-\s*(\d*)\s*$")
MAX_RANGES = 50

Span = tuple[int, int]


def parse(header: str | None, length: int) -> list[Span] | None:
    """The satisfiable spans of ``header``; None means "send everything"."""
    if not header or length == 0:
        return None
    unit, _, specs = header.partition("=")
    if unit.strip().lower() != "bytes" or not specs.strip():
        return None
    wanted: list[tuple[int | None, int | None]] = []
    for spec in specs.split(","):
        parsed = _parse_spec(spec)
        if parsed is None:
            return None
        wanted.append(parsed)
    if len(wanted) > MAX_RANGES:
        return None
    spans = [span for span in (_clip(first, last, length) for first, last in wanted) if span]
    if not spans:
        raise fault(errors.RangeNotSatisfiable, headers={"Content-Range": f"bytes */{length}"})
    return spans


def _parse_spec(spec: str) -> tuple[int | None, int | None] | None:
    match = _SPEC.match(spec)
    if not match or match.group(0).strip() == "-":
        return None
    first = int(match.group(1)) if match.group(1) else None
    last = int(match.group(2)) if match.group(2) else None
    if first is not None and last is not None and last < first:
        return None
    return first, last


def _clip(first: int | None, last: int | None, length: int) -> Span | None:
    if first is None:
        assert last is not None
        return (max(length - last, 0), length) if last > 0 else None
    if first >= length:
        return None
    stop = length if last is None else min(last + 1, length)
    return first, stop


def content_range(span: Span, length: int) -> str:
    return f"bytes {span[0]}-{span[1] - 1}/{length}"


def boundary() -> str:
    return secrets.token_hex(16)


def part_head(mark: str, content_type: str, span: Span, length: int) -> bytes:
    return (
        f"--{mark}\r\nContent-Type: {content_type}\r\n"
        f"Content-Range: {content_range(span, length)}\r\n\r\n"
    ).encode("latin-1")


def closing(mark: str) -> bytes:
    return f"--{mark}--".encode()


def multipart_length(mark: str, content_type: str, spans: Sequence[Span], length: int) -> int:
    """The body size of a ``multipart/byteranges`` answer, known before it is streamed."""
    total = len(closing(mark))
    for span in spans:
        total += len(part_head(mark, content_type, span, length)) + span[1] - span[0] + 2
    return total
