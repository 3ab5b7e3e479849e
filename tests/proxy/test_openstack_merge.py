"""The OpenStack layer's pure merges: pages over landlords, markers, names, versions."""

from __future__ import annotations

import random

from ocx.proxy.openstack.merge import (
    Position,
    SortKey,
    common_extensions,
    decode_marker,
    encode_marker,
    merge_flavors,
    merge_page,
    qualify_collisions,
    rewrite_urls,
    split_qualified,
    sum_limits,
    version_range,
)

NEWEST = [SortKey("created_at", True), SortKey("id", True)]


def _listing(landlord: str, n: int) -> list[dict[str, str]]:
    return [{"id": f"{landlord}-{i:03}", "created_at": f"2026-01-01T00:{i:02}:00Z"}
            for i in range(n)][::-1]  # fmt: skip


def _after(items: list[dict[str, str]], marker: str | None, limit: int) -> list[dict[str, str]]:
    """A landlord's own page: what follows its marker."""
    start = 0 if marker is None else [i["id"] for i in items].index(marker) + 1
    return items[start : start + limit]


def _walk(data: dict[str, list[dict[str, str]]], limit: int) -> list[str]:
    ranks = {name: rank for rank, name in enumerate(data)}
    seen: list[str] = []
    position = Position()
    while True:
        pages = {
            n: [] if n in position.done else _after(items, position.after.get(n), limit)
            for n, items in data.items()
        }
        page = merge_page(pages, limit, NEWEST, ranks, position)
        seen += [item["id"] for _, item in page.items]
        if page.next is None:
            return seen
        decoded = decode_marker(encode_marker(page.next))
        assert decoded == page.next
        position = decoded


def test_pages_over_three_landlords_have_every_item_once_in_order() -> None:
    data = {
        "harvard": _listing("harvard", 7),
        "mit": _listing("mit", 0),
        "stor": _listing("stor", 13),
    }
    everything = sorted((i for items in data.values() for i in items),
                        key=lambda i: (i["created_at"], i["id"]), reverse=True)  # fmt: skip
    for limit in (1, 2, 3, 5, 20, 1000):
        assert _walk(data, limit) == [i["id"] for i in everything]


def test_random_listings_never_repeat_or_skip() -> None:
    rng = random.Random(7)
    for _ in range(50):
        data = {f"l{k}": _listing(f"l{k}", rng.randint(0, 12)) for k in range(rng.randint(1, 4))}
        ids = _walk(data, rng.randint(1, 6))
        assert sorted(ids) == sorted(i["id"] for items in data.values() for i in items)


def test_a_full_last_page_still_ends() -> None:
    data = {"a": _listing("a", 2), "b": _listing("b", 2)}
    page = merge_page({n: i[:2] for n, i in data.items()}, 2, NEWEST, {"a": 0, "b": 1}, Position())
    assert page.next is not None and len(page.items) == 2


def test_markers_that_are_not_the_proxys_decode_to_nothing() -> None:
    for text in ("", "b8f3", "ocx1.", "ocx1.!!!", "ocx1.W10", encode_marker(Position())[:-2] + "x"):
        found = decode_marker(text)
        assert found is None or isinstance(found, Position)
    assert decode_marker("ocx1.eyJhIjp7IngiOjF9LCJkIjpbXX0") is None  # a position that is not text


def test_names_at_two_landlords_are_told_apart() -> None:
    items = [("harvard", {"name": "debian"}), ("mit", {"name": "debian"}), ("mit", {"name": "x"})]
    assert [i["name"] for i in qualify_collisions(items)] == ["debian@harvard", "debian@mit", "x"]
    assert split_qualified("debian@mit", ["harvard", "mit"]) == ("debian", "mit")
    assert split_qualified("me@example.org", ["harvard", "mit"]) == ("me@example.org", None)


def test_flavors_alike_are_one_and_different_ones_qualified() -> None:
    tiny = {"id": "1", "name": "m1.tiny", "vcpus": 1, "ram": 512, "disk": 1}
    fpga = {"id": "1", "name": "m1.tiny", "vcpus": 8, "ram": 512, "disk": 1}
    merged = merge_flavors([("harvard", [tiny]), ("mit", [dict(tiny)]), ("fpga", [fpga])])
    assert [(holders, f["id"], f["name"]) for holders, f in merged] == [
        (["harvard", "mit"], "1", "m1.tiny"),
        (["fpga"], "1@fpga", "m1.tiny@fpga"),
    ]


def test_the_version_range_is_what_every_landlord_accepts() -> None:
    docs = [{"min_version": "2.1", "version": "2.100"}, {"min_version": "2.3", "version": "2.90"}]
    assert version_range(docs) == ("2.3", "2.90")
    assert version_range([{"version": ""}]) is None


def test_urls_under_a_landlord_move_to_the_proxy() -> None:
    doc = {"links": [{"href": "http://h:1/v2.1/servers/x"}, {"href": "http://h:10/v2.1"}]}
    moved = rewrite_urls(doc, "http://h:1", "http://p/compute")
    assert moved == {
        "links": [{"href": "http://p/compute/v2.1/servers/x"}, {"href": "http://h:10/v2.1"}]
    }


def test_limits_over_landlords_are_summed_and_per_item_ones_the_smallest() -> None:
    harvard = {"maxTotalVolumes": 10, "totalVolumesUsed": 2, "maxServerMeta": 128, "x": "a"}
    mit = {"maxTotalVolumes": 5, "totalVolumesUsed": 1, "maxServerMeta": 64, "x": "b"}
    stor = {"maxTotalVolumes": -1, "totalVolumesUsed": 4, "maxServerMeta": -1}
    assert sum_limits([harvard, mit]) == {
        "maxTotalVolumes": 15, "totalVolumesUsed": 3, "maxServerMeta": 64, "x": "a"}  # fmt: skip
    assert sum_limits([harvard, mit, stor]) == {
        "maxTotalVolumes": -1, "totalVolumesUsed": 7, "maxServerMeta": 64, "x": "a"}  # fmt: skip
    assert sum_limits([stor, harvard])["maxServerMeta"] == 128
    assert sum_limits([]) == {}


def test_extensions_are_those_every_landlord_lists_and_the_proxys() -> None:
    def ext(alias: str, name: str = "") -> dict[str, object]:
        return {"alias": alias, "name": name or alias.upper(), "links": []}

    harvard = [ext("os-quota-sets"), ext("os-volume-actions"), ext("os-availability-zone")]
    mit = [ext("os-volume-actions"), ext("os-quota-sets"), ext("os-backups")]
    own = [ext("os-availability-zone", "AvailabilityZones")]
    merged = common_extensions([harvard, mit], own)
    assert [e["alias"] for e in merged] == ["os-availability-zone", "os-quota-sets",
                                            "os-volume-actions"]  # fmt: skip
    assert merged[0]["name"] == "AvailabilityZones"  # the proxy's own, not a landlord's
    assert common_extensions([harvard, []], own) == own
    assert common_extensions([], own) == own


def test_a_page_over_a_hundred_landlords_compares_heads_log_wise() -> None:
    """The page is the first ``asked`` of all items in order, and picking it compares each
    landlord's head about log2(L) times per item, not L times (2,000 for 20 over 100)."""
    rng = random.Random(3)
    data = {f"l{k:03}": [{"id": f"l{k:03}-{i}", "created_at": rng.randint(0, 10**6)}
                         for i in range(20)] for k in range(100)}  # fmt: skip
    for items in data.values():
        items.sort(key=lambda i: (i["created_at"], i["id"]), reverse=True)
    calls = 0

    class Counted(dict[str, object]):
        def __getitem__(self, key: str) -> object:
            nonlocal calls
            calls += key == "created_at"  # read twice per comparison
            return super().__getitem__(key)

    pages = {n: [Counted(i) for i in items] for n, items in data.items()}
    ranks = {name: rank for rank, name in enumerate(data)}
    page = merge_page(pages, 20, NEWEST, ranks, Position())  # type: ignore[arg-type]
    everything = sorted((i for items in data.values() for i in items),
                        key=lambda i: (i["created_at"], i["id"]), reverse=True)  # fmt: skip
    assert [i["id"] for _, i in page.items] == [i["id"] for i in everything[:20]]
    # heapify (under 2L comparisons), then a sift of about 2 log2(L) for each item taken
    assert calls < 2 * (2 * 100 + 20 * 2 * 7), calls
