"""Calls from the proxy to the landlords' object stores (over :mod:`ocx.proxy.wire`).

A call either returns the landlord's response (any status: a landlord's 4xx is its answer,
passed on) or raises :class:`~ocx.proxy.errors.Unreachable` with a short reason: it could
not connect, it timed out, the connection broke, or it answered something that is not HTTP.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from urllib.parse import quote

from ocx.proxy import headers as h
from ocx.proxy.errors import Unreachable
from ocx.proxy.tokens import Backend
from ocx.proxy.wire import Body, Pool, Response, Url, WireError, parse_url


def target(
    storage_url: str, container: str | None = None, obj: str | None = None, query: bytes = b""
) -> Url:
    """The landlord's URL for an account, container or object (names percent-encoded)."""
    base = parse_url(storage_url)
    path = base.path.split("?", 1)[0].rstrip("/")
    if container is not None:
        path += "/" + quote(container, safe="")
    if obj is not None:
        path += "/" + quote(obj, safe="/")
    if query:
        path += "?" + query.decode("latin-1")
    return base.with_path(path)


class Upstream:
    def __init__(self, pool: Pool):
        self.pool = pool

    async def open(
        self,
        backend: Backend,
        method: str,
        url: Url,
        headers: Iterable[tuple[str, str]],
        hops: Sequence[str],
        body: Body = None,
    ) -> Response:
        """Send; the response's body is left to stream (the caller closes the response)."""
        sent = h.outgoing(headers, backend.token, hops)
        try:
            return await self.pool.request(method, url, sent, body)
        except WireError as exc:
            raise Unreachable(backend.landlord, exc.reason) from exc

    async def call(
        self,
        backend: Backend,
        method: str,
        url: Url,
        headers: Iterable[tuple[str, str]],
        hops: Sequence[str],
        body: bytes | None = None,
    ) -> Response:
        """Send and read the whole (small) answer: account and container calls of fan-outs."""
        response = await self.open(backend, method, url, headers, hops, body)
        try:
            await response.aread()
        except WireError as exc:
            raise Unreachable(backend.landlord, exc.reason) from exc
        finally:
            await response.aclose()
        return response
