"""A lean, pooled HTTP/1.1 client for the proxy's data path (requests to landlords' object
stores); identity and federation calls, which are few and cached, use httpx.

Why not httpx here: measured in ``bench/proxy.py``, httpx cost the proxy ~1.9 ms per small
request (a third of it an ``import sniffio`` that fails on every request) and capped a relayed
64 MiB GET at a fifth of the direct rate (64 KiB reads, each copied twice by h11). This client
hands the bytes each socket read returns straight on (one copy, the kernel's), keeps
connections alive per landlord, and stops sending a body the landlord has already answered.

Body framing: ``Content-Length``, ``chunked`` or until close; no body after HEAD, 1xx, 204
and 304. A request on a reused connection that the landlord closed before answering is sent
again once on a new connection, if its body can still be replayed.
"""

from __future__ import annotations

import asyncio
import collections
import fcntl
import json
import socket
import ssl
import sys
import termios
import time
from collections.abc import AsyncIterable, AsyncIterator, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, cast
from urllib.parse import urlsplit

from ocx.proxy.framing import Framer, Head, parse_head
from ocx.proxy.silence import polled, within

# Bytes queued before reading from the landlord pauses (at most 4x that held in buffers).
HIGH_WATER = 4 * 1024 * 1024
READ_SIZE = 1024 * 1024  # one socket read: fewer, larger reads cost the proxy less per byte
# A connection's first reads: most answers (API documents) are small. A read that fills it
# grows it to READ_SIZE for that answer; an idle connection keeps no buffer. (Each connection
# held 1 MiB for life: fanning out to 100 landlords, thousands of connections, gigabytes.)
FIRST_READ = 64 * 1024
# A request's head and a body piece up to this size go out in one write (past it, the copy
# that joins them would cost more than the second write saves).
JOIN_BELOW = 64 * 1024
Body = AsyncIterable[bytes] | bytes | None


# A connection idle in the pool this long is closed rather than reused. A landlord closes one
# idle past its keep_alive_timeout (5 s by default): a request sent on it as that close is on
# its way fails, and one whose streamed body had started cannot be sent again (a 503). Under
# 300 clients, with 256 idle connections kept, 5 PUTs in 15 s were lost so (bench/load.py).
IDLE_EXPIRY = 2.0


class WireError(Exception):
    """The landlord could not be used: the reason, in a few words."""

    def __init__(self, reason: str, *, before_answer: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.before_answer = before_answer  # nothing came back: safe to send again


@dataclass(frozen=True)
class Url:
    scheme: str
    host: str
    port: int
    path: str  # percent-encoded, with the query if any

    @property
    def origin(self) -> tuple[str, str, int]:
        return (self.scheme, self.host, self.port)

    def with_path(self, path: str) -> Url:
        return Url(self.scheme, self.host, self.port, path)


@lru_cache(maxsize=4096)
def parse_url(url: str) -> Url:
    parts = urlsplit(url)
    default = 443 if parts.scheme == "https" else 80
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return Url(parts.scheme, parts.hostname or "", parts.port or default, path or "/")


class Headers:
    """Response headers: in order, repeated names kept, looked up case-insensitively."""

    def __init__(self, items: list[tuple[str, str]]):
        self._items = items
        self._first: dict[str, str] = {}
        for name, value in items:
            self._first.setdefault(name.lower(), value)

    def get(self, name: str, default: str | None = None) -> str | None:
        return self._first.get(name.lower(), default)

    def __getitem__(self, name: str) -> str:
        return self._first[name.lower()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._first

    def items(self) -> list[tuple[str, str]]:
        return list(self._items)


class Response:
    """A landlord's answer; its body is read as it arrives, once (or all at once)."""

    def __init__(self, conn: Connection, head: Head, pool: Pool):
        self._conn = conn
        self._pool = pool
        self.status_code = head.status
        self.headers = Headers(head.headers)
        self._content: bytes | None = None

    async def aiter_raw(self) -> AsyncIterator[bytes]:
        while (chunk := await self._conn.next_chunk()) is not None:
            yield chunk
        self._release()

    async def aread(self) -> bytes:
        if self._content is None:
            self._content = b"".join([chunk async for chunk in self.aiter_raw()])
        return self._content

    @property
    def content(self) -> bytes:
        assert self._content is not None, "read the body first"
        return self._content

    def json(self) -> Any:
        return json.loads(self.content)

    async def aclose(self) -> None:
        self._release()

    def detach(self) -> Detached | None:
        """The rest of the body for a relay straight from the landlord's socket (zero-copy),
        or None if it cannot be had so (TLS, chunked or until-close framing, nothing left).
        The connection stops reading until the relay is over."""
        return self._conn.detach()

    def _release(self) -> None:
        conn, self._conn = self._conn, _DONE
        if conn is not _DONE:
            self._pool.release(conn)


@dataclass
class Detached:
    """A body's remainder: ``pieces`` already read, then ``left`` bytes still to come on the
    socket ``fd``, which the caller reads itself, telling :meth:`moved` what it took. Once
    everything has been moved the connection reads again (and can be kept alive); if the
    caller gives up before, the response's close drops the connection."""

    pieces: list[bytes]
    fd: int
    left: int
    idle: float  # the connection's read timeout: the most the landlord may stay silent
    conn: Connection

    def moved(self, count: int) -> None:
        self.left -= count
        self.conn.moved_past(count)


class Connection(asyncio.BufferedProtocol):
    """One connection to a landlord, reading answers as the socket delivers them."""

    def __init__(self, origin: tuple[str, str, int], pool: Pool | None = None):
        self.origin = origin
        self.pool = pool
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.reused = False
        self._framer: Framer | None = None
        self._head_buffer = bytearray()
        self._chunks: collections.deque[bytes] = collections.deque()
        self._queued = 0
        self._paused = False
        self._head: asyncio.Future[Head] | None = None
        self._wake: asyncio.Event = asyncio.Event()
        self._error: WireError | None = None
        self._drained: asyncio.Event = asyncio.Event()
        self._drained.set()
        self.timeout = 60.0
        self._head_request = False
        self._scratch: memoryview | None = None
        self._read_size = FIRST_READ
        self._cut_short = False  # the request body was not sent whole: never reuse
        self.idle_since = 0.0  # when it last went back to the pool

    # --- asyncio.Protocol ----------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but have its methods.
        self.transport = cast(asyncio.Transport, transport)
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def unread(self) -> bool:
        """Whether bytes from the landlord wait in this connection's socket, not yet read by
        the proxy (its loop is behind): the landlord has spoken, whatever ``heard`` says."""
        sock = self.transport.get_extra_info("socket") if self.transport is not None else None
        if sock is None or self.closed:
            return False
        try:
            waiting = fcntl.ioctl(sock.fileno(), termios.FIONREAD, b"\0\0\0\0")
        except OSError:
            return False
        return int.from_bytes(waiting, sys.byteorder) > 0

    def get_buffer(self, sizehint: int) -> memoryview:
        if self._scratch is None:
            self._scratch = memoryview(bytearray(self._read_size))
        return self._scratch

    def buffer_updated(self, nbytes: int) -> None:
        assert self._scratch is not None
        if nbytes == len(self._scratch) < READ_SIZE:  # a large answer: read it in large pieces
            self._read_size = READ_SIZE
        elif nbytes < READ_SIZE // 4:  # a small read is copied out; the buffer is kept
            self.data_received(bytes(self._scratch[:nbytes]))
            return
        data, self._scratch = self._scratch[:nbytes], None  # a large one is handed on as it is
        self.data_received(data)  # type: ignore[arg-type]

    @property
    def buffered(self) -> int:
        """Bytes of read buffer this connection holds."""
        return len(self._scratch) if self._scratch is not None else 0

    def rest(self) -> None:
        """Back in the pool: no buffer kept, the next answer's reads start small again."""
        self._scratch = None
        self._read_size = FIRST_READ

    def data_received(self, data: bytes) -> None:
        if self.pool is not None:
            self.pool.heard[self.origin] = time.monotonic()
        if self._framer is None:
            self._head_buffer += data
            self._maybe_head()
            return
        self._body(data)

    def eof_received(self) -> bool:
        self._lost()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._lost()
        self._drained.set()
        if self.pool is not None:
            self.pool.open.discard(self)

    def pause_writing(self) -> None:
        self._drained.clear()

    def resume_writing(self) -> None:
        self._drained.set()

    # --- one exchange ----------------------------------------------------------------------
    def begin(self, timeout: float, head_request: bool) -> None:
        if self.closed:
            raise WireError("connection lost", before_answer=True)
        self.timeout = timeout
        self._head_request = head_request
        self._framer = None
        self._head_buffer.clear()
        self._chunks.clear()
        self._queued = 0
        self._error = None
        self._cut_short = False
        self._head = asyncio.get_running_loop().create_future()

    @property
    def answered(self) -> bool:
        return self._head is not None and self._head.done()

    async def send(self, head: bytes, body: Body, chunked: bool) -> None:
        """The request: its head goes out with a small body, or with the first piece of a
        streamed one, in one write (one system call, and one read for the landlord)."""
        assert self.transport is not None
        if isinstance(body, bytes):
            self._write(head, body)
        elif body is not None:
            await self._stream(head, body, chunked)
        else:
            self.transport.write(head)

    def _write(self, head: bytes, data: bytes) -> None:
        assert self.transport is not None
        if head and len(data) <= JOIN_BELOW:
            self.transport.write(head + data)
            return
        if head:
            self.transport.write(head)
        if data:
            self.transport.write(data)

    async def _stream(self, head: bytes, body: AsyncIterable[bytes], chunked: bool) -> None:
        assert self.transport is not None
        unsent = head
        async for chunk in body:
            if self.answered or self.closed:
                # The landlord answered early (an error): the rest is not wanted, and the
                # landlord may still be waiting for it, so this connection is done.
                self._cut_short = True
                break
            if not chunk:
                continue
            self._write(unsent, b"%x\r\n%b\r\n" % (len(chunk), chunk) if chunked else chunk)
            unsent = b""
            if not self._drained.is_set():
                async with asyncio.timeout(self.timeout):
                    await self._drained.wait()
        else:
            self._write(unsent, b"0\r\n\r\n" if chunked and not self.closed else b"")

    async def head(self, timeout: float, busy_limit: float | None = None) -> Head:
        """The answer's head within ``timeout`` of the request's writing; while the landlord
        keeps answering other requests meanwhile (busy, not silent), up to ``busy_limit`` in
        all. Silence is judged once the loop has read its sockets (:mod:`ocx.proxy.silence`):
        an answer that arrived while the proxy was busy is not taken for none."""
        head = self._head
        assert head is not None
        began = time.monotonic()
        limit = max(timeout, busy_limit or 0.0)
        wait = timeout
        while True:
            await asyncio.wait({head}, timeout=wait)
            now = time.monotonic() if head.done() else await polled()
            if head.done():
                return head.result()
            heard = self.pool.heard.get(self.origin, 0.0) if self.pool is not None else 0.0
            quiet = now if self.unread() else max(began, heard)
            left = began + limit - now
            if now - quiet >= timeout:
                raise WireError(f"timed out after {timeout:g}s")
            if left <= 0:  # busy all this while: answering others, not this
                raise WireError(f"busy: no answer in {limit:g}s")
            # Heard from lately: wait until it has been silent for ``timeout``.
            wait = min(left, quiet + timeout - now)

    async def next_chunk(self) -> bytes | None:
        while not self._chunks:
            if self._error is not None:
                raise self._error
            if self._framer is None or self._framer.done:
                return None
            self._read_more()
            self._wake.clear()
            try:
                async with asyncio.timeout(self.timeout):
                    await self._wake.wait()
            except TimeoutError:
                raise WireError("timed out") from None
        chunk = self._chunks.popleft()
        self._queued -= len(chunk)
        self._read_more()
        return chunk

    def _read_more(self) -> None:
        """Resume reading, paused after the head or past the high-water mark, once the
        reader has taken enough of what was queued."""
        if self._paused and self._queued < HIGH_WATER // 2 and self.transport is not None:
            self._paused = False
            self.transport.resume_reading()

    def detach(self) -> Detached | None:
        framer, transport = self._framer, self.transport
        if (
            transport is None
            or self.closed
            or self._error is not None
            or framer is None
            or framer.done
            or framer.chunked
            or framer.until_close
            or transport.get_extra_info("sslcontext") is not None
        ):
            return None
        sock = transport.get_extra_info("socket")
        if sock is None:
            return None
        transport.pause_reading()
        self._paused = True  # and no high-water mark resumes it: see moved_past
        pieces = list(self._chunks)
        self._chunks.clear()
        self._queued = 0
        return Detached(pieces, sock.fileno(), framer.remaining, self.timeout, self)

    def moved_past(self, count: int) -> None:
        """``count`` bytes of the body were taken from the socket by a :class:`Detached`."""
        framer = self._framer
        assert framer is not None and count <= framer.remaining
        framer.feed_past(count)
        if self.pool is not None:
            self.pool.heard[self.origin] = time.monotonic()
        if framer.done and self.transport is not None:
            self._paused = False
            self.transport.resume_reading()

    @property
    def reusable(self) -> bool:
        framer = self._framer
        return (
            not self.closed
            and not self._cut_short
            and framer is not None
            and framer.done
            and framer.keep_alive
        )

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.abort()

    # --- parsing ---------------------------------------------------------------------------
    def _maybe_head(self) -> None:
        end = self._head_buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(self._head_buffer) > 65536:
                self._fail(WireError("answered garbage or hung up"))
            return
        try:
            head = parse_head(bytes(self._head_buffer[:end]))
        except ValueError:
            self._fail(WireError("answered garbage or hung up"))
            return
        if 100 <= head.status < 200:  # an interim answer: the real one follows
            del self._head_buffer[: end + 4]
            self._maybe_head()
            return
        try:
            self._framer = Framer.for_head(head, self._head_request)
        except ValueError:
            self._fail(WireError("answered garbage or hung up"))
            return
        rest = bytes(self._head_buffer[end + 4 :])
        if self._head is not None and not self._head.done():
            self._head.set_result(head)
        if rest or self._framer.done:
            self._body(rest)
        if not (self._framer.done or self._paused or self.closed) and self.transport is not None:
            # The body waits in the socket until the answer's reader asks for it: it may
            # rather take it from the socket itself (detach), uncopied.
            self._paused = True
            self.transport.pause_reading()

    def _body(self, data: bytes) -> None:
        assert self._framer is not None
        try:
            pieces = self._framer.feed(data)
        except ValueError:
            self._fail(WireError("answered garbage or hung up"))
            return
        for piece in pieces:
            self._chunks.append(piece)
            self._queued += len(piece)
        if self._queued > HIGH_WATER and not self._paused and self.transport is not None:
            self._paused = True
            self.transport.pause_reading()
        self._wake.set()

    def _lost(self) -> None:
        self.closed = True
        if self._framer is not None and not self._framer.done:
            if self._framer.until_close:
                self._framer.done = True
            else:
                self._error = WireError("connection lost")
        elif self._head is not None and not self._head.done():
            self._head.set_exception(WireError("connection lost", before_answer=True))
            self._head.exception()  # seen here: nobody may be waiting for it any more
        self._wake.set()

    def _fail(self, error: WireError) -> None:
        self._error = error
        if self._head is not None and not self._head.done():
            self._head.set_exception(error)
            self._head.exception()
        self._wake.set()
        self.close()


class _Done(Connection):
    async def next_chunk(self) -> bytes | None:
        return None


_DONE = _Done(("", "", 0))


class Pool:
    """Keep-alive connections per landlord origin."""

    def __init__(
        self,
        connect_timeout: float = 3.0,
        read_timeout: float = 60.0,
        max_idle: int = 64,
        answer_timeout: float = 10.0,
        idle_expiry: float = IDLE_EXPIRY,
    ):
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.answer_timeout = answer_timeout
        self.max_idle = max_idle
        self.idle_expiry = idle_expiry
        self._idle: dict[tuple[str, str, int], list[Connection]] = {}
        self.open: set[Connection] = set()  # every connection not yet lost, idle or in use
        # When each landlord origin last sent the proxy any bytes (time.monotonic()).
        self.heard: dict[tuple[str, str, int], float] = {}
        # Requests written whole to each origin and not yet answered: when each was written.
        self.asked: dict[tuple[str, str, int], dict[Connection, float]] = {}
        self._tls: ssl.SSLContext | None = None

    async def request(
        self, method: str, url: Url, headers: Iterable[tuple[str, str]], body: Body = None
    ) -> Response:
        replay = _Replayable(body)
        for attempt in range(3):
            conn = await self._acquire(url, fresh=attempt > 0)
            try:
                return await self._exchange(conn, method, url, headers, replay)
            except WireError as exc:
                conn.close()
                if attempt == 2 or not _resend(method, conn, exc, replay):
                    raise
            except BaseException:
                # The client's body failed (a bad chunk, a disconnect, a timeout) or the
                # request was cancelled: the landlord must see the upload end, now.
                conn.close()
                raise
        raise WireError("connection lost")  # pragma: no cover (the loop returns or raises)

    async def _exchange(
        self,
        conn: Connection,
        method: str,
        url: Url,
        headers: Iterable[tuple[str, str]],
        body: _Replayable,
    ) -> Response:
        conn.begin(self.read_timeout, head_request=method == "HEAD")
        head, chunked = request_head(method, url, headers, body.body)
        try:
            await conn.send(head, body.stream(), chunked)
        except (ConnectionError, TimeoutError) as exc:
            if not conn.answered:
                raise WireError("connection lost", before_answer=not body.started) from exc
        # A request without a streamed body must be answered within answer_timeout; after
        # an upload's last byte the landlord may take read_timeout (it fsyncs and commits).
        # A landlord that answers other requests meanwhile is busy, not silent: it is given up
        # to read_timeout (under load a landlord's answers take seconds; a 503 then would only
        # add a retry to its queue).
        streamed = isinstance(body.body, AsyncIterable)
        wait = self.read_timeout if streamed else self.answer_timeout
        asked = self.asked.setdefault(conn.origin, {})
        asked[conn] = time.monotonic()
        try:
            return Response(conn, await conn.head(wait, self.read_timeout), self)
        finally:
            asked.pop(conn, None)

    async def _acquire(self, url: Url, fresh: bool) -> Connection:
        idle = self._idle.get(url.origin, [])
        now = time.monotonic()
        while idle and not fresh:
            conn = idle.pop()
            if conn.closed:
                continue
            if now - conn.idle_since >= self.idle_expiry:
                conn.close()  # the landlord may be closing it this very moment
                continue
            conn.reused = True
            return conn
        return await self._connect(url)

    async def _connect(self, url: Url) -> Connection:
        loop = asyncio.get_running_loop()
        tls = self._tls_context() if url.scheme == "https" else None
        connecting = loop.create_connection(
            lambda: Connection(url.origin, self), url.host, url.port, ssl=tls
        )
        try:
            _, conn = await within(connecting, self.connect_timeout)
        except TimeoutError:
            raise WireError("timed out", before_answer=True) from None
        except OSError:
            raise WireError("cannot connect", before_answer=True) from None
        if not conn.closed:
            self.open.add(conn)
        return conn

    def quiet_since(self, origin: tuple[str, str, int]) -> float | None:
        """Since when the landlord at ``origin`` has sent nothing while asked something; None
        when nothing is asked of it now (what waits for it waits inside the proxy)."""
        asked = self.asked.get(origin)
        if not asked:
            return None
        if any(conn.unread() for conn in asked):
            return time.monotonic()
        return max(self.heard.get(origin, 0.0), min(asked.values()))

    @property
    def busy(self) -> int:
        """Connections open and not idle in the pool: requests in flight."""
        return len(self.open) - sum(len(idle) for idle in self._idle.values())

    def _tls_context(self) -> ssl.SSLContext:
        if self._tls is None:
            self._tls = ssl.create_default_context()
        return self._tls

    def release(self, conn: Connection) -> None:
        idle = self._idle.setdefault(conn.origin, [])
        if conn.reusable and len(idle) < self.max_idle:
            conn.rest()
            conn.idle_since = time.monotonic()
            idle.append(conn)
        else:
            conn.close()

    async def aclose(self) -> None:
        for idle in self._idle.values():
            for conn in idle:
                conn.close()
        self._idle.clear()


# Methods a landlord may be sent twice (their effect is that of one): one lost on a new
# connection before any answer is sent again. Under 1,000 calls the proxy's loop fell seconds
# behind, a landlord closed a new connection whose request head came past its header_timeout,
# and shows and deletes were 503 "connection lost" (scale run 6 in docs/proxy.md).
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


def _resend(method: str, conn: Connection, exc: WireError, body: _Replayable) -> bool:
    """Whether a request that failed so is sent again on a new connection: nothing came back
    and its body can be sent again, and the connection was reused (the landlord may have
    closed it as idle) or the landlord closed a new one on a request it may see twice."""
    if not (exc.before_answer and body.replayable):
        return False
    return conn.reused or (method in IDEMPOTENT and exc.reason == "connection lost")


class _Replayable:
    """A request body, and whether any of it has been sent (then it cannot be sent again)."""

    def __init__(self, body: Body):
        self.body = body
        self.started = False

    @property
    def replayable(self) -> bool:
        return not self.started or not isinstance(self.body, AsyncIterable)

    def stream(self) -> Body:
        if not isinstance(self.body, AsyncIterable):
            return self.body
        return self._marked(self.body)

    async def _marked(self, body: AsyncIterable[bytes]) -> AsyncIterator[bytes]:
        self.started = True
        async for chunk in body:
            yield chunk


def request_head(
    method: str, url: Url, headers: Iterable[tuple[str, str]], body: Body
) -> tuple[bytes, bool]:
    """The request line and headers; whether the body goes chunked."""
    lines = [f"{method} {url.path} HTTP/1.1", f"host: {url.host}:{url.port}"]
    has_length = False
    # A streamed body keeps the client's length; otherwise the length is the body's own (a
    # client's Content-Length for a body not sent on would leave the landlord waiting).
    streamed = body is not None and not isinstance(body, bytes)
    for name, value in headers:
        lower = name.lower()
        if lower in ("host", "transfer-encoding", "connection"):
            continue
        if lower == "content-length" and not streamed:
            continue
        has_length = has_length or lower == "content-length"
        lines.append(f"{name}: {value}")
    chunked = False
    if isinstance(body, bytes):
        lines.append(f"content-length: {len(body)}")
    elif body is None and method in ("PUT", "POST"):
        lines.append("content-length: 0")  # Swift wants a length on these, even of nothing
    elif streamed and not has_length:
        lines.append("transfer-encoding: chunked")
        chunked = True
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"), chunked
