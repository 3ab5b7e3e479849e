"""What a stranger or a bad entry can hold through the proxy, and for how long (issue #17):
abandoned and stalled uploads, silent landlords, names landlords refuse, bad service
providers."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

import pytest
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3
from swiftclient import client as swift

from ocx.identity.federation.models import ServiceProvider
from ocx.object.service import ObjectService
from ocx.proxy import landlords, locate
from tests.conftest import cloud_auth
from tests.proxy.conftest import Mixed, placed
from tests.proxy.test_failures import spread, status_of


def until(condition: Callable[[], bool], what: str, limit: float = 60.0) -> None:
    """Wait for a condition the server reports (the deadline only guards a broken server)."""
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, f"never saw {what}"
        time.sleep(0.02)


def object_service(mixed: Mixed, landlord: str) -> ObjectService:
    return mixed.running(landlord, "object").service.service  # type: ignore[attr-defined, no-any-return]


def send_head(url: str, token: str, path: str, extra: str) -> socket.socket:
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port))
    sock.settimeout(60)
    head = f"PUT {parts.path}{path} HTTP/1.1\r\nHost: x\r\nX-Auth-Token: {token}\r\n{extra}\r\n"
    sock.sendall(head.encode())
    return sock


def answer_of(sock: socket.socket) -> bytes:
    got = b""
    while b"\r\n\r\n" not in got and (chunk := sock.recv(65536)):
        got += chunk
    return got


def test_a_bad_chunk_releases_the_landlords_upload(mixed: Mixed, alice: swift.Connection) -> None:
    placed(alice, "h", "harvard")
    url, token = alice.get_auth()
    store = object_service(mixed, "harvard").storage
    pool = mixed.proxy.data
    ended = store.ended
    with send_head(url, token, "/h/broken", "Transfer-Encoding: chunked\r\n") as sock:
        sock.sendall(b"5\r\nhello\r\n")
        until(lambda: store.in_progress != set(), "the upload begin at the landlord")
        sock.sendall(b"zz\r\nnot a chunk\r\n")
        assert answer_of(sock).startswith(b"HTTP/1.1 400 ")
    until(lambda: store.ended > ended, "the landlord's upload end")
    until(lambda: pool.busy == 0, "the proxy's upstream connection released")
    assert store.in_progress == set()
    assert list((store.tmp).iterdir()) == []
    assert status_of(alice.head_object, "h", "broken")[0] == 404


def test_a_client_gone_quiet_mid_upload_gets_408(mixed: Mixed, alice: swift.Connection) -> None:
    placed(alice, "h", "harvard")
    mixed.quick(fanout=5.0, read=0.5)
    url, token = alice.get_auth()
    store = object_service(mixed, "harvard").storage
    ended = store.ended
    with send_head(url, token, "/h/stalled", "Content-Length: 1000\r\n") as sock:
        sock.sendall(b"x" * 10)
        answer = answer_of(sock)
    assert answer.startswith(b"HTTP/1.1 408 ")
    until(lambda: store.ended > ended, "the landlord's upload end")
    until(lambda: mixed.proxy.data.busy == 0, "the proxy's upstream connection released")
    assert list(store.tmp.iterdir()) == []


def test_a_silent_landlord_costs_any_request_the_same_deadline(
    mixed: Mixed, alice: swift.Connection
) -> None:
    spread(alice)
    mixed.quick(fanout=1.0, read=30.0, answer=1.0)  # mid-body silence may last; answers not
    mixed.replace("mit", None)  # accepts, never answers
    for call in (alice.head_container, alice.get_container):
        started = time.monotonic()
        status, text = status_of(call, "m")
        assert time.monotonic() - started < 10
        assert status == 503
        assert "timed out" in text or call == alice.head_container  # HEAD: no body
    started = time.monotonic()
    headers, _ = alice.get_account()
    assert time.monotonic() - started < 10
    assert headers["x-ocx-missing-landlords"] == "mit (timed out after 1s)"


@pytest.mark.parametrize("path", ["/%00", "/bad%FFname", "/ok/%00"])
def test_names_landlords_refuse_are_refused_not_unavailable(
    mixed: Mixed, alice: swift.Connection, path: str
) -> None:
    url, token = alice.get_auth()
    with send_head(url, token, path, "Content-Length: 0\r\n") as sock:
        answer = answer_of(sock)
    assert answer.startswith(b"HTTP/1.1 412 "), answer


def test_a_name_too_long_for_the_landlords_is_their_400(
    mixed: Mixed, alice: swift.Connection
) -> None:
    status, text = status_of(alice.put_container, "n" * 300)
    assert status == 400
    assert "Container name length of 300 longer than 256" in text


# Registered at the home identity as an older identity accepted them (it now refuses such a
# registration with 400, so they are written into its database): the identity lists them in
# new tokens and makes SAML assertions for them, so nothing before the proxy stops them.
REGISTERED_BAD = [
    ("s1", "not a url", "not a url"),
    ("s2", "ftp://x.invalid/v3", "http://x.invalid/"),
    ("s3", "http://:99999/v3", "http://x.invalid/"),
]
# Shapes no database row can have, put into the token body the proxy reads.
MALFORMED: list[Any] = [
    {"id": "", "auth_url": "http://x.invalid/v3", "sp_url": "http://x.invalid/"},
    {"auth_url": "http://x.invalid/v3"},
    "s5",
]


async def _register_unchecked(identity: Any) -> None:
    async with identity.db.session() as session:
        for sp_id, auth_url, sp_url in REGISTERED_BAD:
            session.add(ServiceProvider(id=sp_id, auth_url=auth_url, sp_url=sp_url))
    identity._memo.clear()  # the provider list is remembered for a while


def test_bad_service_providers_fail_nobody(
    mixed: Mixed, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """#17 R3: a provider entry that cannot work is left out of every customer's account
    (with a warning) and fails none of their requests. Without that protection the entries
    reach federation (the home identity asserts for them) and new containers are 503."""
    identity = mixed.running("harvard", "identity").service.service  # type: ignore[attr-defined]
    mixed.exchange.background.call(_register_unchecked(identity))  # type: ignore[attr-defined]
    real = landlords.TokenLandlords._validate
    read: list[list[Any]] = []

    async def with_malformed(self: landlords.TokenLandlords, token: str) -> dict[str, Any]:
        found = await real(self, token)
        found["service_providers"] = [*found.get("service_providers", []), *MALFORMED]
        read.append(found["service_providers"])
        return found

    monkeypatch.setattr(landlords.TokenLandlords, "_validate", with_malformed)
    caplog.set_level(logging.WARNING, logger="ocx.proxy")
    alice = mixed.conn()  # a new token, listing the registered bad providers
    _, token = alice.get_auth()
    sess = mixed.session()
    ecp = sess.post(
        mixed.exchange.landlords["harvard"].auth_url + "/auth/OS-FEDERATION/saml2/ecp",
        json={
            "auth": {
                "identity": {"methods": ["token"], "token": {"id": token}},
                "scope": {"service_provider": {"id": "s1"}},
            }
        },
        raise_exc=False,
    )
    assert ecp.status_code == 200  # the home identity would federate with s1

    placed(alice, "fresh")  # a new bare name is placed: every landlord that exists answered
    headers, _ = alice.get_account()
    assert "x-ocx-missing-landlords" not in headers
    assert headers["x-ocx-landlords"] == "harvard, mit, stor"
    alice.put_object("fresh", "o", b"fine")
    assert alice.get_object("fresh", "o")[1] == b"fine"
    # The path under test ran: the proxy read every bad entry and refused each one.
    listed = {sp.get("id") if isinstance(sp, dict) else sp for sp in read[-1]}
    assert {"s1", "s2", "s3", "", None, "s5"} <= listed
    warned = {r.getMessage() for r in caplog.records if "cannot be used" in r.getMessage()}
    for sp_id in ("s1", "s2", "s3", "", "None", "s5"):
        assert f"service provider {sp_id!r} cannot be used; leaving it out" in warned, sp_id


def test_a_silent_service_provider_fails_no_placement(mixed: Mixed) -> None:
    """#17 R3: a well-formed provider that accepts and never answers was a 503 on every new
    bare-name container; never reached for this customer, it can hold nothing of theirs."""
    quiet = socket.socket()
    quiet.bind(("127.0.0.1", 0))
    quiet.listen(16)
    base = f"http://127.0.0.1:{quiet.getsockname()[1]}"
    admin = ks_session.Session(auth=v3.Password(**cloud_auth(mixed.exchange, "harvard")))
    provider = {"service_provider": {"auth_url": base + "/v3", "sp_url": base + "/ecp"}}
    url = mixed.exchange.landlords["harvard"].auth_url + "/OS-FEDERATION/service_providers/quiet"
    assert admin.put(url, json=provider, raise_exc=False).status_code == 201
    alice = mixed.conn()  # a new token: its service providers include the silent one
    try:
        started = time.monotonic()
        headers = placed(alice, "fresh")
        assert time.monotonic() - started < 15  # one fan-out deadline, not a read timeout
        assert headers.get("x-ocx-missing-landlords", "").startswith("quiet ("), headers
        alice.put_object("fresh", "o", b"fine")
        assert alice.get_object("fresh", "o")[1] == b"fine"
        # A landlord this customer has reached still makes a new bare name wait for it.
        spread(alice)
        mixed.quick(fanout=5.0, read=5.0)
        mixed.replace("mit", None)
        status, text = status_of(alice.put_container, "newer")
        assert status == 503 and "mit (timed out after 5s)" in text
        assert "quiet" not in text
    finally:
        quiet.close()


def test_a_landlord_reached_with_an_earlier_token_still_decides(mixed: Mixed) -> None:
    """The swift CLI signs in anew for each command. A container made at mit with one token,
    then a bare-name PUT of it with a new token whose federation to mit fails: 503, not a
    second container placed at harvard (a full run at load 17 listed films@harvard and
    films@mit after `swift upload films`)."""
    first = mixed.conn()
    placed(first, "films", "mit")
    translator = mixed.proxy.translator
    patient = translator.settings
    translator.settings = patient.model_copy(update={"federation_timeout": 0.001})
    try:
        status, text = status_of(mixed.conn().put_container, "films")
    finally:
        translator.settings = patient
    assert status == 503 and "mit (federation timed out" in text, text
    assert [c["name"] for c in mixed.direct("harvard").get_account()[1]] == []
    assert [c["name"] for c in mixed.direct("mit").get_account()[1]] == ["films"]


def slow_404(client: socket.socket) -> None:
    """A landlord that is busy, not gone: it answers, after two seconds."""
    time.sleep(2.0)
    client.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")


def test_a_slow_landlord_the_customer_reached_is_waited_for(
    mixed: Mixed, alice: swift.Connection
) -> None:
    """#17: under load (300 clients) a busy landlord missed the fan-out deadline while the
    proxy looked for or placed a container, and the request was 503 "cannot tell". A landlord
    the customer has reached now has answer_timeout to answer such a look, as it would have
    to answer the request itself; past that it is still 503."""
    spread(alice)  # mit is reached: it may hold any name
    mixed.quick(fanout=1.0, read=30.0, answer=6.0)
    mixed.replace("mit", slow_404)
    started = time.monotonic()
    headers = placed(alice, "fresh")  # a new bare name: mit's answer decides it
    assert time.monotonic() - started >= 2.0  # mit was waited for, not passed over
    assert headers["x-ocx-landlord"] == "harvard"
    assert "x-ocx-missing-landlords" not in headers
    status, _ = status_of(alice.head_container, "nowhere")  # found nowhere: 404, not 503
    assert status == 404
    # A listing, which can answer without mit, still gives it the fan-out deadline only.
    # (On a loaded machine another landlord may miss the 1 s deadline too: mit must be named.)
    listed, _ = alice.get_account()
    assert "mit (timed out after 1s)" in listed["x-ocx-missing-landlords"].split(", ")
    mixed.quick(fanout=1.0, read=30.0, answer=1.5)  # slower than the request's own deadline
    status, text = status_of(alice.put_container, "newer")
    assert status == 503 and "mit (timed out after 1.5s)" in text


def test_concurrent_requests_share_one_look_for_a_container(
    mixed: Mixed, alice: swift.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """300 clients starting at once on one container asked every landlord 300 times."""
    spread(alice)
    mixed.proxy.routes._cache.pop_where(lambda key: key[2] == "m")  # not cached: looked for
    asked: list[str] = []
    real = locate._status

    async def counted(session: Any, backend: Any, bare: str) -> Any:
        asked.append(backend.landlord)
        await asyncio.sleep(0.5)  # the look takes a while: the others arrive meanwhile
        return await real(session, backend, bare)

    monkeypatch.setattr(locate, "_status", counted)
    url, token = alice.get_auth()
    with ThreadPoolExecutor(20) as pool:
        got = list(pool.map(lambda _: swift.get_object(url, token, "m", "o")[1], range(20)))
    assert got == [b"in m"] * 20
    assert sorted(asked) == ["harvard", "mit", "stor"]  # one look, every landlord once


def test_usable_urls() -> None:
    assert landlords.usable_url("http://mit.example:5000/v3")
    assert landlords.usable_url("https://x/")
    for bad in ("not a url", "ftp://x/", "http://", "http://x:99999/", "http://x y/", 5, None):
        assert not landlords.usable_url(bad), bad
