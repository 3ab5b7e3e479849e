"""Rendering account and container listings as HTTP replies."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.responses import Response

from ocx.object.api.context import Call, reply
from ocx.swift import listing


def respond(
    call: Call, items: list[listing.Item], root: str, name: str, headers: Mapping[str, str]
) -> Response:
    fmt = listing.choose_format(call.query, call.headers.get("accept"))
    content_type = listing.FORMATS[fmt]
    if not items and fmt == "plain":
        return reply(204, headers, content_type=content_type)
    body = listing.render(items, fmt, root, name)
    if call.request.method == "HEAD":
        body = b""
    return reply(200, headers, body, content_type)


def query(call: Call, max_limit: int) -> listing.Query:
    return listing.parse_query(call.query, max_limit)
