"""HTTP/1.1 response framing, as pure functions: the head, and where the body ends.

:class:`Framer` is fed the bytes after the head as they arrive and gives back the body's
pieces: up to ``Content-Length`` (the common case: the bytes are passed on as they are, no
copy), de-chunked for ``Transfer-Encoding: chunked``, or everything until the connection
closes when neither is given. Anything else is garbage: :class:`ValueError`.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_LINE = 4096


@dataclass(frozen=True)
class Head:
    status: int
    headers: list[tuple[str, str]]
    version: str = "HTTP/1.1"

    def get(self, name: str) -> str | None:
        lower = name.lower()
        return next((v for n, v in self.headers if n.lower() == lower), None)


def parse_head(raw: bytes) -> Head:
    """The status line and header lines (without the blank line that ends them)."""
    lines = raw.decode("latin-1").split("\r\n")
    version, _, rest = lines[0].partition(" ")
    code = rest[:3]
    if not version.startswith("HTTP/1.") or len(code) != 3 or not code.isdigit():
        raise ValueError("not an HTTP/1.x status line")
    headers = []
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon or not name or name != name.strip():
            raise ValueError("not a header line")
        headers.append((name, value.strip()))
    return Head(int(code), headers, version)


class Framer:
    def __init__(
        self,
        length: int | None = None,
        *,
        chunked: bool = False,
        keep_alive: bool = True,
        until_close: bool = False,
    ):
        self.remaining = length or 0
        self.chunked = chunked
        self.keep_alive = keep_alive and not until_close
        self.until_close = until_close
        self.done = length == 0
        self._buffer = bytearray()
        self._chunk_left = 0
        self._need_crlf = False
        self._trailers = False

    @classmethod
    def for_head(cls, head: Head, request_was_head: bool) -> Framer:
        connection = (head.get("connection") or "").lower()
        keep_alive = head.version == "HTTP/1.1" and "close" not in connection
        if request_was_head or head.status in (204, 304) or head.status < 200:
            return cls(0, keep_alive=keep_alive)
        if "chunked" in (head.get("transfer-encoding") or "").lower():
            return cls(None, chunked=True, keep_alive=keep_alive)
        length = head.get("content-length")
        if length is not None:
            if not length.strip().isdigit():
                raise ValueError("bad Content-Length")
            return cls(int(length), keep_alive=keep_alive)
        return cls(None, until_close=True)

    def feed(self, data: bytes) -> list[bytes]:
        """The body's pieces in ``data``; ``done`` once the body is complete."""
        if self.done:
            if data:
                raise ValueError("bytes after the end of the body")
            return []
        if self.until_close:
            return [data] if data else []
        if self.chunked:
            return self._dechunk(data)
        if len(data) > self.remaining:
            raise ValueError("more bytes than Content-Length")
        self.remaining -= len(data)
        self.done = self.remaining == 0
        return [data] if data else []

    def feed_past(self, count: int) -> None:
        """``count`` bytes of a ``Content-Length`` body went by without being fed (relayed
        straight from the socket)."""
        if self.chunked or self.until_close or count > self.remaining:
            raise ValueError("only within a Content-Length body")
        self.remaining -= count
        self.done = self.remaining == 0

    def _dechunk(self, data: bytes) -> list[bytes]:
        self._buffer += data
        out: list[bytes] = []
        while not self.done and self._step(out):
            pass
        if self.done and self._buffer:
            raise ValueError("bytes after the last chunk")
        return out

    def _step(self, out: list[bytes]) -> bool:
        """One piece of chunked framing; False when more bytes are needed."""
        if self._chunk_left:
            take = min(self._chunk_left, len(self._buffer))
            if take:
                out.append(bytes(self._buffer[:take]))
                del self._buffer[:take]
                self._chunk_left -= take
                self._need_crlf = self._chunk_left == 0
            return bool(take)
        line = self._line()
        if line is None:
            return False
        if self._need_crlf:
            if line:
                raise ValueError("a chunk is longer than its size")
            self._need_crlf = False
        elif self._trailers:
            self.done = not line
        else:
            size = int(line.split(b";", 1)[0].strip() or b"x", 16)
            self._trailers = size == 0
            self._chunk_left = size
        return True

    def _line(self) -> bytes | None:
        end = self._buffer.find(b"\r\n")
        if end < 0:
            if len(self._buffer) > MAX_LINE:
                raise ValueError("a chunk line is too long")
            return None
        line = bytes(self._buffer[:end])
        del self._buffer[: end + 2]
        return line
