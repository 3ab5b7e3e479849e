"""aiohttp's client (its C HTTP parser) behind the interface of ``ocx.proxy.wire.Pool``, so
that ``bench/proxy.py`` can run the same proxy with either client and compare them.

Set up as a fast client would be: one ``ClientSession`` with a keep-alive connector, no
cookie jar, no automatic headers or decompression, and 1 MiB reads (``read_bufsize``, what
wire.py reads at once). Response bodies are passed on as aiohttp hands them over
(``iter_any``). A measuring tool only: the proxy itself uses wire.py.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable
from typing import Any

import aiohttp
from multidict import CIMultiDict
from yarl import URL

from ocx.proxy.wire import Body, Url, WireError

READ_SIZE = 1024 * 1024
SKIPPED = {"host", "transfer-encoding", "connection"}


class Headers:
    """Response headers with wire.Headers' lookups."""

    def __init__(self, raw: CIMultiDict[str] | Any):
        self._raw = raw

    def get(self, name: str, default: str | None = None) -> str | None:
        value = self._raw.get(name)
        return default if value is None else str(value)

    def __getitem__(self, name: str) -> str:
        return str(self._raw[name])

    def __contains__(self, name: object) -> bool:
        return name in self._raw

    def items(self) -> list[tuple[str, str]]:
        return [(str(k), str(v)) for k, v in self._raw.items()]


class Response:
    def __init__(self, resp: aiohttp.ClientResponse):
        self._resp = resp
        self.status_code = resp.status
        self.headers = Headers(resp.headers)
        self._content: bytes | None = None

    async def aiter_raw(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._resp.content.iter_any():
                yield chunk
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise WireError(type(exc).__name__) from exc
        self._resp.release()

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

    def detach(self) -> None:
        """aiohttp reads the socket itself: its bodies are relayed through Python."""
        return None

    async def aclose(self) -> None:
        self._resp.release()


class AiohttpPool:
    def __init__(
        self, connect_timeout: float = 3.0, read_timeout: float = 60.0, max_idle: int = 64
    ):
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.max_idle = max_idle
        self._session: aiohttp.ClientSession | None = None

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=0, limit_per_host=0, ttl_dns_cache=None)
            self._session = aiohttp.ClientSession(
                connector=connector,
                cookie_jar=aiohttp.DummyCookieJar(),
                auto_decompress=False,
                skip_auto_headers=("User-Agent", "Accept-Encoding", "Accept"),
                read_bufsize=READ_SIZE,
                timeout=aiohttp.ClientTimeout(
                    total=None, sock_connect=self.connect_timeout, sock_read=self.read_timeout
                ),
            )
        return self._session

    async def request(
        self, method: str, url: Url, headers: Iterable[tuple[str, str]], body: Body = None
    ) -> Response:
        sent = CIMultiDict((k, v) for k, v in headers if k.lower() not in SKIPPED)
        target = URL(f"{url.scheme}://{url.host}:{url.port}{url.path}", encoded=True)
        try:
            resp = await self._get_session().request(
                method, target, headers=sent, data=body, allow_redirects=False
            )
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise WireError(type(exc).__name__, before_answer=True) from exc
        return Response(resp)

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
