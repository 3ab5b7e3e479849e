"""Relaying bytes from one socket to another without copying them: ``splice(2)`` via a pipe;
and sending a file's bytes to a socket the same way: ``sendfile(2)`` (:func:`send_file`).

The bytes go from the source socket's receive queue into a pipe, and from the pipe into the
destination socket, by reference: the kernel moves page references and nothing passes through
user space. Relaying a body so costs the relaying process a few system calls per pipe-full,
instead of two copies of every byte (``recv`` into a buffer, ``send`` out of it) and a buffer
to allocate for each read.

Linux only (:data:`AVAILABLE`). Both sockets must be plain (TLS bytes have to be decrypted
and encrypted again, so they cannot move this way) and non-blocking, as an event loop's are.
Both stay registered with their owners' transports: readiness is awaited on duplicates of
their descriptors (asyncio refuses a second watcher on a transport's own descriptor).
"""

from __future__ import annotations

import asyncio
import fcntl
import os
from collections.abc import Callable

from ocx.common.tasks import uncancelled

AVAILABLE = hasattr(os, "splice") and hasattr(fcntl, "F_SETPIPE_SZ")
SENDFILE = hasattr(os, "sendfile")
PIPE_SIZE = 1024 * 1024  # the most an unprivileged process may ask for (pipe-max-size)
YIELD_EVERY = 8 * 1024 * 1024  # bytes relayed between two turns given to the event loop
_FLAGS = getattr(os, "SPLICE_F_MOVE", 1) | getattr(os, "SPLICE_F_NONBLOCK", 2)


class SourceEnded(ConnectionError):
    """The source closed (or failed) before the promised bytes had all come."""


class SinkGone(ConnectionError):
    """The destination socket can take nothing more: its peer has gone."""


class Pipe:
    """A non-blocking pipe, as large as allowed, and how many bytes it holds now."""

    def __init__(self) -> None:
        self.out, self.into = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self.held = 0
        try:
            self.size = fcntl.fcntl(self.into, fcntl.F_SETPIPE_SZ, PIPE_SIZE)
        except OSError:  # a lower pipe-max-size: keep the default
            self.size = fcntl.fcntl(self.into, fcntl.F_GETPIPE_SZ)

    def close(self) -> None:
        os.close(self.out)
        os.close(self.into)


async def relay(source: int, sink: int, count: int, idle: float | None) -> None:
    """Move exactly ``count`` bytes from socket ``source`` to socket ``sink``.

    Raises :class:`SourceEnded` if the source ends first, :class:`TimeoutError` if it sends
    nothing for ``idle`` seconds while nothing is waiting to go out (a slow destination is
    waited for, as a send would be), :class:`SinkGone` if the destination's peer has gone.
    On any of these, or a cancellation, some of the bytes may have gone and some not: neither
    socket can carry on with what it was doing.
    """
    pipe = Pipe()
    try:
        await _relay(source, sink, count, pipe, idle)
    finally:
        pipe.close()


async def _relay(source: int, sink: int, count: int, pipe: Pipe, idle: float | None) -> None:
    with _Watch(source, sink) as watch:
        left, since_yield = count, 0
        while left or pipe.held:
            taken = _fill(watch.source, pipe, left) if left and pipe.held < pipe.size else 0
            left -= taken
            given = _drain(pipe, watch.sink) if pipe.held else 0
            since_yield += given
            if since_yield >= YIELD_EVERY:  # others on this loop get their turn
                since_yield = 0
                await asyncio.sleep(0)
            elif not (taken or given):
                await watch.wait(
                    readable=bool(left) and pipe.held < pipe.size,
                    writable=pipe.held > 0,
                    timeout=None if pipe.held else idle,
                )


def _fill(source: int, pipe: Pipe, left: int) -> int:
    try:
        moved = os.splice(source, pipe.into, min(left, pipe.size - pipe.held), flags=_FLAGS)
    except BlockingIOError:
        return 0
    except OSError as exc:
        raise SourceEnded(exc.strerror or "source failed") from exc
    if moved == 0:
        raise SourceEnded("source closed")
    pipe.held += moved
    return moved


def _drain(pipe: Pipe, sink: int) -> int:
    try:
        moved = os.splice(pipe.out, sink, pipe.held, flags=_FLAGS)
    except BlockingIOError:
        return 0
    except OSError as exc:
        raise SinkGone(exc.strerror or "destination failed") from exc
    pipe.held -= moved
    return moved


class _Watch:
    """Duplicates of the two sockets' descriptors, used for the relay and to watch readiness:
    should an owner close its own descriptor meanwhile, these still name the same socket."""

    def __init__(self, source: int, sink: int):
        self.loop = asyncio.get_running_loop()
        self.source = os.dup(source)
        try:
            self.sink = os.dup(sink)
        except OSError:
            os.close(self.source)
            raise

    def __enter__(self) -> _Watch:
        return self

    def __exit__(self, *exc: object) -> None:
        os.close(self.source)
        os.close(self.sink)

    async def wait(self, *, readable: bool, writable: bool, timeout: float | None) -> None:
        ready, wake = _event(self.loop)
        if readable:
            self.loop.add_reader(self.source, wake)
        if writable:
            self.loop.add_writer(self.sink, wake)
        try:
            async with asyncio.timeout(timeout):
                await ready
        finally:
            # Unwatched before the duplicates close: epoll would otherwise keep reporting
            # the socket (it is still open under its owner's descriptor).
            if readable:
                self.loop.remove_reader(self.source)
            if writable:
                self.loop.remove_writer(self.sink)


async def writable(fd: int) -> None:
    """Until socket ``fd`` (which a transport owns) can take more bytes."""
    loop = asyncio.get_running_loop()
    dup = os.dup(fd)
    ready, wake = _event(loop)
    loop.add_writer(dup, wake)
    try:
        await ready
    finally:
        loop.remove_writer(dup)
        os.close(dup)


def _event(loop: asyncio.AbstractEventLoop) -> tuple[asyncio.Future[None], Callable[[], None]]:
    """A future, and a callback that completes it (once, however often it is called)."""
    ready: asyncio.Future[None] = loop.create_future()

    def wake() -> None:
        if not ready.done():
            ready.set_result(None)

    return ready, wake


async def send_file(source: int, offset: int, sink: int, count: int) -> None:
    """Send ``count`` bytes of file ``source`` from ``offset`` to socket ``sink`` with
    ``sendfile(2)``: from the page cache into the socket, never through Python, where a
    read and a send copy each byte twice (and the read's buffer is fresh memory each time).

    Each call runs in a worker thread, so a file not in the page cache is read from disk
    there, not on the event loop; it sends what the socket takes then (megabytes on
    loopback), and the loop waits for room before the next. Raises :class:`SourceEnded`
    if the file ends first, :class:`SinkGone` if the socket's peer has gone. The caller may
    close ``source`` once this returns or raises, even when cancelled: a call under way is
    waited for (it would otherwise send from whatever file took the descriptor's number).
    """
    loop = asyncio.get_running_loop()
    sink = os.dup(sink)  # the transport may close its own descriptor meanwhile
    try:
        end = offset + count
        while offset < end:
            call = loop.run_in_executor(None, _send_some, sink, source, offset, end - offset)
            sent = await uncancelled(call)
            offset += sent
            if offset < end:
                await writable(sink)
    finally:
        os.close(sink)


def _send_some(sink: int, source: int, offset: int, count: int) -> int:
    try:
        sent = os.sendfile(sink, source, offset, count)
    except BlockingIOError:
        return 0
    except (BrokenPipeError, ConnectionResetError) as exc:
        raise SinkGone(exc.strerror or "destination gone") from exc
    except OSError as exc:
        raise SourceEnded(exc.strerror or "the file cannot be read") from exc
    if sent == 0:
        raise SourceEnded("the file ends before the bytes to send")
    return sent
