"""Relaying a landlord's response to the client, streamed, and the client's body upstream.

Bytes are passed on as they arrive, both ways: no object is held whole in the proxy. A landlord
that breaks off mid-response cannot be reported with a status (it has been sent), so the
proxy breaks off too: the client's connection is dropped short of the promised length (or
without the last chunk), which every client reports as an error, never as a whole object.

A response body with a ``Content-Length`` past :data:`SPLICE_ABOVE`, from a plain (not TLS)
landlord connection to a plain client connection, is relayed by the server with
``splice(2)`` (the ``ocx.splice`` extension of :mod:`ocx.common.serving`): the bytes go from
the landlord's socket to the client's without passing through Python, a few system calls per
megabyte instead of two copies. Everything else is read and written as above.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping

import anyio
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from ocx.common import errors, splice
from ocx.common.serving import SPLICE
from ocx.proxy import headers as h
from ocx.proxy.wire import Detached, WireError
from ocx.proxy.wire import Response as Answer
from ocx.swift.faults import fault

log = logging.getLogger("ocx.proxy")

# Past this many bytes a response also watches for the client going away, to stop reading.
WATCH_ABOVE = 1024 * 1024
# Past this many bytes a body is spliced, when it can be (below, the set-up costs more).
SPLICE_ABOVE = 64 * 1024
SPLICE_STEP = 8 * 1024 * 1024  # bytes per splice message: the landlord is heard from between


class BrokenUpstream(Exception):
    """The landlord broke off mid-body: the proxy drops the client's connection too."""


class Relay(Response):
    def __init__(
        self,
        upstream: Answer,
        landlord: str,
        extra: Mapping[str, str] | None = None,
        head: bool = False,
    ):
        super().__init__(None, status_code=upstream.status_code)
        self.upstream = upstream
        self.landlord = landlord
        self.head = head
        out = h.incoming(upstream.headers.items())
        out += [(h.LANDLORD, landlord), *(extra or {}).items()]
        self.raw_headers = h.encode(out)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            start = {"type": "http.response.start", "status": self.status_code}
            await send({**start, "headers": self.raw_headers})
            if not self.head:
                await self._body(SPLICE in scope.get("extensions", {}), receive, send)
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            await self.upstream.aclose()

    async def _body(self, can_splice: bool, receive: Receive, send: Send) -> None:
        length = self.upstream.headers.get("content-length") or ""
        size = int(length) if length.isdigit() else None
        rest = self.upstream.detach() if can_splice and (size or 0) > SPLICE_ABOVE else None
        if size is not None and size <= WATCH_ABOVE:
            await self._pump(send, rest)
            return
        async with anyio.create_task_group() as group:

            async def watch() -> None:
                while (await receive())["type"] != "http.disconnect":
                    pass
                group.cancel_scope.cancel()

            group.start_soon(watch)
            await self._pump(send, rest)
            group.cancel_scope.cancel()

    async def _pump(self, send: Send, rest: Detached | None) -> None:
        try:
            if rest is None:
                async for chunk in self.upstream.aiter_raw():
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
            else:
                await self._splice(send, rest)
        except splice.SinkGone:
            return  # the client has gone: the server drops its connection, and ours is closed
        except (WireError, splice.SourceEnded, TimeoutError) as exc:
            reason = exc.reason if isinstance(exc, WireError) else _reason(exc)
            log.warning(
                "landlord %s broke off a response mid-body (%s); dropping the client's connection",
                self.landlord,
                reason,
            )
            raise BrokenUpstream(self.landlord) from exc

    async def _splice(self, send: Send, rest: Detached) -> None:
        for piece in rest.pieces:
            await send({"type": "http.response.body", "body": piece, "more_body": True})
        while rest.left:
            count = min(rest.left, SPLICE_STEP)
            await send({"type": SPLICE, "fd": rest.fd, "count": count, "idle_timeout": rest.idle})
            rest.moved(count)


def _reason(exc: BaseException) -> str:
    return "timed out" if isinstance(exc, TimeoutError) else "connection lost"


class Upload:
    """The client's request body as an upstream body, noting whether any of it was read.

    A client that stops sending for ``idle`` seconds gets 408; one that goes away (or sends
    a body the server cannot parse) ends the upload. Either way the upstream connection is
    closed (:meth:`ocx.proxy.wire.Pool.request`), so the landlord drops its upload at once.
    """

    def __init__(self, request: Request, idle: float):
        self.request = request
        self.idle = idle
        self.started = False

    async def chunks(self) -> AsyncIterator[bytes]:
        self.started = True
        stream = self.request.stream().__aiter__()
        while True:
            try:
                async with asyncio.timeout(self.idle):
                    chunk = await anext(stream)
            except StopAsyncIteration:
                return
            except TimeoutError:
                log.info("client went quiet mid-upload; the landlord's upload is abandoned")
                raise fault(errors.RequestTimeout) from None
            except ClientDisconnect:
                log.info("client went away mid-upload; the landlord's upload is abandoned")
                raise errors.ClientDisconnected() from None
            if chunk:
                yield chunk


def upload_of(request: Request, idle: float) -> Upload | None:
    """The request's body as an upload, if it has one and it means something (Swift reads
    bodies of PUT and POST only; others are not sent on)."""
    if request.method not in ("PUT", "POST") or not has_body(request.headers):
        return None
    return Upload(request, idle)


def has_body(headers: Mapping[str, str]) -> bool:
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return True
    return headers.get("content-length", "0") not in ("", "0")


def replies(status: int, headers: Mapping[str, str], body: bytes, ctype: str) -> Response:
    """A response the proxy composes itself (merged listings, account answers)."""
    out = {"Content-Type": ctype, **headers}
    return Response(body, status_code=status, headers=out)
