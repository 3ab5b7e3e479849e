"""The pure parts of images: JSON patch, list parsing and ordering."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from ocx.common import errors
from ocx.image import listing, patch, wire


def test_patch_tags_and_properties() -> None:
    doc = {"name": "a", "tags": ["x"], "os_distro": "d"}
    ops = [{"op": "add", "path": "/tags/0", "value": "w"}, {"op": "remove", "path": "/tags/1"},
           {"op": "replace", "path": "/os_distro", "value": "e"}]  # fmt: skip
    assert patch.apply(doc, ops) == {"name": "a", "tags": ["w"], "os_distro": "e"}
    assert doc["tags"] == ["x"]  # the input is not changed
    with pytest.raises(errors.Forbidden):
        patch.apply(doc, [{"op": "add", "path": "/os_glance_x", "value": "1"}])
    with pytest.raises(errors.BadRequest):
        patch.apply(doc, [{"op": "add", "path": "/tags/9", "value": "t"}])


def test_create_body_split() -> None:
    core, extra = wire.split_create({"name": "n", "disk_format": "raw", "hw_fpga": "1",
                                     "min_ram": 5, "description": None})  # fmt: skip
    assert core == {"name": "n", "disk_format": "raw", "min_ram": 5} and extra == {"hw_fpga": "1"}
    with pytest.raises(errors.Forbidden):
        wire.split_create({"checksum": "x"})


def _img(i: str, name: Any, size: Any) -> Any:
    return SimpleNamespace(id=i, name=name, size=size, created_at=float(i), tags=[])


def test_ordering_and_pages() -> None:
    images = [_img("1", "b", 5), _img("2", "a", None), _img("3", "c", 1)]
    q = listing.parse([("sort", "size:asc"), ("limit", "2")], 25, 1000)
    ordered = listing.ordered(images, q)
    assert [i.id for i in ordered] == ["3", "1", "2"]  # no size sorts last ascending
    page, more = listing.page(ordered, q)
    assert [i.id for i in page] == ["3", "1"] and more
    q.marker = "1"
    assert listing.page(ordered, q) == ([ordered[2]], False)
    assert (
        listing.next_link([("limit", "2"), ("marker", "x")], "1") == "/v2/images?limit=2&marker=1"
    )
    with pytest.raises(errors.BadRequest):
        listing.parse([("sort_dir", "sideways"), ("sort_key", "name")], 25, 1000)
