"""What OCX's server limits cost a small request: guarded vs plain uvicorn, in one run.

Two servers of the same tiny app on this machine, one with :class:`ocx.common.serving.
GuardedProtocol` (header/body timeouts, header cap, connection cap) and one with uvicorn's own
httptools protocol; a client process sends keep-alive GETs to each in turn (A B A B …) and
the ratio of requests per second is printed (goal ≥ 0.97: the guard must not slow the hot path).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import socket
import statistics
import time

import uvicorn
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from ocx.common import errors, serving
from ocx.common.app import create_app
from ocx.common.settings import ServingLimits

REQUESTS = 3000
ROUNDS = 9


async def hello(_request: Request) -> PlainTextResponse:
    return PlainTextResponse("x" * 64)


def run_servers(ports: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    app = create_app(
        name="bench:b", family=errors.Family.SWIFT, routes=[Route("/", hello)], service=None
    )
    guarded = serving.server(app, ServingLimits())
    plain = uvicorn.Server(
        uvicorn.Config(
            app, http=HttpToolsProtocol, lifespan="off", log_config=None, access_log=False
        )
    )
    socks = [serving.bind("127.0.0.1", 0), serving.bind("127.0.0.1", 0)]

    async def main() -> None:
        tasks = [
            asyncio.create_task(s.serve(sockets=[k]))
            for s, k in zip((guarded, plain), socks, strict=True)
        ]
        while not (guarded.started and plain.started):
            await asyncio.sleep(0.01)
        ports.put([k.getsockname()[1] for k in socks])
        await asyncio.gather(*tasks)

    asyncio.run(main())


def rate(port: int) -> float:
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    request = b"GET / HTTP/1.1\r\nHost: b\r\n\r\n"
    began = time.perf_counter()
    for _ in range(REQUESTS):
        sock.sendall(request)
        got = b""
        while not got.endswith(b"x" * 64):
            got += sock.recv(65536)
    took = time.perf_counter() - began
    sock.close()
    return REQUESTS / took


def main() -> None:
    ports: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    server = multiprocessing.Process(target=run_servers, args=(ports,), daemon=True)
    server.start()
    guarded_port, plain_port = ports.get(timeout=30)
    rate(guarded_port), rate(plain_port)  # warm-up
    ratios, g_rates, p_rates = [], [], []
    for _ in range(ROUNDS):
        g, p = rate(guarded_port), rate(plain_port)
        g_rates.append(g)
        p_rates.append(p)
        ratios.append(g / p)
    server.terminate()
    print(
        f"small GET, keep-alive: guarded {statistics.median(g_rates):,.0f} req/s, "
        f"plain uvicorn {statistics.median(p_rates):,.0f} req/s, "
        f"ratio {statistics.median(ratios):.3f} (goal >= 0.97)"
    )


if __name__ == "__main__":
    main()
