"""The HTTP server every part is served by, under `ocx up` and `ocx serve` alike.

uvicorn (httptools) with the limits a server that strangers reach needs and uvicorn lacks:

- a **header timeout**: a connection that has not sent a whole request head within
  ``header_timeout`` seconds of connecting (or of its request's first byte) is closed;
- a **body timeout**: a request body that lets ``body_timeout`` seconds pass without a byte,
  while the server is ready to read more of it, is closed (the app sees the client leave);
- a **header size cap** (431 past ``max_header_bytes``), since httptools has none;
- a **connection cap**: past ``max_connections`` open connections a new one is answered 503
  in the part's own fault format and closed, so the connections already open go on;
- **one send per small answer**: uvicorn writes a response's head and its body apart; the
  small writes of one loop iteration go out together (:class:`Coalescing`), since on a small
  answer the second send, and the client's second wake-up, cost about as much as the rest;
- **zero-copy relay** (the ``ocx.splice`` extension, on Linux, for a connection without TLS):
  an app relaying a body from a socket of its own (the proxy, a landlord's answer) sends
  ``{"type": "ocx.splice", "fd": <socket>, "count": <bytes>, "idle_timeout": <seconds>}``
  within a ``Content-Length`` body, and the server moves those bytes from that socket to the
  client's with ``splice(2)`` (:mod:`ocx.common.splice`), never through Python. The message
  raises :class:`~ocx.common.splice.SourceEnded` or :class:`TimeoutError` for the source,
  :class:`~ocx.common.splice.SinkGone` when the client has gone (the request then counts as
  disconnected); after any of these the answer cannot be completed. The scope lists the
  extension in ``scope["extensions"]`` when the connection supports it.
- **zero-copy file bodies** (the ``ocx.sendfile`` extension, likewise): an app sending bytes
  of a file (the object store's GET) sends ``{"type": "ocx.sendfile", "fd": <file>,
  "offset": <byte>, "count": <bytes>}`` within a ``Content-Length`` body, and the server
  sends them with ``sendfile(2)`` (:func:`ocx.common.splice.send_file`); it raises as
  ``ocx.splice`` does, :class:`~ocx.common.splice.SourceEnded` for a file that ends first.

The checks cost nothing per request beyond a few attribute writes: one sweep over the open
connections runs on uvicorn's own tick (every 0.1 s), rather than a timer per request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import resource
import socket
from collections.abc import Iterator
from typing import Any, cast

import uvicorn
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

from ocx.common import errors, splice
from ocx.common.settings import ServingLimits

log = logging.getLogger("ocx.serving")

TICKS_PER_SWEEP = 2  # uvicorn ticks every 0.1 s
SPLICE = "ocx.splice"
SENDFILE = "ocx.sendfile"


class Config(uvicorn.Config):
    """uvicorn's config plus OCX's limits and the ready-made refusal for a full server."""

    def __init__(self, app: ASGIApp, limits: ServingLimits, **kwargs: Any):
        super().__init__(app, **kwargs)
        self.limits = limits
        self.refusal = _refusal(app)


def _refusal(app: ASGIApp) -> bytes:
    state = getattr(app, "state", None)
    family = getattr(state, "family", errors.Family.OCX)
    error = errors.ServiceUnavailable(
        "The server has too many open connections; try again shortly.",
        headers={"Retry-After": "1", "Connection": "close"},
    )
    status, headers, body = errors.render(error, family)
    head = [f"HTTP/1.1 {status} {error.title}"]
    head += [f"{name}: {value}" for name, value in headers.items()]
    head.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


COALESCE_LIMIT = 16 * 1024


class Coalescing:
    """What a request's cycle writes to its connection: small writes are held and sent as one
    when the answer is complete (or at the end of the loop iteration, for an answer still
    going on); a write that would pass :data:`COALESCE_LIMIT` sends what is held, then
    itself, at once (no copy of a big chunk, nothing reordered)."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop):
        self.transport = transport
        self.loop = loop
        self.held: list[bytes] = []
        self.size = 0

    def write(self, data: bytes) -> None:
        if self.size + len(data) > COALESCE_LIMIT:
            self.flush()
            self.transport.write(data)
            return
        if not self.held:
            self.loop.call_soon(self.flush)
        self.held.append(bytes(data))
        self.size += len(data)

    def flush(self) -> None:
        if self.held:
            data = b"".join(self.held)
            self.held.clear()
            self.size = 0
            self.transport.write(data)

    def is_closing(self) -> bool:
        return self.transport.is_closing()

    def close(self) -> None:
        self.flush()
        self.transport.close()


class GuardedProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, with what a sweep needs to time its client out."""

    def __init__(self, config: Config, **kwargs: Any):
        super().__init__(config, **kwargs)
        self.limits = config.limits
        self.refusal = config.refusal
        self.in_head = True
        self.in_body = False
        self.head_began = 0.0
        self.head_bytes = 0
        self.last_read = 0.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.out = Coalescing(transport, self.loop)
        sock = transport.get_extra_info("socket")
        plain = sock is not None and transport.get_extra_info("sslcontext") is None
        self.sock_fd = sock.fileno() if plain else None
        self.head_began = self.last_read = self.loop.time()
        if len(self.connections) > self.limits.max_connections:
            log.warning("connection refused: %d open", len(self.connections) - 1)
            self.in_head = False
            transport.write(self.refusal)
            transport.close()

    def data_received(self, data: bytes) -> None:
        self.last_read = self.loop.time()
        if self.in_head:
            self.head_bytes += len(data)
            if self.head_bytes > self.limits.max_header_bytes and self._head_too_long(data):
                self.in_head = False
                self._close_with(431, "Request Header Fields Too Large")
                return
        super().data_received(data)

    def _head_too_long(self, data: bytes) -> bool:
        """Whether the head, which this chunk continues, passes the cap (a chunk may end the
        head and start the body: only what comes before the blank line counts)."""
        end = data.find(b"\r\n\r\n")
        if end < 0:
            return True
        return self.head_bytes - len(data) + end > self.limits.max_header_bytes

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if not self.in_head:
            self.in_head = True
            self.head_began = self.last_read
            self.head_bytes = 0

    def on_headers_complete(self) -> None:
        self.in_head = False
        self.in_body = True
        super().on_headers_complete()
        if self.cycle is not None and self.cycle.transport is self.transport:
            self.cycle.transport = cast(asyncio.Transport, self.out)

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: Any) -> None:
        if self.sock_fd is not None:
            extensions = cycle.scope.setdefault("extensions", {})
            if splice.AVAILABLE:
                extensions[SPLICE] = {}
            if splice.SENDFILE:
                extensions[SENDFILE] = {}
            app = _Splicing(self, cycle, app)
        super()._start_asgi_task(cycle, app)

    async def relay(self, cycle: RequestResponseCycle, message: Message) -> None:
        """Send ``message["count"]`` bytes of the body straight from ``message["fd"]``: a
        pipe's (``ocx.splice``) or a file's from ``message["offset"]`` (``ocx.sendfile``)."""
        kind, count = message["type"], message["count"]
        if (
            not cycle.response_started
            or cycle.response_complete
            or cycle.chunked_encoding is not False
            or cycle.scope["method"] == "HEAD"
            or not 0 <= count <= cycle.expected_content_length
        ):
            raise RuntimeError(f"{kind} is for bytes within a response's Content-Length")
        try:
            await self._flushed(cycle)
            assert self.sock_fd is not None
            if kind == SENDFILE:
                await splice.send_file(message["fd"], message["offset"], self.sock_fd, count)
            else:
                idle = message.get("idle_timeout")
                await splice.relay(message["fd"], self.sock_fd, count, idle)
        except splice.SinkGone:
            self._gone(cycle)
            raise
        cycle.expected_content_length -= count

    async def _flushed(self, cycle: RequestResponseCycle) -> None:
        """Until every byte written so far has gone (the relay writes past the transport)."""
        self.out.flush()
        while True:
            if cycle.disconnected or self.transport.is_closing():
                self._gone(cycle)
                raise splice.SinkGone("the client has gone")
            if not self.transport.get_write_buffer_size():
                return
            assert self.sock_fd is not None
            await splice.writable(self.sock_fd)  # the transport's own writer sends meanwhile

    def _gone(self, cycle: RequestResponseCycle) -> None:
        cycle.disconnected = True  # as uvicorn marks it: later sends are dropped quietly
        cycle.message_event.set()
        self.transport.close()

    def on_response_complete(self) -> None:
        self.out.flush()  # the answer is whole: out now, before the rest of the app's step
        super().on_response_complete()

    def shutdown(self) -> None:
        self.out.flush()  # what the last answer left held goes out before the close
        super().shutdown()

    def on_message_complete(self) -> None:
        self.in_body = False
        super().on_message_complete()

    def stalled(self, now: float) -> str | None:
        """Why this connection should be closed now, or None."""
        if self.transport is None or self.transport.is_closing():
            return None
        if self.in_head and now - self.head_began > self.limits.header_timeout:
            return "request head not complete in time"
        if self.in_body and now - self.last_read > self.limits.body_timeout:
            if self.flow is not None and self.flow.read_paused:
                self.last_read = now  # the app is not reading: not the client's fault
                return None
            return "request body stalled"
        return None

    def _close_with(self, status: int, reason: str) -> None:
        self.out.flush()
        body = reason.encode()
        self.transport.write(
            f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
            + body
        )
        self.transport.close()


class _Splicing:
    """The app of one request, with ``ocx.splice`` and ``ocx.sendfile`` messages carried out
    by the server."""

    def __init__(self, protocol: GuardedProtocol, cycle: RequestResponseCycle, app: Any):
        self.protocol = protocol
        self.cycle = cycle
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_or_splice(message: Message) -> None:
            if message["type"] in (SPLICE, SENDFILE):
                await self.protocol.relay(self.cycle, message)
            else:
                await send(message)

        await self.app(scope, receive, send_or_splice)


class Server(uvicorn.Server):
    """A uvicorn server that sweeps stalled connections and leaves signals to its owner."""

    config: Config

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    async def on_tick(self, counter: int) -> bool:
        if counter % TICKS_PER_SWEEP == 0:
            self.sweep()
        return await super().on_tick(counter)

    def sweep(self) -> None:
        now = asyncio.get_running_loop().time()
        for conn in list(self.server_state.connections):
            reason = cast(GuardedProtocol, conn).stalled(now)
            if reason is not None:
                log.info("closing a connection from %s: %s", _peer(conn), reason)
                conn.transport.close()


def _peer(conn: Any) -> str:
    client = getattr(conn, "client", None)
    return f"{client[0]}:{client[1]}" if client else "?"


def server(app: ASGIApp, limits: ServingLimits) -> Server:
    """A server for ``app``; start it with ``await server.serve(sockets=[sock])``."""
    config = Config(
        app,
        limits,
        http=GuardedProtocol,
        lifespan="off",
        log_config=None,
        access_log=False,
        timeout_keep_alive=int(max(1, limits.keep_alive_timeout)),
        timeout_graceful_shutdown=int(limits.graceful_shutdown),
        loop="asyncio",
    )
    return Server(config)


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP named explicitly: asyncio then sets TCP_NODELAY on accepted connections;
    # without it every keep-alive request waits ~40 ms for delayed ACKs.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise RuntimeError(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
    sock.listen(1024)
    sock.setblocking(False)
    return sock


def raise_open_file_limit() -> None:
    """Let this process hold as many connections as the system allows it."""
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < hard:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except (ValueError, OSError):
        pass
