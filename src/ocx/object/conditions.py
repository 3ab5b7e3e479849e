"""Conditional requests: ``If-Match``, ``If-None-Match``, ``If-(Un)Modified-Since``.

:func:`check_read` decides a GET or HEAD: None to go on, 304 by returning ``True``, 412 by
raising. ETags compare without their quotes, as Swift compares them.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from email.utils import formatdate, parsedate_to_datetime

from ocx.common import errors
from ocx.swift.faults import fault, precondition


def etags(header: str) -> set[str]:
    return {tag.strip().removeprefix("W/").strip('"') for tag in header.split(",")}


def _date(header: str | None) -> float | None:
    if not header:
        return None
    try:
        return parsedate_to_datetime(header).timestamp()
    except (TypeError, ValueError):
        return None


@functools.lru_cache(maxsize=4096)  # an object's date is formatted on every read of it
def http_date(timestamp: float) -> str:
    """Last-Modified: whole seconds, rounded up as Swift does."""
    return formatdate(math.ceil(timestamp), usegmt=True)


def not_modified(headers: Mapping[str, str], etag: str, modified: float) -> bool:
    """True for 304; raises 412. ``etag`` is unquoted."""
    if_match = headers.get("if-match")
    if if_match is not None and "*" not in etags(if_match) and etag not in etags(if_match):
        raise precondition()
    since = _date(headers.get("if-unmodified-since"))
    if since is not None and math.ceil(modified) > since:
        raise precondition()
    if_none = headers.get("if-none-match")
    if if_none is not None:
        tags = etags(if_none)
        return "*" in tags or etag in tags
    since = _date(headers.get("if-modified-since"))
    return since is not None and math.ceil(modified) <= since


def missing(headers: Mapping[str, str]) -> None:
    """Preconditions against an object that does not exist: ``If-Match: *`` fails."""
    if "*" in etags(headers.get("if-match") or ""):
        raise precondition()


def put_if_none_match(headers: Mapping[str, str]) -> bool:
    """Whether a PUT must not replace an existing object (``If-None-Match: *``)."""
    value = headers.get("if-none-match")
    if value is None:
        return False
    if value.strip() != "*":
        raise fault(errors.BadRequest, "If-None-Match only supports *")
    return True
