"""Property-based fuzzing of live parts: raw HTTP requests built by Hypothesis strategies, and
the one rule every answer must keep: no 5xx (501, a documented "not offered", aside), and the
process still answers afterwards.

Requests go out on a plain socket (``http.client``), so paths, query strings, headers and
bodies reach the server byte for byte as generated (percent-encoded where HTTP requires).
"""

from __future__ import annotations

import http.client
import json
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# The default run keeps the suite fast; the long run (pytest -m fuzz) is for CI's nightly job.
SHORT = 120
LONG = 3000
ALLOWED_5XX = {501}


def budget(long: bool) -> settings:
    return settings(
        max_examples=LONG if long else SHORT,
        deadline=None,
        derandomize=not long,  # the default run is repeatable; the long run explores
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        database=None,
    )


@dataclass
class Request:
    method: str
    path: str  # percent-encoded, with the query string
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def __str__(self) -> str:
        return f"{self.method} {self.path} {self.headers} body={self.body[:200]!r}"


@dataclass
class Answer:
    status: int
    body: bytes


class Target:
    """A live server: sends requests, checks the rule, counts examples."""

    def __init__(self, base: str, alive: str):
        parts = urlsplit(base)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.alive = alive  # a path that must answer 2xx at any time
        self.sent = 0

    def send(self, req: Request, timeout: float = 30) -> Answer:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            conn.putrequest(req.method, req.path, skip_host=True, skip_accept_encoding=True)
            conn.putheader("Host", f"{self.host}:{self.port}")
            for name, value in req.headers:
                conn.putheader(name, value.encode("latin-1"))
            if req.body or req.method in ("PUT", "POST", "PATCH"):
                conn.putheader("Content-Length", str(len(req.body)))
            conn.endheaders(req.body or None)
            resp = conn.getresponse()
            return Answer(resp.status, resp.read())
        finally:
            conn.close()

    def check(self, req: Request) -> Answer:
        """Send ``req``; fail on a 5xx, or when the server stops answering."""
        self.sent += 1
        try:
            answer = self.send(req)
        except (OSError, http.client.HTTPException) as exc:
            self.still_answers()
            raise AssertionError(f"no answer ({exc!r}) to {req}") from exc
        assert answer.status < 500 or answer.status in ALLOWED_5XX, (
            f"{answer.status} for {req}: {answer.body[:500]!r}"
        )
        return answer

    def still_answers(self) -> None:
        answer = self.send(Request("GET", self.alive), timeout=10)
        assert 200 <= answer.status < 300, f"{self.alive} answered {answer.status}"


# --- building blocks ---------------------------------------------------------------------

# Text with what trips servers up: NUL and control characters, lone surrogates, non-BMP,
# percent signs, slashes, very long runs.
nasty_text = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=20),
    st.sampled_from(
        ["", "\x00", "%00", "..", "/", "//", "\ud800", "\udfff", "%ff", "\U0001f600", "a" * 1100]
    ),
    st.builds(lambda n: "x" * n, st.integers(0, 3000)),
)

numbers_as_text = st.one_of(
    st.integers(-(2**70), 2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["-1", "0", "1e309", "0x10", " 5", "5 ", "", "NaN", "+1"]),
)

header_value = st.one_of(
    numbers_as_text,
    st.text(
        alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"),
        max_size=60,
    ),
    st.sampled_from(["*", '"*"', "bytes=0-", "bytes=-0", "bytes=5-1,0-0", 'W/"x"', "a:b"]),
)


def encode_path(segment: str) -> str:
    """Percent-encode any text, lone surrogates included (as the bytes CESU-8 would send)."""
    raw = segment.encode("utf-8", "surrogatepass")
    return quote(raw, safe="")


def json_values(leaves: st.SearchStrategy[Any] | None = None) -> st.SearchStrategy[Any]:
    base = leaves or st.one_of(
        st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(), nasty_text
    )
    return st.recursive(
        base,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4), st.dictionaries(nasty_text, inner, max_size=4)
        ),
        max_leaves=12,
    )


def dumps(value: Any) -> bytes:
    """JSON as a client could send it: lone surrogates escaped, as json.dumps does."""
    return json.dumps(value).encode()


deep_json = st.integers(1, 200_000).map(lambda n: ("[" * n + "]" * n).encode())

bodies = st.one_of(
    st.just(b""),
    st.binary(max_size=300),
    json_values().map(dumps),
    deep_json,
    st.sampled_from([b"{", b"[", b'{"a":', b"\xff\xfe", b"null", b"\x00" * 10]),
)

query_value = st.one_of(nasty_text.map(encode_path), numbers_as_text.map(encode_path))


def query_of(keys: list[str]) -> st.SearchStrategy[str]:
    pair = st.tuples(st.one_of(st.sampled_from(keys), nasty_text.map(encode_path)), query_value)
    return st.lists(pair, max_size=4).map(
        lambda pairs: ("?" + "&".join(f"{k}={v}" for k, v in pairs)) if pairs else ""
    )


def headers_of(names: list[str]) -> st.SearchStrategy[list[tuple[str, str]]]:
    name = st.one_of(
        st.sampled_from(names),
        st.text(alphabet=string.ascii_letters + "-", min_size=1, max_size=20),
    )
    return st.lists(st.tuples(name, header_value), max_size=5)


Check = Callable[[Request], Answer]
