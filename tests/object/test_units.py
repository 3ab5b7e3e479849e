"""The pure parts of object storage, without a server: listings, ranges, ACLs, temp URLs."""

from __future__ import annotations

import time

import pytest

from ocx.common import errors
from ocx.common.auth import Principal
from ocx.object import acl, conditions, ranges
from ocx.object.bodies import cut
from ocx.object.storage import Extent
from ocx.swift import listing, metadata, names, tempurl
from ocx.swift.limits import Limits


def principal(project: str, roles: tuple[str, ...], **kw: object) -> Principal:
    return Principal(
        user_id=str(kw.get("user_id", "u1")),
        user_name="user",
        user_domain_id="default",
        roles=roles,
        methods=("password",),
        audit_id="a",
        audit_chain_id="a",
        issued_at=0.0,
        expires_at=time.time() + 60,
        project_id=project,
        project_name="proj",
        project_domain_id="default",
        system=bool(kw.get("system", False)),
    )


async def test_walk_folds_subdirs_and_resumes() -> None:
    names = sorted(["a/1", "a/2", "b", "c/x/y", "c/z", "d"])

    async def fetch(bound: listing.Bound | None, batch: int) -> list[listing.Entry]:
        left = [
            n
            for n in names
            if bound is None or n > bound.name or (bound.inclusive and n == bound.name)
        ]
        return [listing.Entry(n) for n in left[:batch]]

    query = listing.Query(delimiter="/", limit=10)
    items = await listing.walk(fetch, query)
    assert [i.name for i in items] == ["a/", "b", "c/", "d"]
    assert [i.name for i in await listing.walk(fetch, listing.Query(delimiter="/", limit=2))] == [
        "a/",
        "b",
    ]
    assert [i.name for i in await listing.walk(fetch, listing.Query(limit=3, marker="a/2"))] == [
        "b",
        "c/x/y",
        "c/z",
    ]


def test_prefix_end() -> None:
    assert listing.prefix_end("ab") == "ac"
    assert listing.prefix_end("") is None
    assert listing.prefix_end("a\ud7ff") == "a\ue000"


def test_parse_query_limits() -> None:
    assert listing.parse_query({"limit": "abc"}, 10000).limit == 10000
    with pytest.raises(errors.PreconditionFailed):
        listing.parse_query({"limit": "10001"}, 10000)


@pytest.mark.parametrize(
    ("header", "spans"),
    [
        ("bytes=0-0", [(0, 1)]),
        ("bytes=5-", [(5, 10)]),
        ("bytes=-3", [(7, 10)]),
        ("bytes=-30", [(0, 10)]),
        ("bytes=8-100", [(8, 10)]),
        ("bytes=0-1,4-5", [(0, 2), (4, 6)]),
        ("bytes=0-1,50-60", [(0, 2)]),
        ("bytes=3-1", None),
        ("items=0-1", None),
        ("bytes=x", None),
        (None, None),
    ],
)
def test_ranges(header: str | None, spans: list[tuple[int, int]] | None) -> None:
    assert ranges.parse(header, 10) == spans


def test_unsatisfiable_range() -> None:
    with pytest.raises(errors.RangeNotSatisfiable) as caught:
        ranges.parse("bytes=10-", 10)
    assert caught.value.headers == {"Content-Range": "bytes */10"}


def test_cut_extents() -> None:
    extents = [Extent("a", 0, 5), Extent("b", 10, 5)]
    assert cut(extents, (3, 7)) == [Extent("a", 3, 2), Extent("b", 10, 2)]
    assert cut(extents, (5, 10)) == [Extent("b", 10, 5)]


def test_levels_and_grants() -> None:
    assert acl.level(principal("p", ("member", "reader")), "p") is acl.Level.OWNER
    assert acl.level(principal("p", ("reader",)), "p") is acl.Level.READER
    assert acl.level(principal("q", ("admin", "member")), "p") is acl.Level.NONE
    assert acl.level(principal("q", ("admin",), system=True), "p") is acl.Level.OWNER
    bob = principal("q", ("member",), user_id="bob")
    grants = acl.grants(bob, "p", "q:bob", "")
    assert (grants.read, grants.listing, grants.write) == (True, True, False)
    assert acl.grants(bob, "p", ".r:*", "*:bob").write
    public = acl.grants(None, "p", ".r:*", "")
    assert (public.read, public.listing) == (True, False)
    assert acl.grants(None, "p", ".r:*,.rlistings", "").listing
    assert not acl.grants(None, "p", ".r:*,.r:-evil.com", "", "http://evil.com/x").read
    assert acl.grants(None, "p", ".r:.example.com", "", "http://www.example.com/").read


def test_temp_url_signatures() -> None:
    expires = int(time.time()) + 60
    sig = tempurl.sign("key", "GET", expires, "/v1/AUTH_p/c/o")
    temp = tempurl.TempUrl(sig, expires, None, None, False)
    key = [("key", None)]
    assert tempurl.verify(temp, "GET", "AUTH_p", "c", "o", [("other", None), ("key", "c")]) == "c"
    assert tempurl.verify(temp, "HEAD", "AUTH_p", "c", "o", key) is None
    with pytest.raises(errors.Unauthorized):
        tempurl.verify(temp, "PUT", "AUTH_p", "c", "o", key)
    with pytest.raises(errors.Unauthorized):
        tempurl.verify(temp, "GET", "AUTH_p", "c", "o2", key)
    copy = tempurl.TempUrl(
        tempurl.sign("key", "COPY", expires, "/v1/AUTH_p/c/o"), expires, None, None, False
    )
    with pytest.raises(errors.Unauthorized):
        tempurl.verify(copy, "COPY", "AUTH_p", "c", "o", key)
    old = tempurl.TempUrl(
        tempurl.sign("key", "GET", 1000, "/v1/AUTH_p/c/o"), 1000, None, None, False
    )
    with pytest.raises(errors.Unauthorized):
        tempurl.verify(old, "GET", "AUTH_p", "c", "o", key)
    prefixed = tempurl.sign("key", "GET", expires, "prefix:/v1/AUTH_p/c/dir/", "sha512")
    tempurl.verify(
        tempurl.TempUrl(prefixed, expires, "dir/", None, False),
        "GET",
        "AUTH_p",
        "c",
        "dir/x",
        key,
    )


def test_conditions() -> None:
    assert conditions.not_modified({"if-none-match": '"abc"'}, "abc", 0)
    assert not conditions.not_modified({}, "abc", 0)
    with pytest.raises(errors.PreconditionFailed):
        conditions.not_modified({"if-match": "x"}, "abc", 0)


def test_metadata_rules() -> None:
    limits = Limits()
    updates = metadata.meta_updates(
        {"x-object-meta-a": " 1 ", "x-remove-object-meta-b": "x"}, "object"
    )
    assert updates == {"a": "1", "b": ""}
    assert metadata.merge_meta({"b": "2", "c": "3"}, updates) == {"a": "1", "c": "3"}
    with pytest.raises(errors.BadRequest):
        metadata.check_meta({str(i): "v" for i in range(91)}, "object", limits)
    assert metadata.delete_at({"x-delete-after": "10"}, now=100.0) == 110.0
    with pytest.raises(errors.NotFound):
        names.project_of("NOTAUTH_x")
