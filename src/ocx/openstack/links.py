"""Pagination links as the OpenStack JSON APIs write them: the next page is the same query
with its ``marker`` moved to the last item shown."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode


def next_query(params: Iterable[tuple[str, Any]], marker: str) -> str:
    """The query string of the page after ``marker`` (any marker given is replaced)."""
    kept = [(name, value) for name, value in params if name != "marker"]
    return urlencode([*kept, ("marker", marker)])


def next_links(url: str, params: Iterable[tuple[str, Any]], marker: str) -> list[dict[str, str]]:
    """``[{"rel": "next", "href": …}]``, as Nova's and Cinder's ``*_links`` lists hold it."""
    return [{"rel": "next", "href": f"{url}?{next_query(params, marker)}"}]
