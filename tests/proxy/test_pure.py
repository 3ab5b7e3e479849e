"""Names, placement policies, header filtering and the caches, without a network."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from ocx.common import errors
from ocx.proxy import headers as h
from ocx.proxy import names, placement
from ocx.proxy.cache import Flights, TtlCache
from ocx.proxy.placement import Option, Policy


def test_qualified_names_need_a_known_landlord() -> None:
    known = {"mit", "stor"}
    assert names.parse("photos@mit", known) == names.Name("photos", "mit")
    assert names.parse("photos@nowhere", known) == names.Name("photos@nowhere")
    assert names.parse("@mit", known) == names.Name("@mit")
    assert names.parse("a@b@stor", known) == names.Name("a@b", "stor")


def test_segment_containers_follow_their_manifests() -> None:
    assert names.segments_of("photos_segments") == "photos"
    assert names.segments_of("photos+segments") == "photos"
    assert names.segments_of("_segments") is None
    assert names.segments_of("photos") is None


OPTIONS = [
    Option("harvard", 0, home=True, quota_bytes=1000, used_bytes=900, price=Decimal("3")),
    Option("mit", 1, quota_bytes=5000, used_bytes=100),
    Option("stor", 2, used_bytes=10, price=Decimal("1")),
]


@pytest.mark.parametrize(
    ("policy", "landlord", "reason"),
    [
        (Policy.HOME, "harvard", "home"),
        (Policy.FIRST, "harvard", "first"),
        (Policy.MOST_FREE, "stor", "most-free"),  # no quota: unlimited
        (Policy.CHEAPEST, "stor", "cheapest"),
    ],
)
def test_policies_choose(policy: Policy, landlord: str, reason: str) -> None:
    assert placement.choose(policy, OPTIONS) == placement.Choice(landlord, reason)


def test_most_free_compares_quota_left_then_usage() -> None:
    quoted = [Option("a", 0, quota_bytes=100, used_bytes=90), Option("b", 1, quota_bytes=50)]
    assert placement.choose(Policy.MOST_FREE, quoted) == placement.Choice("b", "most-free")


def test_cheapest_without_prices_places_first_and_says_so() -> None:
    unpriced = [Option("mit", 2), Option("stor", 1)]
    choice = placement.choose(Policy.CHEAPEST, unpriced)
    assert choice == placement.Choice("stor", "cheapest (no prices known: first)")


def test_home_policy_without_home_has_no_choice() -> None:
    assert placement.choose(Policy.HOME, [Option("mit", 1)]) is None
    assert placement.choose(Policy.FIRST, []) is None


def test_options_read_account_headers() -> None:
    headers = {"x-account-meta-quota-bytes": "500", "x-account-bytes-used": "20"}
    found = placement.option("mit", 1, False, headers, None)
    assert (found.quota_bytes, found.used_bytes, found.free_bytes) == (500, 20, 480)


def test_unknown_policy_is_a_bad_request() -> None:
    assert placement.parse_policy(" Most-Free ") is Policy.MOST_FREE
    with pytest.raises(errors.BadRequest, match="Unknown placement policy 'nearest'"):
        placement.parse_policy("nearest")


def test_outgoing_headers_carry_this_hops_token_only() -> None:
    sent = h.outgoing(
        [
            ("X-Auth-Token", "home-token"),
            ("X-Storage-Token", "home-token"),
            ("Host", "proxy"),
            ("Connection", "keep-alive"),
            ("X-OCX-Landlord", "mit"),
            ("X-Object-Meta-Color", "blue"),
            ("Range", "bytes=0-9"),
        ],
        "remote-token",
        ["a-proxy", "harvard-proxy"],
    )
    assert sent == [
        ("X-Object-Meta-Color", "blue"),
        ("Range", "bytes=0-9"),
        ("x-auth-token", "remote-token"),
        ("x-ocx-proxy-hops", "a-proxy, harvard-proxy"),
    ]


def test_incoming_headers_drop_hop_by_hop_and_keep_the_landlords_request_id() -> None:
    got = h.incoming(
        [
            ("Content-Length", "5"),
            ("Transfer-Encoding", "chunked"),
            ("X-Openstack-Request-Id", "req-1"),
            ("ETag", "abc"),
        ]
    )
    assert got == [("content-length", "5"), (h.UPSTREAM_REQUEST_ID, "req-1"), ("etag", "abc")]


def test_ttl_cache_expires_and_evicts_the_least_recent() -> None:
    now = [100.0]
    cache: TtlCache[str, int] = TtlCache(2, clock=lambda: now[0])
    cache.put("a", 1, 110)
    cache.put("b", 2, 105)
    assert cache.get("a") == 1
    cache.put("c", 3, 200)  # "b" was used least recently
    assert cache.get("b") is None and len(cache) == 2
    now[0] = 111
    assert cache.get("a") is None
    assert cache.pop_where(lambda k: k == "c") == [3]


async def test_flights_share_one_fetch() -> None:
    flights: Flights[str, int] = Flights()
    calls = 0

    async def fetch() -> int:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)
        return 42

    results = await asyncio.gather(*(flights.run("k", fetch) for _ in range(5)))
    assert results == [42] * 5 and calls == 1
    assert await flights.run("k", fetch) == 42 and calls == 2
