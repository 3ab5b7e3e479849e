"""The zero-copy relay between two sockets (splice through a pipe), on real TCP connections."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from ocx.common import splice

pytestmark = pytest.mark.skipif(not splice.AVAILABLE, reason="splice(2) is Linux only")

MIB = 1024 * 1024


def tcp_pair() -> tuple[socket.socket, socket.socket]:
    """Two ends of one loopback TCP connection, both non-blocking (as an event loop's are)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        near = socket.create_connection(listener.getsockname())
        far, _ = listener.accept()
    for end in (near, far):
        end.setblocking(False)
    return near, far


@pytest.fixture
def pairs() -> Iterator[tuple[socket.socket, socket.socket, socket.socket, socket.socket]]:
    """A source connection (landlord -> relay) and a sink connection (relay -> client)."""
    landlord, relay_in = tcp_pair()
    relay_out, client = tcp_pair()
    yield landlord, relay_in, relay_out, client
    for end in (landlord, relay_in, relay_out, client):
        end.close()


async def receive(sock: socket.socket, count: int) -> bytes:
    loop = asyncio.get_running_loop()
    got = bytearray()
    while len(got) < count:
        chunk = await loop.sock_recv(sock, count - len(got))
        if not chunk:
            break
        got += chunk
    return bytes(got)


async def test_exactly_count_bytes_move_and_what_follows_stays_in_the_source(
    pairs: tuple[socket.socket, ...],
) -> None:
    landlord, relay_in, relay_out, client = pairs
    loop = asyncio.get_running_loop()
    body, following = os.urandom(5 * MIB + 123), b"HTTP/1.1 200 OK\r\n"
    sending = asyncio.ensure_future(loop.sock_sendall(landlord, body + following))
    receiving = asyncio.ensure_future(receive(client, len(body)))
    await splice.relay(relay_in.fileno(), relay_out.fileno(), len(body), idle=5)
    await sending
    assert await receiving == body
    # The next answer on a kept-alive connection is the relay's own to read, untouched.
    assert await receive(relay_in, len(following)) == following


async def test_a_source_that_ends_early_is_an_error(pairs: tuple[socket.socket, ...]) -> None:
    landlord, relay_in, relay_out, client = pairs
    await asyncio.get_running_loop().sock_sendall(landlord, b"x" * 1000)
    landlord.close()
    receiving = asyncio.ensure_future(receive(client, 1000))
    with pytest.raises(splice.SourceEnded):
        await splice.relay(relay_in.fileno(), relay_out.fileno(), 2000, idle=5)
    assert await receiving == b"x" * 1000  # what came went on; the caller drops the client


async def test_a_silent_source_times_out(pairs: tuple[socket.socket, ...]) -> None:
    landlord, relay_in, relay_out, _client = pairs
    await asyncio.get_running_loop().sock_sendall(landlord, b"x" * 10)
    with pytest.raises(TimeoutError):
        await splice.relay(relay_in.fileno(), relay_out.fileno(), 20, idle=0.2)


async def test_a_client_that_has_gone_is_reported(pairs: tuple[socket.socket, ...]) -> None:
    landlord, relay_in, relay_out, client = pairs
    client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    client.close()  # a reset: the relay's next send fails
    sending = asyncio.ensure_future(asyncio.get_running_loop().sock_sendall(landlord, b"y" * MIB))
    with pytest.raises(splice.SinkGone):
        await splice.relay(relay_in.fileno(), relay_out.fileno(), MIB, idle=5)
    sending.cancel()


@pytest.mark.skipif(not splice.SENDFILE, reason="sendfile(2) is not available")
async def test_send_file_sends_exactly_the_bytes_asked_from_the_offset(tmp_path: Path) -> None:
    data = os.urandom(6 * MIB + 77)
    path = tmp_path / "f"
    path.write_bytes(data)
    server, client = tcp_pair()
    fd = os.open(path, os.O_RDONLY)
    try:
        receiving = asyncio.ensure_future(receive(client, 5 * MIB))
        await splice.send_file(fd, 3, server.fileno(), 5 * MIB)
        assert await receiving == data[3 : 3 + 5 * MIB]
        server.close()  # nothing past the count was sent
        assert await asyncio.get_running_loop().sock_recv(client, 10) == b""
    finally:
        os.close(fd)
        client.close()


@pytest.mark.skipif(not splice.SENDFILE, reason="sendfile(2) is not available")
async def test_send_file_of_a_file_that_ends_first_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"z" * 1000)
    server, client = tcp_pair()
    fd = os.open(path, os.O_RDONLY)
    try:
        receiving = asyncio.ensure_future(receive(client, 1000))
        with pytest.raises(splice.SourceEnded):
            await splice.send_file(fd, 0, server.fileno(), 2000)
        assert await receiving == b"z" * 1000
    finally:
        os.close(fd)
        server.close()
        client.close()


@pytest.mark.skipif(not splice.SENDFILE, reason="sendfile(2) is not available")
async def test_send_file_to_a_client_that_has_gone_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"z" * 8 * MIB)
    server, client = tcp_pair()
    client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    client.close()
    fd = os.open(path, os.O_RDONLY)
    try:
        with pytest.raises(splice.SinkGone):
            await splice.send_file(fd, 0, server.fileno(), 8 * MIB)
    finally:
        os.close(fd)
        server.close()
