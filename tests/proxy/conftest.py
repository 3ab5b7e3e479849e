"""A mixed exchange for proxy tests: harvard (identity, object storage and the proxy; users
alice and bob) fronts its own object store and those of mit and stor, which admit harvard's
users through K2K. Connections for a customer through the proxy (region ``ocx``) and directly
at each landlord, and ways to break a landlord's object store."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3
from swiftclient import client as swift

from ocx.proxy.service import ProxyService
from ocx.runner import Exchange, Running
from tests.conftest import ExchangeFactory

MIXED: dict[str, Any] = {
    "harvard": {
        "parts": ["identity", "object", "proxy"],
        "demo_users": ["alice", "bob"],
        "trusts": ["mit"],
    },
    "mit": {"parts": ["identity", "object"], "demo_users": ["carol"], "trusts": ["harvard"]},
    "stor": {"parts": ["identity", "object"], "trusts": ["harvard", "mit"]},
}
OCX = "ocx"


def home_auth(exchange: Exchange, user: str, landlord: str = "harvard") -> v3.Password:
    home = exchange.landlords[landlord]
    return v3.Password(
        auth_url=home.auth_url,
        username=user,
        password=home.demo_passwords[user],
        user_domain_id="default",
        project_name=f"{user}-project",
        project_domain_id="default",
    )


@dataclass
class Mixed:
    exchange: Exchange
    _broken: list[socket.socket] = field(default_factory=list)

    def running(self, landlord: str, part: str) -> Running:
        return next(r for r in self.exchange.running if (r.landlord, r.part) == (landlord, part))

    @property
    def proxy(self) -> ProxyService:
        service: ProxyService = self.running("harvard", "proxy").service.service  # type: ignore[attr-defined]
        return service

    @property
    def proxy_url(self) -> str:
        return self.exchange.landlords["harvard"].base_urls["proxy"]

    def os_options(self, user: str, region: str = OCX) -> dict[str, str]:
        return {
            "project_name": f"{user}-project",
            "project_domain_id": "default",
            "user_domain_id": "default",
            "region_name": region,
        }

    def conn(self, user: str = "alice", region: str = OCX, **kwargs: Any) -> swift.Connection:
        """python-swiftclient as ``user``, through the proxy (or at harvard with RegionOne)."""
        home = self.exchange.landlords["harvard"]
        return swift.Connection(
            authurl=home.auth_url,
            user=user,
            key=home.demo_passwords[user],
            auth_version="3",
            os_options=self.os_options(user, region),
            retries=0,
            **kwargs,
        )

    def session(self, user: str = "alice", landlord: str = "harvard") -> ks_session.Session:
        """The user's own keystoneauth session at a landlord (K2K away from home)."""
        auth = home_auth(self.exchange, user)
        if landlord != "harvard":
            auth = v3.Keystone2Keystone(
                auth,
                landlord,
                project_name=f"harvard-{user}",
                project_domain_name="harvard-federated",
            )
        return ks_session.Session(auth=auth)

    def direct(self, landlord: str, user: str = "alice") -> swift.Connection:
        """python-swiftclient straight at the landlord's own object store, bypassing the proxy."""
        sess = self.session(user, landlord)
        url = sess.get_endpoint(
            service_type="object-store", interface="public", region_name="RegionOne"
        )
        return swift.Connection(preauthurl=url, preauthtoken=sess.get_token(), retries=0)

    def token(self, user: str = "alice") -> tuple[str, str]:
        """(proxy storage URL, home token)."""
        url, token = self.conn(user).get_auth()
        return str(url), str(token)

    def stop(self, landlord: str, part: str = "object") -> int:
        """Stop a landlord's part at once, dropping its open connections; its port."""
        run = self.running(landlord, part)
        port = int(run.url.rsplit(":", 1)[1])
        background = self.exchange.background  # type: ignore[attr-defined]
        background.call(_stop(run))
        return port

    def replace(self, landlord: str, behaviour: Callable[[socket.socket], None] | None) -> None:
        """Stop the landlord's object store and listen on its port instead: accept nothing
        (``None``: connections hang), or run ``behaviour`` for each connection."""
        port = self.stop(landlord)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        sock.listen(64)
        self._broken.append(sock)
        if behaviour is not None:
            threading.Thread(target=_serve, args=(sock, behaviour), daemon=True).start()

    def quick(self, fanout: float = 1.0, read: float = 2.0, answer: float | None = None) -> None:
        """Shorter deadlines for tests where a landlord hangs."""
        svc = self.proxy
        answer = fanout if answer is None else answer
        svc.settings = svc.settings.model_copy(
            update={"fanout_timeout": fanout, "read_timeout": read, "answer_timeout": answer}
        )
        svc.data.read_timeout = svc.data.connect_timeout = read
        svc.data.answer_timeout = answer

    def close(self) -> None:
        for sock in self._broken:
            sock.close()


async def _stop(run: Running) -> None:
    run.server.should_exit = True
    for server in run.server.servers:  # through asyncio, which unregisters the socket first
        server.close()
    for connection in list(run.server.server_state.connections):
        transport = getattr(connection, "transport", None)
        if transport is not None:
            transport.abort()


def _serve(sock: socket.socket, behaviour: Callable[[socket.socket], None]) -> None:
    while True:
        try:
            client, _ = sock.accept()
        except OSError:
            return
        threading.Thread(target=_answer, args=(client, behaviour), daemon=True).start()


def _answer(client: socket.socket, behaviour: Callable[[socket.socket], None]) -> None:
    with client:
        try:
            client.recv(65536)
            behaviour(client)
        except OSError:
            pass


@pytest.fixture(autouse=True)
def no_server_errors(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Whatever a test breaks, the proxy never answers 500."""
    caplog.set_level(logging.INFO, logger="ocx.access")
    yield
    statuses = [
        getattr(r, "fields", {}).get("status")
        for r in caplog.records
        if r.name == "ocx.access"
        and getattr(r, "fields", {}).get("service", "").startswith("proxy:")
    ]
    assert 500 not in statuses


@pytest.fixture
def mixed(exchange_factory: ExchangeFactory) -> Iterator[Mixed]:
    found = Mixed(exchange_factory(MIXED))
    # Patient deadlines: a landlord that is only slow (a busy CI machine) must not look
    # missing; the tests about deadlines set short ones with quick().
    found.quick(fanout=30.0, read=60.0, answer=30.0)
    found.proxy.data.connect_timeout = 10.0
    translator = found.proxy.translator
    translator.settings = translator.settings.model_copy(update={"federation_timeout": 30.0})
    yield found
    found.close()


@pytest.fixture
def alice(mixed: Mixed) -> Iterator[swift.Connection]:
    conn = mixed.conn("alice")
    yield conn
    conn.close()


def placed(
    conn: swift.Connection, container: str, landlord: str | None = None, **headers: str
) -> dict[str, Any]:
    """PUT a container (at ``landlord`` if given); the response headers."""
    sent = dict(headers)
    if landlord is not None:
        sent["X-OCX-Landlord"] = landlord
    answer: dict[str, Any] = {}
    conn.put_container(container, headers=sent, response_dict=answer)
    return dict(answer["headers"])


def pytest_configure(config: pytest.Config) -> None:
    for module in ("keystoneclient", "swiftclient"):
        config.addinivalue_line("filterwarnings", f"ignore::DeprecationWarning:{module}.*")
