"""The limits of every part's HTTP server: header and body timeouts, header size, connection cap."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
from asyncio import selector_events
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from ocx.common import errors, serving, splice
from ocx.common.app import create_app
from ocx.common.settings import ServingLimits
from tests.common.test_splice import tcp_pair


@dataclass
class Live:
    url: str
    port: int
    server: serving.Server
    disconnects: list[str]


@pytest.fixture
async def live(request: pytest.FixtureRequest) -> AsyncIterator[Live]:
    limits: ServingLimits = getattr(request, "param", ServingLimits())
    disconnects: list[str] = []

    async def echo(req: Request) -> PlainTextResponse:
        try:
            body = await req.body()
        except ClientDisconnect:
            disconnects.append(req.url.path)
            raise
        return PlainTextResponse(f"{len(body)}")

    async def big(req: Request) -> PlainTextResponse:
        return PlainTextResponse("x" * BIG)

    app = create_app(
        name="test:t",
        family=errors.Family.KEYSTONE,
        routes=[Route("/echo", echo, methods=["GET", "PUT"]), Route("/big", big)],
        service=None,
    )
    sock = serving.bind("127.0.0.1", 0)
    server = serving.server(app, limits)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.01)
    port = sock.getsockname()[1]
    yield Live(f"http://127.0.0.1:{port}", port, server, disconnects)
    server.should_exit = True
    await task
    sock.close()


async def closed_after(reader: asyncio.StreamReader, limit: float) -> tuple[float, bytes]:
    """Seconds until the server closes the connection, and what it said before."""
    loop = asyncio.get_running_loop()
    began = loop.time()
    said = await asyncio.wait_for(reader.read(), limit)
    return loop.time() - began, said


QUICK = ServingLimits(header_timeout=0.5, body_timeout=0.5)
BIG = 100_000


async def test_a_small_answer_is_one_send_and_a_big_one_is_not_copied(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    """uvicorn writes an answer's head and body apart; the server sends a small answer in
    one piece, and a big body on its own after the head, in order."""
    sent: list[int] = []
    real = selector_events._SelectorSocketTransport.write

    def counted(transport: selector_events._SelectorSocketTransport, data: bytes) -> None:
        if transport.get_extra_info("sockname")[1] == live.port:  # the server's side
            sent.append(len(data))
        real(transport, data)

    monkeypatch.setattr(selector_events._SelectorSocketTransport, "write", counted)
    reader, writer = await asyncio.open_connection("127.0.0.1", live.port)
    for path, body in ((b"/echo", b"0"), (b"/big", b"x" * BIG), (b"/echo", b"0")):
        sent.clear()
        writer.write(b"GET " + path + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        head = await reader.readuntil(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200")
        length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
        assert await reader.readexactly(length) == body
        assert len(sent) == (2 if path == b"/big" else 1)
        assert sent[0] == len(head) + (0 if path == b"/big" else length)
    writer.close()


@pytest.mark.parametrize("live", [QUICK], indirect=True)
async def test_half_sent_headers_are_closed_after_the_header_timeout(live: Live) -> None:
    opened = asyncio.get_running_loop().time()
    reader, writer = await asyncio.open_connection("127.0.0.1", live.port)
    silent_reader, silent_writer = await asyncio.open_connection("127.0.0.1", live.port)
    writer.write(b"GET /echo HTTP/1.1\r\nHost: x\r\nX-Slow: ")
    # A slowloris trickle does not extend the deadline.
    for _ in range(3):
        await asyncio.sleep(0.1)
        writer.write(b"a")
    _took, said = await closed_after(reader, 30)
    # Closed at the deadline counted from the connection (0.5 s), not from the last byte.
    assert asyncio.get_running_loop().time() - opened >= 0.4
    assert said == b""
    # A connection that never sends a byte is closed too.
    await closed_after(silent_reader, 30)
    # Meanwhile and after, whole requests are served.
    async with httpx.AsyncClient() as client:
        assert (await client.get(live.url + "/echo")).text == "0"
    writer.close()
    silent_writer.close()


@pytest.mark.parametrize("live", [QUICK], indirect=True)
async def test_a_body_that_stops_arriving_is_closed_after_the_body_timeout(live: Live) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", live.port)
    head = b"PUT /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"
    writer.write(head + b"Content-Length: 100\r\n\r\n" + b"x" * 10)
    _took, said = await closed_after(reader, 30)
    assert said == b""
    assert live.disconnects == ["/echo"]  # the app saw the client leave (no 500)
    writer.close()


@pytest.mark.parametrize("live", [ServingLimits(header_timeout=0.3)], indirect=True)
async def test_keep_alive_connections_are_not_cut_between_requests(live: Live) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(3):
            assert (await client.put(live.url + "/echo", content=b"abc")).text == "3"
            await asyncio.sleep(0.2)  # under the keep-alive timeout, over nothing else


async def test_oversized_headers_are_refused(live: Live) -> None:
    async with httpx.AsyncClient() as client:
        found = await client.get(live.url + "/echo", headers={"X-Big": "a" * 70_000})
    assert found.status_code == 431


@pytest.mark.parametrize("live", [ServingLimits(max_connections=3)], indirect=True)
async def test_the_connection_cap_refuses_clearly_while_others_are_served(live: Live) -> None:
    clients = [httpx.AsyncClient() for _ in range(3)]
    try:
        for client in clients:  # three keep-alive connections, open
            assert (await client.get(live.url + "/echo")).status_code == 200
        async with httpx.AsyncClient() as extra:
            refused = await extra.get(live.url + "/echo")
        assert refused.status_code == 503
        assert refused.headers["retry-after"] == "1"
        assert "too many open connections" in json.loads(refused.text)["error"]["message"]
        for client in clients:  # the connections already open go on being served
            assert (await client.put(live.url + "/echo", content=b"ab")).text == "2"
        await clients.pop().aclose()
        while len(live.server.server_state.connections) >= 3:
            await asyncio.sleep(0.01)
        async with httpx.AsyncClient() as later:  # room again
            assert (await later.get(live.url + "/echo")).status_code == 200
    finally:
        for client in clients:
            await client.aclose()


class Spliced:
    """An app whose answer is ``<``, ``size`` bytes relayed from a socket of its own with the
    ``ocx.splice`` extension, then ``>``; the source stops after ``cut`` bytes if given."""

    def __init__(self, size: int, cut: int | None = None):
        self.size = size
        self.cut = cut
        self.payload = os.urandom(size)
        self.errors: list[BaseException] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert serving.SPLICE in scope["extensions"]
        loop = asyncio.get_running_loop()
        source, relay_end = tcp_pair()
        try:
            feeding = asyncio.ensure_future(self._feed(loop, source))
            length = str(self.size + 2).encode()
            start = {"type": "http.response.start", "status": 200}
            await send({**start, "headers": [(b"content-length", length)]})
            await send({"type": "http.response.body", "body": b"<", "more_body": True})
            try:
                message = {"type": serving.SPLICE, "fd": relay_end.fileno(), "count": self.size}
                await send({**message, "idle_timeout": 5.0})
            except splice.SourceEnded as exc:
                self.errors.append(exc)
                raise
            await send({"type": "http.response.body", "body": b">", "more_body": False})
            await feeding
        finally:
            source.close()
            relay_end.close()

    async def _feed(self, loop: asyncio.AbstractEventLoop, source: socket.socket) -> None:
        await loop.sock_sendall(source, self.payload[: self.cut])
        if self.cut is not None:
            source.close()


@contextlib.asynccontextmanager
async def serving_app(app: ASGIApp) -> AsyncIterator[str]:
    sock = serving.bind("127.0.0.1", 0)
    server = serving.server(app, ServingLimits())
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.01)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    server.should_exit = True
    await task
    sock.close()


@pytest.mark.skipif(not splice.AVAILABLE, reason="splice(2) is Linux only")
async def test_a_body_relayed_with_splice_arrives_whole_between_written_pieces() -> None:
    app = Spliced(3 * 1024 * 1024 + 7)
    async with serving_app(app) as url, httpx.AsyncClient() as client:
        for _ in range(2):  # and the connection is kept alive for the next request
            got = await client.get(url)
            assert got.status_code == 200
            assert got.content == b"<" + app.payload + b">"


@pytest.mark.skipif(not splice.AVAILABLE, reason="splice(2) is Linux only")
async def test_a_source_ending_mid_splice_drops_the_client_short_of_its_length() -> None:
    app = Spliced(3 * 1024 * 1024, cut=1024 * 1024)
    async with serving_app(app) as url, httpx.AsyncClient() as client:
        with pytest.raises(httpx.RemoteProtocolError):
            await client.get(url)
        assert [type(e) for e in app.errors] == [splice.SourceEnded]
