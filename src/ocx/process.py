"""One landlord's parts served in this OS process: what `ocx up` and `ocx serve` start.

The parent (:mod:`ocx.supervisor`) binds every listening socket itself and hands them down
(inherited file descriptors), so a landlord's URLs never change when its process is
restarted, and connections that arrive meanwhile wait in the socket's backlog. The parent
writes a :class:`Spec` as JSON on this process's standard input; run as
``python -m ocx.process``. SIGTERM or SIGINT stops it cleanly.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import fcntl
import gc
import logging
import os
import signal
import socket
import sys
from collections.abc import Awaitable, Callable, Iterator, Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from ocx.common import logs, serving
from ocx.landlord import Landlord, Part, build
from ocx.topology import Topology

log = logging.getLogger("ocx.process")


class Spec(BaseModel):
    """Everything a landlord process needs: who it is, its sockets, where its state lives."""

    model_config = ConfigDict(frozen=True)

    topology: Topology
    landlord: str
    data_dir: Path
    database_url: str | None = None
    admin_password: str
    demo_passwords: dict[str, str] = {}
    base_urls: dict[str, str]
    # every landlord of the topology -> its parts' base URLs (see Landlord.peers)
    peers: dict[str, dict[str, str]] = {}
    # part -> inherited file descriptor of its listening socket
    sockets: dict[str, int]
    log_file: Path | None = None
    log_json: bool = False
    log_level: str = "INFO"
    worker: int = 0

    def to_landlord(self) -> Landlord:
        index, config = next(
            (i, c) for i, c in enumerate(self.topology.landlords) if c.name == self.landlord
        )
        return Landlord(
            config=config,
            index=index,
            topology=self.topology,
            data_dir=self.data_dir,
            database_url=self.database_url,
            admin_password=self.admin_password,
            demo_passwords=dict(self.demo_passwords),
            base_urls=dict(self.base_urls),
            peers={name: dict(urls) for name, urls in self.peers.items()},
        )


@contextlib.contextmanager
def start_lock(data_dir: Path) -> Iterator[None]:
    """One process at a time migrates and bootstraps a landlord (workers start together)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    with open(data_dir / ".start.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


Started = tuple[Spec, str, Part]  # whose, which part, the running part


async def serve(spec: Spec) -> None:
    await serve_all([spec])


async def serve_all(
    specs: Sequence[Spec], ready: Callable[[list[Started]], Awaitable[None]] | None = None
) -> None:
    """The parts of one landlord (``ocx up``, ``ocx serve``), or of several on this one event
    loop (landlords share a process only where a benchmark says so: ``bench/scale.py``);
    ``ready`` is called once every part serves."""
    limits = specs[0].topology.exchange.serving
    started: list[Started] = []
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    main = asyncio.current_task()
    starting = True

    def on_signal() -> None:
        # While the parts start, a signal cancels the start (the supervisor gives up on a
        # start, and must not wait for a whole migration); once serving, it stops the servers.
        stop.set()
        if starting and main is not None:
            main.cancel()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal)
    try:
        for spec in specs:
            landlord = spec.to_landlord()
            with start_lock(landlord.data_dir):
                for part in spec.sockets:
                    service = build(landlord, part)
                    await service.start()
                    started.append((spec, part, service))
        starting = False
        # What the start made (modules, apps, routes, settings, caches) lives as long as the
        # process: kept out of the collector's way, a full collection walks only what requests
        # made since (bench/load.py, 300 clients: full collections paused the loop for up to
        # 0.7 s each, 1.25 s in 20 s; frozen, 0.12 s each, 0.26 s in all).
        gc.collect()
        gc.freeze()
        servers = []
        tasks = []
        for spec, part, service in started:
            sock = socket.socket(fileno=spec.sockets[part])
            sock.setblocking(False)
            server = serving.server(service.app, limits)
            servers.append(server)
            tasks.append(asyncio.create_task(server.serve(sockets=[sock])))
            log.info("%s ready at %s", part, spec.base_urls[part])
        if ready is not None:
            await ready(started)
        done = asyncio.ensure_future(stop.wait())
        await asyncio.wait([done, *tasks], return_when=asyncio.FIRST_COMPLETED)
        for server in servers:
            server.should_exit = True
        await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        for _, _, service in reversed(started):
            with contextlib.suppress(Exception):
                await service.stop()


def _die_with_parent() -> None:
    """Linux: SIGTERM this process if its supervisor dies, so no landlord is left behind."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def main() -> None:
    """``python -m ocx.process``: the spec as JSON on standard input, sockets inherited."""
    _run(Spec.model_validate_json(sys.stdin.read()))


def forked(spec_json: str, sockets: dict[str, socket.socket]) -> None:
    """The entry point of a landlord process forked by the supervisor's fork server (which
    imported every part once): the sockets arrive as passed file descriptors."""
    _leave_fork_server()
    fds = {part: sock.detach() for part, sock in sockets.items()}
    _run(Spec.model_validate_json(spec_json).model_copy(update={"sockets": fds}))


def _leave_fork_server() -> None:
    """Close the fork server's liveness pipe, which multiprocessing hands every child.

    The fork server exits when the supervisor's end of that pipe closes, and this process
    dies with the fork server (PR_SET_PDEATHSIG): a copy held here would keep the fork server,
    and so every landlord, alive after the supervisor died.
    """
    from multiprocessing import forkserver

    server = getattr(forkserver, "_forkserver", None)
    fd = getattr(server, "_forkserver_alive_fd", None)
    if server is not None and fd is not None:
        with contextlib.suppress(OSError):
            os.close(fd)
        server._forkserver_alive_fd = None


def _run(spec: Spec) -> None:
    _die_with_parent()
    prefix = spec.landlord if not spec.worker else f"{spec.landlord}#{spec.worker}"
    logs.configure_process(
        spec.log_level, log_file=spec.log_file, json_console=spec.log_json, prefix=prefix
    )
    serving.raise_open_file_limit()
    try:
        asyncio.run(serve(spec))
    except asyncio.CancelledError:
        log.info("%s stopped while starting", prefix)
    except Exception as exc:
        log.exception("%s could not start: %s", spec.landlord, exc)
        raise SystemExit(3) from exc


if __name__ == "__main__":
    main()
