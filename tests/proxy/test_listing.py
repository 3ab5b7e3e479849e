"""The combined account listing, without a network: what each landlord is asked, and the merge."""

from __future__ import annotations

from typing import Any

import pytest

from ocx.proxy import listing
from ocx.proxy.listing import Cut, Page, Row
from ocx.swift.listing import Query

RANKS = {"harvard": 0, "mit": 1, "stor": 2}


def entries(*names: str, **fields: Any) -> list[Row]:
    return [{"name": n, "count": 1, "bytes": 10, **fields} for n in names]


def shown(rows: list[Row]) -> list[str]:
    return [r.get("name", r.get("subdir")) for r in rows]


def pages(**by_landlord: list[str]) -> list[Page]:
    return [Page(name, RANKS[name], entries(*found)) for name, found in by_landlord.items()]


def test_pages_interleave_in_name_order_with_their_landlord() -> None:
    merged = listing.merge(pages(harvard=["b", "d"], mit=["a", "e"], stor=["c"]), Query())
    assert shown(merged) == ["a", "b", "c", "d", "e"]
    assert [r["landlord"] for r in merged] == [
        "mit",
        "harvard",
        "stor",
        "harvard",
        "mit",
    ]


def test_a_name_at_two_landlords_is_shown_qualified_in_landlord_order() -> None:
    merged = listing.merge(pages(harvard=["x"], mit=["photos", "z"], stor=["photos"]), Query())
    assert shown(merged) == ["photos@mit", "photos@stor", "x", "z"]


def test_limit_cuts_the_merged_page() -> None:
    merged = listing.merge(pages(harvard=["a", "c"], mit=["b", "d"]), Query(limit=3))
    assert shown(merged) == ["a", "b", "c"]


def test_reverse_orders_names_and_copies_backwards() -> None:
    query = Query(reverse=True)
    merged = listing.merge(pages(harvard=["p", "a"], stor=["p"], mit=["q"]), query)
    assert shown(merged) == ["q", "p@stor", "p@harvard", "a"]


def test_pseudo_folders_from_several_landlords_fold_into_one() -> None:
    found = [
        Page("harvard", 0, [{"subdir": "logs/"}, *entries("x")]),
        Page("mit", 1, [{"subdir": "logs/"}]),
    ]
    merged = listing.merge(found, Query(delimiter="/"))
    assert merged == [
        {"subdir": "logs/"},
        {"name": "x", "count": 1, "bytes": 10, "landlord": "harvard"},
    ]


def test_a_qualified_marker_continues_with_the_other_copies_of_that_name() -> None:
    # Landlords were asked from just before "photos", so every copy came back.
    found = pages(harvard=["photos", "q"], mit=["photos"], stor=["photos", "r"])
    marker = listing.parse_cut("photos@harvard", RANKS)
    merged = listing.merge(found, Query(limit=3), marker)
    assert shown(merged) == ["photos@mit", "photos@stor", "q"]


def test_a_bare_marker_skips_every_copy_of_that_name() -> None:
    found = pages(harvard=["photos", "q"], mit=["photos"])
    merged = listing.merge(found, Query(), Cut("photos"))
    assert shown(merged) == ["q"]


def test_a_qualified_end_marker_stops_before_that_copy() -> None:
    found = pages(harvard=["a", "photos"], mit=["photos"], stor=["photos"])
    end = listing.parse_cut("photos@stor", RANKS)
    assert shown(listing.merge(found, Query(), None, end)) == ["a", "photos@harvard", "photos@mit"]


def test_paging_through_duplicates_visits_everything_once() -> None:
    everything = {"harvard": ["a", "p", "z"], "mit": ["p", "q"], "stor": ["p"]}
    seen: list[str] = []
    marker: Cut | None = None
    while True:
        query = Query(limit=2)
        found = [
            Page(n, RANKS[n], entries(*_answer(names, marker))) for n, names in everything.items()
        ]
        page = listing.merge(found, query, marker)
        if not page:
            break
        seen += shown(page)
        marker = listing.parse_cut(page[-1]["name"], RANKS)
    assert seen == ["a", "p@harvard", "p@mit", "p@stor", "q", "z"]


def _answer(names: list[str], marker: Cut | None) -> list[str]:
    """What a landlord answers to the marker the proxy sends it (Swift's exclusive marker)."""
    if marker is None:
        return names
    sent = listing.upstream_params(Query(limit=2), marker, None)["marker"]
    return [n for n in names if n > sent][:2]


def test_upstream_params_widen_only_qualified_markers() -> None:
    query = Query(prefix="p", delimiter="/", limit=50)
    params = listing.upstream_params(query, Cut("photos"), Cut("zebra", 1))
    assert params == {
        "format": "json",
        "limit": "50",
        "prefix": "p",
        "delimiter": "/",
        "marker": "photos",
        "end_marker": "zebra\x01",
    }
    widened = listing.upstream_params(Query(reverse=True), Cut("photos", 0), None)
    assert widened["marker"] == "photos\x01"
    assert widened["reverse"] == "true"


@pytest.mark.parametrize("name", ["photos", "a", "\u00e9t\u00e9", "x\ue000", "ab\x01"])
def test_before_sorts_just_below_the_name(name: str) -> None:
    below = listing.before(name)
    assert below < name
    assert below.encode("utf-8", "strict") < name.encode()  # valid UTF-8, byte order agrees
    assert not any(below < other < name for other in (name[:-1], name[:-1] + "\x7f"))


def test_a_name_ending_in_at_something_else_is_a_plain_name() -> None:
    assert listing.parse_cut("me@home.org", RANKS) == Cut("me@home.org")
    assert listing.parse_cut("", RANKS) is None


def test_rows_from_json_refuses_what_is_not_a_listing() -> None:
    rows = [{"name": "a", "count": 1}, {"subdir": "d/"}]
    assert listing.rows_from_json(rows) == rows
    for garbage in ({"name": "a"}, [1], [{"nom": "a"}], [{"name": 3}], "text"):
        with pytest.raises(ValueError):
            listing.rows_from_json(garbage)


def test_render_in_the_three_formats() -> None:
    rows = [{"subdir": "d/"}, {"name": "a&b", "count": 1, "landlord": "mit"}]
    assert listing.render(rows, "plain", "account", "AUTH_x") == b"d/\na&b\n"
    assert listing.render(rows, "json", "account", "AUTH_x").startswith(b'[{"subdir": "d/"}')
    xml = listing.render(rows, "xml", "account", "AUTH_x").decode()
    assert "<container><name>a&amp;b</name><count>1</count><landlord>mit</landlord>" in xml


def test_account_headers_sum_counts_and_keep_the_primary_metadata() -> None:
    home = {
        "x-account-container-count": "2",
        "x-account-bytes-used": "100",
        "x-account-meta-color": "blue",
        "x-timestamp": "1.0",
    }
    other = {"x-account-container-count": "3", "x-account-bytes-used": "5", "x-account-meta-x": "y"}
    out = listing.account_headers([home, other])
    assert out["x-account-container-count"] == "5"
    assert out["x-account-bytes-used"] == "105"
    assert out["x-account-object-count"] == "0"
    assert out["x-account-meta-color"] == "blue"
    assert "x-account-meta-x" not in out
    assert out["x-timestamp"] == "1.0"
