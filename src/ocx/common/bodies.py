"""Limits on what a stranger may send as a request body, for every JSON API.

:class:`BodyLimits` is ASGI middleware that reads a request's body before the handler runs:

- a body over ``max_body`` bytes is refused with 413, by ``Content-Length`` before a byte is
  read, or as soon as a chunked body passes the limit;
- a JSON body (``Content-Type`` absent or naming JSON) must nest at most ``max_depth`` arrays and
  objects and hold only valid Unicode (no lone surrogates such as ``"\\ud800"``) and no NUL
  character (no database stores it in text): otherwise 400.
  A body that is not JSON at all is left to the handler, which says so in its own words;
- a client that goes away in the middle of its body is logged as such (499), never as a 500.

Bodies of other media types (``application/octet-stream`` uploads and the like) pass through
untouched and unbuffered: streaming parts check their own sizes. :func:`loads` is the same JSON
check for code that parses a body itself (Swift manifests, for instance).
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ocx.common import errors

log = logging.getLogger("ocx.bodies")

MAX_BODY = 1 << 20
MAX_DEPTH = 32
CLIENT_GONE = 499

# Media types whose whole body is read and capped; JSON ones are also checked as JSON.
_BUFFERED = ("json", "x-www-form-urlencoded", "xml", "soap", "paos")


class ClientGone(Exception):
    """The client disconnected before it finished sending its body."""


def loads(data: bytes | str, *, max_depth: int = MAX_DEPTH) -> Any:
    """``json.loads`` that refuses deep nesting and lone surrogates with a 400.

    Malformed JSON raises :class:`ValueError` as ``json.loads`` does, so callers keep their
    own wording for it.
    """
    if _depth(data) > max_depth:
        raise errors.BadRequest(f"The JSON body nests deeper than {max_depth} levels.")
    doc = json.loads(data)
    problem = _unicode_problem(doc)
    if problem:
        raise errors.BadRequest(f"The JSON body holds {problem}.")
    return doc


_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")


def _depth(data: bytes | str) -> int:
    """The deepest nesting of ``[``/``{`` outside strings (0 for a scalar)."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    if "[" not in text and "{" not in text:
        return 0
    deepest = depth = 0
    for match in _BRACKETS.finditer(_STRING.sub("", text)):
        depth += 1 if match.group() in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def _unicode_problem(doc: Any) -> str | None:
    """What is wrong with the strings of ``doc`` (keys included), or None."""
    stack = [doc]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            problem = _string_problem(item)
            if problem:
                return problem
    return None


def _string_problem(text: str) -> str | None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "an invalid Unicode string (lone surrogate)"
    if "\x00" in text:
        return "a NUL character (\\u0000) in a string"
    return None


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None


def _kind(scope: Scope) -> str | None:
    """``"json"``, ``"other"`` (read and capped) or None (streamed through untouched)."""
    content_type = (_header(scope, b"content-type") or "").lower()
    if not content_type or "json" in content_type:
        return "json"
    if any(marker in content_type for marker in _BUFFERED):
        return "other"
    return None


class BodyLimits:
    """ASGI middleware: cap, check and replay the body of each request (see module doc)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        family: errors.Family,
        max_body: int = MAX_BODY,
        max_depth: int = MAX_DEPTH,
    ):
        self.app = app
        self.family = family
        self.max_body = max_body
        self.max_depth = max_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = _kind(scope) if scope["type"] == "http" else None
        if kind is None:
            await self.app(scope, receive, send)
            return
        try:
            body = await self._read(scope, receive)
            if kind == "json" and body.strip():
                self._check_json(body)
        except ClientGone:
            scope.setdefault("state", {})["client_gone"] = True
            log.info("client went away mid-body on %s %s", scope["method"], scope["path"])
            return
        except errors.OCXError as exc:
            await self._refuse(exc, send)
            return
        await self.app(scope, _replay(body, receive), send)

    async def _read(self, scope: Scope, receive: Receive) -> bytes:
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body:
            raise self._too_large()
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise ClientGone
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                raise self._too_large()
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    def _too_large(self) -> errors.OCXError:
        return errors.RequestEntityTooLarge(
            f"The request body is larger than {self.max_body} bytes."
        )

    def _check_json(self, body: bytes) -> None:
        try:
            loads(body, max_depth=self.max_depth)
        except (ValueError, RecursionError):
            return  # not JSON at all: the handler says so in its API's words

    async def _refuse(self, exc: errors.OCXError, send: Send) -> None:
        status, headers, content = errors.render(exc, self.family)
        headers["Content-Length"] = str(len(content))
        headers["Connection"] = "close"
        raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": content})


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives the buffered body once, then waits on the real one."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
