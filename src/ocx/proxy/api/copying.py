"""Copies: ``COPY`` with ``Destination``, and ``PUT`` with ``X-Copy-From``.

Within one landlord the copy is the landlord's own (container names translated to its bare
names), so large objects, hard-linked data and every Swift rule apply there. Between two
landlords the proxy streams the source's bytes (a large object's whole content, as Swift
copies it) into a PUT at the destination, with the source's content type and metadata
(unless ``X-Fresh-Metadata``) under the request's own. A manifest cannot be copied as such
to another landlord (``multipart-manifest=get``): its segments would stay behind, 409.
Another account as source or destination is 403: the proxy serves the caller's own only.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from urllib.parse import quote, unquote

from starlette.responses import Response

from ocx.common import errors
from ocx.proxy import headers as h
from ocx.proxy import locate, upstream
from ocx.proxy.api.context import Call
from ocx.proxy.api.forward import forward
from ocx.proxy.api.relay import Relay
from ocx.proxy.errors import Unreachable, unavailable
from ocx.proxy.locate import Located
from ocx.proxy.wire import Headers, WireError
from ocx.proxy.wire import Response as Answer
from ocx.swift.faults import fault, precondition
from ocx.swift.metadata import truthy

CARRIED = ("x-object-meta-", "content-disposition", "content-encoding")
FROM_REQUEST = (*CARRIED, "content-type", "x-delete-at", "x-delete-after")


async def copy(call: Call) -> Response:
    obj = str(call.request.path_params["obj"])
    source = await locate.locate(call.session, _container(call), call.headers.get(h.LANDLORD))
    dest_container, dest_obj = split(call.headers.get("destination"), "Destination")
    _own_account(call, "destination-account")
    dest = await locate.locate(call.session, dest_container)
    if dest.landlord == source.landlord:
        rewritten = {"destination": quote(f"/{dest.bare}/{dest_obj}")}
        headers = _replaced(call, rewritten, "destination-account")
        return await forward(call, source, obj, headers=headers)
    return await across(call, source, obj, dest, dest_obj)


async def copy_from(call: Call) -> Response:
    obj = str(call.request.path_params["obj"])
    dest = await locate.locate(call.session, _container(call), call.headers.get(h.LANDLORD))
    src_container, src_obj = split(call.headers.get("x-copy-from"), "X-Copy-From")
    _own_account(call, "x-copy-from-account")
    source = await locate.locate(call.session, src_container)
    if dest.landlord == source.landlord:
        rewritten = {"x-copy-from": quote(f"/{source.bare}/{src_obj}")}
        headers = _replaced(call, rewritten, "x-copy-from-account")
        return await forward(call, dest, obj, headers=headers)
    return await across(call, source, src_obj, dest, obj)


async def across(call: Call, source: Located, src_obj: str, dest: Located, obj: str) -> Response:
    """Stream the source object from one landlord into a PUT at another."""
    if call.query.get("multipart-manifest") == "get":
        raise errors.Conflict(
            "A large-object manifest cannot be copied to another landlord: its segments would "
            "stay behind. Copy the object itself (without multipart-manifest=get)."
        )
    got = await _open(call, source, "GET", src_obj, [])
    if got.status_code != 200:
        return Relay(got, source.landlord)
    try:
        sent = copy_headers(got.headers, call.headers.items())
        put = await _open(call, dest, "PUT", obj, sent, _relayed(got, source.landlord))
    finally:
        await got.aclose()
    extra = {
        "X-Copied-From": quote(f"{source.bare}/{src_obj}"),
        "X-Copied-From-Last-Modified": got.headers.get("last-modified") or "",
    }
    return Relay(put, dest.landlord, extra)


def copy_headers(source: Headers, request: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The PUT headers of a copy between landlords: the source's, under the request's own."""
    asked = {k.lower(): v for k, v in request}
    fresh = truthy(asked.get("x-fresh-metadata"))
    out = {"content-type": source.get("content-type") or "application/octet-stream"}
    if "content-length" in source:
        out["content-length"] = source["content-length"]
    whole = "x-static-large-object" not in source and "x-object-manifest" not in source
    if whole and "etag" in source:
        out["etag"] = source["etag"].strip('"')
    if not fresh:
        out.update({k.lower(): v for k, v in source.items() if k.lower().startswith(CARRIED)})
    out.update({k: v for k, v in asked.items() if k.startswith(FROM_REQUEST)})
    return list(out.items())


def split(value: str | None, header: str) -> tuple[str, str]:
    container, _, name = unquote(value or "").lstrip("/").partition("/")
    if not container or not name:
        raise precondition(f"{header} header must be of the form <container name>/<object name>")
    return container, name


async def _open(
    call: Call,
    at: Located,
    method: str,
    obj: str,
    headers: list[tuple[str, str]],
    body: AsyncIterator[bytes] | None = None,
) -> Answer:
    url = upstream.target(at.backend.storage_url, at.bare, obj)
    try:
        return await call.session.open(at.backend, method, url, headers, body)
    except Unreachable as exc:
        raise unavailable(exc.landlord, exc.reason, at.bare) from exc


async def _relayed(got: Answer, landlord: str) -> AsyncIterator[bytes]:
    try:
        async for chunk in got.aiter_raw():
            yield chunk
    except WireError as exc:
        raise Unreachable(landlord, exc.reason) from exc


def _container(call: Call) -> str:
    return str(call.request.path_params["container"])


def _own_account(call: Call, header: str) -> None:
    other = call.headers.get(header)
    if other is not None and unquote(other) != call.account:
        raise fault(errors.Forbidden)


def _replaced(call: Call, values: dict[str, str], dropped: str) -> list[tuple[str, str]]:
    kept = [(k, v) for k, v in call.headers.items() if k.lower() not in values and k != dropped]
    return kept + list(values.items())
