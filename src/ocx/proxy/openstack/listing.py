"""Merged listings: servers, volumes, snapshots, images (paginated with the proxy's markers),
and flavors and volume types (small: gathered whole from every landlord).

Filters pass through to every landlord as the client sent them, with two read by the proxy:
``availability_zone=LANDLORD`` asks that landlord only, and a name qualified with a landlord
(``name=debian@mit``) asks that landlord for the bare name. A landlord that does not answer is
left out of the page and named in ``X-OCX-Missing-Landlords``; it keeps its place in the
marker, so its items come on later pages once it answers again (never lost, never twice).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from starlette.responses import Response

from ocx.common import errors
from ocx.proxy import headers as h
from ocx.proxy.errors import Unreachable, described
from ocx.proxy.openstack import find
from ocx.proxy.openstack.apis import Collection
from ocx.proxy.openstack.call import (
    ECHOED,
    OsCall,
    composed,
    localize,
    remember_root,
    send,
    sent_headers,
)
from ocx.proxy.openstack.merge import (
    Item,
    Position,
    SortKey,
    decode_marker,
    encode_marker,
    merge_flavors,
    merge_page,
    parse_sort,
    qualified,
    qualify_collisions,
    sort_keys,
    split_qualified,
)
from ocx.proxy.pages import Page
from ocx.proxy.tokens import Backend
from ocx.proxy.wire import Response as Answer

PAGE = 1000  # a page without a limit, as Nova's max_limit
PROXY_PARAMS = frozenset({"limit", "marker"})
END = "-"  # a remembered last id after which nothing follows


class LandlordRefused(Exception):
    """A landlord refused the listing itself (a bad filter): its answer is the client's."""

    def __init__(self, backend: Backend, status: int, body: bytes):
        super().__init__(status)
        self.backend, self.status, self.body = backend, status, body


def _limit(call: OsCall) -> int:
    text = call.request.query_params.get("limit")
    if text is None:
        return PAGE
    if not text.isdigit():
        raise errors.BadRequest(f"limit must be a non-negative integer, not {text!r}.")
    return min(int(text), PAGE)


def _order(call: OsCall, collection: Collection) -> list[SortKey]:
    params = call.request.query_params
    if params.get("sort"):
        return parse_sort(params["sort"])
    keys, dirs = params.getlist("sort_key"), params.getlist("sort_dir")
    return sort_keys(keys, dirs, collection.default_sort)


def _position(call: OsCall, collection: Collection) -> Position | None:
    """Where the client stands; None when the remembered listing had ended."""
    marker = call.request.query_params.get("marker")
    if not marker:
        return Position()
    found = decode_marker(marker)
    if found is not None:
        return found
    key = (call.session.account_key, call.api.name, collection.name, marker)
    remembered = call.svc.markers.get(key)
    if remembered == END:
        return None
    found = decode_marker(remembered or "")
    if found is None:
        raise errors.BadRequest(f"marker [{marker}] not found")
    return found


def _filters(
    call: OsCall, collection: Collection, ranks: dict[str, int]
) -> tuple[list[tuple[str, str]], str | None, bool]:
    """The filters for the landlords, the one landlord they name (if any), and whether names
    in the answer are to be qualified (the client asked with a qualified name)."""
    only: str | None = None
    qualify = False
    out = []
    for key, value in call.request.query_params.multi_items():
        if key in PROXY_PARAMS:
            continue
        if key == "availability_zone" and collection.zone_field is not None:
            if value not in ranks:
                raise errors.BadRequest(
                    f"Availability zone {value!r} is not one of your landlords."
                )
            only = value
            continue
        if key == "name":
            bare, landlord = split_qualified(value, ranks)
            if landlord is not None:
                only, qualify, value = landlord, True, bare
        out.append((key, value))
    return out, only, qualify


async def listing(call: OsCall, collection: Collection, detail: bool) -> Response:
    ranks = await call.session.ranks()
    filters, only, qualify = _filters(call, collection, ranks)
    asked, order = _limit(call), _order(call, collection)
    position = _position(call, collection)
    if position is None:
        return composed(_body(call, collection, [], filters, asked, None))
    suffix = "/detail" if (detail or call.api.name == "compute") and collection.links else ""
    path = f"{call.api.base}/{collection.name}{suffix}"

    async def page_at(backend: Backend) -> list[Item]:
        if backend.landlord in position.done or (only and backend.landlord != only):
            return []
        query = [*filters, ("limit", str(max(asked, 1)))]
        if backend.landlord in position.after:
            query.append(("marker", position.after[backend.landlord]))
        return await _kept_items(call, backend, path, collection, urlencode(query))

    results = await _gather(call, page_at, collection)
    pages = {c.name: items for c, items in results.answers}
    answering = {c.name: c.rank for c, _ in results.answers}
    landlords = {**answering, **{m.landlord: 1000 + i for i, m in enumerate(results.missing)}}
    if only:
        landlords = {only: landlords.get(only, 0)} if only in landlords else {}
    before = Position(position.after, position.done | (set(answering) - set(landlords)))
    merged = merge_page(pages, max(asked, 1), order, landlords, before)
    taken = merged.items[:asked]
    items = [_shown(call, collection, landlord, item, detail) for landlord, item in taken]
    if qualify:
        items = [{**i, "name": qualified(str(i.get("name")), only or "")} for i in items]
    elif collection.qualify_names:
        items = qualify_collisions(list(zip([w for w, _ in taken], items, strict=True)))
    following = merged.next if asked else None
    _remember(call, collection, taken, following)
    doc = _body(call, collection, items, filters, asked, following)
    return composed(doc, extra=results.missing_header, call=call)


async def _gather(call: OsCall, work: Any, collection: Collection) -> Any:
    try:
        results = await call.session.fan_out(work, f"listing {collection.name}")
    except LandlordRefused as refused:
        raise _passed_on(refused) from None
    if results.missing and not results.answers:
        raise errors.ServiceUnavailable(
            f"No landlord could list {collection.name}: {described(results.missing)}."
        )
    return results


def _passed_on(refused: LandlordRefused) -> errors.OCXError:
    try:
        doc = json.loads(refused.body)
        message = next(iter(doc.values()))["message"]
    except (ValueError, StopIteration, KeyError, TypeError, AttributeError):
        message = refused.body.decode("utf-8", "replace")[:500]
    error = errors.from_status(refused.status, str(message))
    error.headers[h.LANDLORD] = refused.backend.landlord
    return error


async def _kept_items(
    call: OsCall, backend: Backend, path: str, collection: Collection, query: str
) -> list[Item]:
    """A landlord's page, from the proxy's memory when it may be (:mod:`ocx.proxy.pages`)."""
    versions = sorted((n.lower(), v) for n, v in sent_headers(call) if "api-version" in n.lower())
    request = json.dumps([path, query, versions])

    async def fetch() -> Page:
        answer = await send(call, backend, "GET", path, query=query)
        items = _listed(backend, collection, answer)
        return Page(items, {k: v for k in ECHOED if (v := answer.headers.get(k)) is not None})

    pages = call.svc.pages
    found = await pages.page(call.session.account_key, backend.landlord, request, fetch)
    remember_root(call, backend)
    state = call.request.scope.setdefault("state", {})
    state.setdefault("ocx_echo", dict(found.echo))
    return found.items


def _listed(backend: Backend, collection: Collection, answer: Answer) -> list[Item]:
    if 400 <= answer.status_code < 500:
        raise LandlordRefused(backend, answer.status_code, answer.content)
    if answer.status_code != 200:
        raise Unreachable(backend.landlord, f"answered {answer.status_code}")
    found = answer.json().get(collection.key)
    if not isinstance(found, list):
        raise ValueError("not a listing")
    return [i for i in found if isinstance(i, dict)]


def _shown(call: OsCall, collection: Collection, landlord: str, item: Item, detail: bool) -> Item:
    find.remember(call, collection, str(item.get("id")), landlord)
    shown: Item = localize(call, {collection.member: dict(item)}, landlord)[collection.member]
    if call.api.name == "compute" and not detail:
        shown = {k: shown[k] for k in ("id", "name", "links") if k in shown}
    return shown


def _remember(
    call: OsCall,
    collection: Collection,
    taken: Sequence[tuple[str, Item]],
    following: Position | None,
) -> None:
    """The page's last id, remembered with where the listing goes on from it: clients that
    page by the last id (openstacksdk does, once, after a full last page) get the right page."""
    if not taken:
        return
    last = str(taken[-1][1].get("id"))
    key = (call.session.account_key, call.api.name, collection.name, last)
    value = END if following is None else encode_marker(following)
    ttl = call.svc.settings.route_ttl
    call.svc.markers.put(key, value, call.svc.markers.clock() + ttl)


def _body(
    call: OsCall,
    collection: Collection,
    items: list[Item],
    filters: list[tuple[str, str]],
    asked: int,
    following: Position | None,
) -> dict[str, Any]:
    doc: dict[str, Any] = {collection.key: items}
    path = call.request.url.path
    if following is None:
        if collection.links is None and call.api.name == "image":
            doc.update(first=f"{call.api.base}/{collection.name}", schema="/v2/schemas/images")
        return doc
    query = urlencode([*filters, ("limit", str(asked)), ("marker", encode_marker(following))])
    if collection.links is None:  # Glance: a relative "next", as Glance gives it
        doc.update(first=f"{call.api.base}/{collection.name}", schema="/v2/schemas/images")
        doc["next"] = f"{call.api.base}/{collection.name}?{query}"
    else:
        href = call.svc.settings.public_url.rstrip("/") + path + "?" + query
        doc[collection.links] = [{"rel": "next", "href": href}]
    return doc


async def gathered(call: OsCall, collection: Collection, detail: bool) -> Response:
    """Flavors and volume types: every landlord's whole list, merged, names told apart."""
    suffix = "/detail" if collection.name == "flavors" else ""
    path = f"{call.api.base}/{collection.name}{suffix}"

    async def whole(backend: Backend) -> list[Item]:
        kept = [(k, v) for k, v in call.request.query_params.multi_items()]
        query = urlencode([(k, v) for k, v in kept if k not in PROXY_PARAMS])
        # Kept as listing pages are: Horizon lists the flavors on every Instances page.
        return await _kept_items(call, backend, path, collection, query)

    results = await _gather(call, whole, collection)
    found = sorted(results.answers, key=lambda pair: pair[0].rank)
    if collection.name == "flavors":
        merged = merge_flavors([(c.name, items) for c, items in found])
        entries = [(holders[0], item) for holders, item in merged]
    else:
        entries = list(zip([c.name for c, items in found for _ in items],
                           qualify_collisions([(c.name, i) for c, items in found for i in items]),
                           strict=True))  # fmt: skip
    items = [localize(call, {collection.member: i}, who)[collection.member] for who, i in entries]
    if collection.name == "flavors" and not detail:
        items = [{k: i[k] for k in ("id", "name", "links", "description") if k in i} for i in items]
    doc = {collection.key: _window(call, items)}
    return composed(doc, extra=results.missing_header, call=call)


def _window(call: OsCall, items: list[Item]) -> list[Item]:
    """``marker`` (an id in the merged list) and ``limit`` over a gathered list."""
    marker = call.request.query_params.get("marker")
    if marker:
        ids = [str(i.get("id")) for i in items]
        if marker not in ids:
            raise errors.BadRequest(f"marker [{marker}] not found")
        items = items[ids.index(marker) + 1 :]
    text = call.request.query_params.get("limit")
    return items[: int(text)] if text and text.isdigit() else items
