"""Swift v1, fuzzed: the object service and the proxy of a live landlord.

Requests are built around a real account (alice's, with her token most of the time) so the
generator reaches the handlers, not only the router: paths name her containers and objects
or random text, query strings carry Swift's parameters with random values, headers Swift's
headers with random values, bodies random bytes, JSON (deeply nested too) or manifests whose
entries have random types. Rule: no 5xx, and the process still answers.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import ExchangeFactory
from tests.fuzz.helpers import (
    Request,
    Target,
    bodies,
    budget,
    dumps,
    encode_path,
    headers_of,
    json_values,
    nasty_text,
    query_of,
)
from tests.object.conftest import Landlord

pytestmark = pytest.mark.fuzz

QUERY_KEYS = [
    "format",
    "prefix",
    "delimiter",
    "marker",
    "end_marker",
    "limit",
    "reverse",
    "multipart-manifest",
    "bulk-delete",
    "temp_url_sig",
    "temp_url_expires",
    "temp_url_prefix",
    "filename",
    "inline",
    "heartbeat",
]
HEADERS = [
    "X-Container-Read",
    "X-Container-Write",
    "X-Object-Manifest",
    "X-Copy-From",
    "X-Copy-From-Account",
    "Destination",
    "Destination-Account",
    "Range",
    "If-Match",
    "If-None-Match",
    "If-Modified-Since",
    "If-Unmodified-Since",
    "X-Delete-At",
    "X-Delete-After",
    "Content-Type",
    "ETag",
    "X-Object-Meta-Color",
    "X-Container-Meta-Quota-Bytes",
    "X-Container-Meta-Quota-Count",
    "X-Account-Meta-Temp-URL-Key",
    "X-Container-Meta-Temp-URL-Key",
    "X-Remove-Container-Meta-Color",
    "X-Detect-Content-Type",
    "X-Fresh-Metadata",
    "X-Static-Large-Object",
    "Accept",
    "Referer",
    "Transfer-Encoding",
    "X-OCX-Landlord",
    "X-OCX-Placement",
    "X-OCX-Proxy-Hops",
]
METHODS = ["GET", "HEAD", "PUT", "POST", "DELETE", "COPY", "OPTIONS", "PATCH"]
CONTAINERS = ["box", "segs", "nope"]
OBJECTS = ["obj", "seg/1", "seg/2", "missing", "dir/"]


@dataclass
class Swift:
    target: Target
    account: str
    token: str


def manifests() -> st.SearchStrategy[bytes]:
    path = st.one_of(
        st.sampled_from([f"/{c}/{o}" for c in CONTAINERS for o in OBJECTS]), nasty_text
    )
    entry = st.fixed_dictionaries(
        {"path": st.one_of(path, json_values())},
        optional={
            "etag": json_values(),
            "size_bytes": json_values(),
            "range": st.one_of(st.sampled_from(["0-0", "1-", "-1", "5-1"]), json_values()),
        },
    )
    return st.lists(entry, max_size=4).map(dumps)


def swift_requests(account: str) -> st.SearchStrategy[tuple[Request, bool]]:
    container = st.one_of(st.sampled_from(CONTAINERS), nasty_text)
    obj = st.one_of(st.sampled_from(OBJECTS), nasty_text)
    path = st.one_of(
        st.just(f"/v1/{account}"),
        container.map(lambda c: f"/v1/{account}/{encode_path(c)}"),
        st.tuples(container, obj).map(
            lambda co: f"/v1/{account}/{encode_path(co[0])}/{encode_path(co[1])}"
        ),
        nasty_text.map(lambda a: f"/v1/{encode_path(a)}"),
        st.just("/info"),
    )
    return st.builds(
        lambda method, p, q, h, b, authed: (Request(method, p + q, h, b), authed),
        st.sampled_from(METHODS),
        path,
        query_of(QUERY_KEYS),
        headers_of(HEADERS),
        st.one_of(bodies, manifests()),
        st.booleans() | st.just(True),
    )


def seed(base: str, token: str) -> None:
    """Something to find: containers, plain objects and a manifest's segments."""
    headers = {"X-Auth-Token": token}
    for container in ("box", "segs"):
        requests.put(f"{base}/{container}", headers=headers, timeout=30)
    for name, data in (("box/obj", b"hello"), ("segs/seg/1", b"a" * 10), ("segs/seg/2", b"b")):
        requests.put(f"{base}/{name}", headers=headers, data=data, timeout=30)


@pytest.fixture
def swift_landlord(exchange_factory: ExchangeFactory) -> Iterator[tuple[Landlord, str, str]]:
    exchange = exchange_factory(
        {"harvard": {"parts": ["identity", "object", "proxy"], "demo_users": ["alice"]}}
    )
    landlord = Landlord(exchange)
    alice = landlord.customer("fuzzer")
    url, token = alice.token()
    seed(url, token)
    yield landlord, "AUTH_" + alice.project_id, token


def fuzz(target: Swift, long: bool) -> None:
    @budget(long)
    @given(swift_requests(target.account))
    def one(case: tuple[Request, bool]) -> None:
        req, authed = case
        if authed:
            req.headers.append(("X-Auth-Token", target.token))
        target.target.check(req)

    one()
    target.target.still_answers()


def targets(found: tuple[Landlord, str, str]) -> list[Swift]:
    landlord, account, token = found
    urls = landlord.exchange.landlords["harvard"].base_urls
    return [Swift(Target(urls[part], "/info"), account, token) for part in ("object", "proxy")]


def test_swift_fuzz(swift_landlord: tuple[Landlord, str, str]) -> None:
    for target in targets(swift_landlord):
        fuzz(target, long=False)
        assert target.target.sent >= 100


@pytest.mark.slow
def test_swift_fuzz_long(swift_landlord: tuple[Landlord, str, str]) -> None:
    for target in targets(swift_landlord):
        fuzz(target, long=True)
