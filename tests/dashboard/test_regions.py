"""Which services region a dashboard session starts in: pure, without Django."""

from __future__ import annotations

from typing import Any

from ocx.dashboard.horizon.market.regions import starting_region

KEYSTONE = "http://harvard/v3"


def endpoint(region: str, url: str) -> dict[str, Any]:
    return {"interface": "public", "region_id": region, "region": region, "url": url}


def catalog(*, proxy: bool) -> list[dict[str, Any]]:
    """harvard's: its own services in RegionOne, and with the proxy the same in region ocx,
    identity included (the same URL)."""
    regions = ["RegionOne", "ocx"] if proxy else ["RegionOne"]
    return [
        {"type": "identity", "endpoints": [endpoint(r, KEYSTONE) for r in regions]},
        {"type": "compute", "endpoints": [endpoint(r, f"http://{r}/compute") for r in regions]},
    ]


def test_the_proxys_region_wins_where_the_identity_is_listed_in_it() -> None:
    assert starting_region(catalog(proxy=True), KEYSTONE, "RegionOne", None, "ocx") == "ocx"


def test_without_the_proxy_horizons_pick_stays() -> None:
    assert starting_region(catalog(proxy=False), KEYSTONE, "RegionOne", None, "ocx") == "RegionOne"


def test_the_users_own_choice_comes_first_where_the_catalog_has_it() -> None:
    both = catalog(proxy=True)
    assert starting_region(both, KEYSTONE, "RegionOne", "RegionOne", "ocx") == "RegionOne"
    assert starting_region(both, KEYSTONE, "RegionOne", "elsewhere", "ocx") == "ocx"


def test_another_identitys_region_is_not_taken() -> None:
    """Region ocx of another identity (a different URL) is not where this user signed in."""
    assert starting_region(catalog(proxy=True), "http://mit/v3", "RegionOne", None, "ocx") == (
        "RegionOne"
    )
