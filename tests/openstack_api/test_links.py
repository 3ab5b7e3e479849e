"""Next-page links: the same query, its marker moved to the last item shown."""

from __future__ import annotations

from ocx.openstack.links import next_links, next_query


def test_the_marker_is_replaced_and_the_rest_kept() -> None:
    params = [("limit", "2"), ("marker", "a"), ("status", "in use")]
    assert next_query(params, "b/c") == "limit=2&status=in+use&marker=b%2Fc"
    assert next_links("http://x/v3/volumes", [], "z") == [
        {"rel": "next", "href": "http://x/v3/volumes?marker=z"}
    ]
