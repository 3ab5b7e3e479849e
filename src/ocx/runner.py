"""Start a whole exchange from a topology, and stop it cleanly.

Sockets are bound first, so every part knows every URL (ports may be ephemeral) before any
part starts; parts then migrate and bootstrap; only then do the HTTP servers serve, and
:meth:`Exchange.start` returns once every endpoint answers its health check; then the
landlords are wired together (demo users, trusts, OIDC clients).

:class:`Exchange` runs every landlord in this process, on one event loop (tests and
benchmarks, through :class:`BackgroundExchange`); :mod:`ocx.supervisor` runs each landlord in a
process of its own (``ocx up``) with the same pieces: :func:`landlords`, :func:`bind_all`,
:func:`wait_ready` and :func:`wire`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import socket
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from starlette.types import ASGIApp

from ocx import federate
from ocx.common import outbound, serving
from ocx.landlord import Landlord, Part, build
from ocx.topology import Topology

log = logging.getLogger("ocx.runner")


@dataclass
class Running:
    landlord: str
    part: str
    url: str
    service: Part
    server: serving.Server
    sock: socket.socket


class Exchange:
    def __init__(self, topology: Topology, data_dir: Path, database_url: str | None = None):
        self.topology = topology
        self.data_dir = data_dir
        self.database_url = database_url
        self.landlords: dict[str, Landlord] = {}
        self.running: list[Running] = []
        # (idp, sp) -> the OIDC client the idp registered for sp: client_id, client_secret.
        self.oidc_clients: dict[tuple[str, str], dict[str, str]] = {}
        self._serving: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        self.landlords = landlords(self.topology, self.data_dir, self.database_url)
        sockets = bind_all(self.topology, self.landlords)
        try:
            for (name, part), sock in sockets.items():
                landlord = self.landlords[name]
                service = build(landlord, part)
                await service.start()
                self.running.append(
                    Running(
                        name,
                        part,
                        landlord.base_urls[part],
                        service,
                        self._server(service.app),
                        sock,
                    )
                )
            for run in self.running:
                self._serving.append(asyncio.create_task(run.server.serve(sockets=[run.sock])))
            await wait_ready([r.url for r in self.running])
            log.info(
                "exchange ready: %s",
                ", ".join(f"{r.landlord}/{r.part} {r.url}" for r in self.running),
            )
            self.oidc_clients = await wire(self.landlords)
        except BaseException:
            await self.stop()
            raise

    def _server(self, app: ASGIApp) -> serving.Server:
        return serving.server(app, self.topology.exchange.serving)

    async def stop(self) -> None:
        for run in self.running:
            run.server.should_exit = True
        if self._serving:
            await asyncio.gather(*self._serving, return_exceptions=True)
        for run in self.running:
            await run.service.stop()
            run.sock.close()
        self.running.clear()
        self._serving.clear()

    async def serve_forever(self) -> None:
        await asyncio.gather(*self._serving)


def landlords(topology: Topology, data_dir: Path, database_url: str | None) -> dict[str, Landlord]:
    """Every landlord of ``topology``, with its secrets (made on first start), no URLs yet."""
    data_dir.mkdir(parents=True, exist_ok=True)
    doc = load_secrets(topology, data_dir)
    found: dict[str, Landlord] = {}
    for index, config in enumerate(topology.landlords):
        landlord = Landlord(
            config=config,
            index=index,
            topology=topology,
            data_dir=data_dir / config.name,
            database_url=database_url,
            admin_password=doc[config.name]["admin_password"],
            demo_passwords={u: doc[config.name]["demo_passwords"][u] for u in config.demo_users},
        )
        landlord.data_dir.mkdir(parents=True, exist_ok=True)
        found[config.name] = landlord
    return found


def load_secrets(topology: Topology, data_dir: Path) -> dict[str, Any]:
    """Each landlord's admin password, made on first start and kept (mode 0600)."""
    path = data_dir / "secrets.json"
    doc: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    changed = False
    for landlord in topology.landlords:
        entry = doc.setdefault(landlord.name, {})
        if "admin_password" not in entry:
            entry["admin_password"] = secrets.token_urlsafe(18)
            changed = True
        demo = entry.setdefault("demo_passwords", {})
        for user in landlord.demo_users:
            if user not in demo:
                demo[user] = secrets.token_urlsafe(12)
                changed = True
    if changed:
        write_private(path, json.dumps(doc, indent=2))
    return doc


def bind_all(
    topology: Topology, landlords: dict[str, Landlord]
) -> dict[tuple[str, str], socket.socket]:
    """A listening socket for every part of every landlord; each landlord learns its URLs."""
    host = topology.exchange.host
    sockets: dict[tuple[str, str], socket.socket] = {}
    try:
        for landlord in landlords.values():
            for part in landlord.config.parts:
                sock = serving.bind(host, topology.port(landlord.index, part))
                sockets[(landlord.name, part)] = sock
                landlord.base_urls[part] = f"http://{host}:{sock.getsockname()[1]}"
    except BaseException:
        for sock in sockets.values():
            sock.close()
        raise
    for landlord in landlords.values():
        landlord.peers = {name: other.base_urls for name, other in landlords.items()}
    return sockets


def topology_urls(topology: Topology, landlord: Landlord) -> None:
    """Each part's URL, and every landlord's, from the topology's host and ports (when parts
    run apart)."""
    host = topology.exchange.host
    for part in landlord.config.parts:
        landlord.base_urls[part] = f"http://{host}:{topology.port(landlord.index, part)}"
    landlord.peers = {
        other.name: {p: f"http://{host}:{topology.port(i, p)}" for p in other.parts}
        for i, other in enumerate(topology.landlords)
    }
    landlord.peers[landlord.name] = landlord.base_urls


async def wait_ready(urls: list[str], timeout: float = 60.0) -> None:
    """Until every base URL answers its health check (RuntimeError past ``timeout``)."""
    async with outbound.async_client(timeout=2.0) as client:
        await asyncio.gather(*(_until_healthy(client, url + "/healthz", timeout) for url in urls))


async def wire(landlords: dict[str, Landlord]) -> dict[tuple[str, str], dict[str, str]]:
    """Demo users and the trust between landlords that the topology declares.

    Returns the OIDC client each identity provider registered for each landlord trusting it,
    by (idp, sp): client_id and client_secret (for clouds.yaml).
    """
    oidc_clients: dict[tuple[str, str], dict[str, str]] = {}
    async with outbound.async_client(timeout=30.0) as client:
        admins = {
            name: federate.Admin(client, landlord.identity_url, landlord.admin_password)
            for name, landlord in landlords.items()
        }
        await asyncio.gather(*(admin.login() for admin in admins.values()))

        async def wire_one(name: str, landlord: Landlord) -> None:
            for user, password in landlord.demo_passwords.items():
                await federate.demo_user(admins[name], user, password)
            for idp in landlord.config.trusts:
                await federate.trust(
                    admins[name], name, admins[idp], idp,
                    exchange="exchange" in landlord.config.parts,
                    idp_exchange="exchange" in landlords[idp].config.parts,
                )  # fmt: skip
                oidc_clients[(idp, name)] = await federate.oidc_client(admins[idp], name)
                if "dashboard" in landlord.config.parts:
                    await federate.websso_client(admins[idp], admins[name], name)

        # Each landlord's wiring touches only its own resources and, at each identity provider
        # it trusts, the records named after it: the landlords are wired side by side (one
        # after another, wiring was a third of `ocx up`'s start with six landlords).
        await asyncio.gather(*(wire_one(name, ll) for name, ll in landlords.items()))
    return oidc_clients


async def _until_healthy(client: httpx.AsyncClient, url: str, timeout: float) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            if (await client.get(url)).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if asyncio.get_running_loop().time() > deadline:
            raise RuntimeError(f"{url} did not answer within {timeout:.0f}s")
        await asyncio.sleep(0.05)


def write_private(path: Path, text: str) -> None:
    """Write ``text`` atomically, readable only by its owner."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


class BackgroundExchange:
    """An :class:`Exchange` on its own event loop in a thread: for tests and benchmarks."""

    def __init__(self, topology: Topology, data_dir: Path, database_url: str | None = None):
        self.exchange = Exchange(topology, data_dir, database_url)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, daemon=True, name="ocx-exchange"
        )

    def __enter__(self) -> Exchange:
        self._thread.start()
        self.call(self.exchange.start())
        return self.exchange

    def __exit__(self, *exc: object) -> None:
        try:
            self.call(self.exchange.stop())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
            self._loop.close()

    def call(self, coro: Any, timeout: float = 60.0) -> Any:
        """Run ``coro`` on the exchange's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)
