"""Start a whole exchange from a topology in one process, and stop it cleanly.

Sockets are bound first, so every part knows every URL (ports may be ephemeral) before any
part starts; parts then migrate and bootstrap; only then do the HTTP servers serve, and
:meth:`Exchange.start` returns once every endpoint answers its health check.
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
from ocx.common import serving
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
        self.data_dir.mkdir(parents=True, exist_ok=True)
        secrets_doc = self._secrets()
        sockets = self._bind_all(secrets_doc)
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
            await self._wait_ready()
            await self._wire()
        except BaseException:
            await self.stop()
            raise

    def _secrets(self) -> dict[str, Any]:
        """Each landlord's admin password, made on first start and kept (mode 0600)."""
        path = self.data_dir / "secrets.json"
        doc: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
        changed = False
        for landlord in self.topology.landlords:
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

    def _bind_all(self, secrets_doc: dict[str, Any]) -> dict[tuple[str, str], socket.socket]:
        host = self.topology.exchange.host
        sockets: dict[tuple[str, str], socket.socket] = {}
        for index, config in enumerate(self.topology.landlords):
            landlord = Landlord(
                config=config,
                index=index,
                topology=self.topology,
                data_dir=self.data_dir / config.name,
                database_url=self.database_url,
                admin_password=secrets_doc[config.name]["admin_password"],
                demo_passwords={
                    u: secrets_doc[config.name]["demo_passwords"][u] for u in config.demo_users
                },
            )
            landlord.data_dir.mkdir(parents=True, exist_ok=True)
            for part in config.parts:
                sock = serving.bind(host, self.topology.port(index, part))
                sockets[(config.name, part)] = sock
                landlord.base_urls[part] = f"http://{host}:{sock.getsockname()[1]}"
            self.landlords[config.name] = landlord
        return sockets

    def _server(self, app: ASGIApp) -> serving.Server:
        return serving.server(app, self.topology.exchange.serving)

    async def _wait_ready(self, timeout: float = 30.0) -> None:
        async with httpx.AsyncClient(timeout=2.0) as client:
            for run in self.running:
                await _until_healthy(client, run.url + "/healthz", timeout)
        log.info(
            "exchange ready: %s", ", ".join(f"{r.landlord}/{r.part} {r.url}" for r in self.running)
        )

    async def _wire(self) -> None:
        """Demo users and the trust between landlords that the topology declares."""
        async with httpx.AsyncClient(timeout=30.0) as client:
            admins: dict[str, federate.Admin] = {}
            for name, landlord in self.landlords.items():
                admins[name] = federate.Admin(
                    client, landlord.identity_url, landlord.admin_password
                )
                await admins[name].login()
            for name, landlord in self.landlords.items():
                for user, password in landlord.demo_passwords.items():
                    await federate.demo_user(admins[name], user, password)
                for idp in landlord.config.trusts:
                    await federate.trust(admins[name], name, admins[idp], idp)
                    self.oidc_clients[(idp, name)] = await federate.oidc_client(admins[idp], name)

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
