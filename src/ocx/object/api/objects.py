"""Object reads and changes: ``/v1/AUTH_<project_id>/<container>/<object>``.

PUT and COPY (the writes that carry or copy data) are in :mod:`ocx.object.api.uploads`.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response

from ocx.common import errors
from ocx.object import conditions, dlo, ranges, slo
from ocx.object.api import bulk
from ocx.object.api.context import Call, begin, reply, swift_timestamp
from ocx.object.api.stream import Streamed, respond
from ocx.object.bodies import Body
from ocx.object.models import Container, Object
from ocx.object.storage import Extent, Vanished
from ocx.swift import metadata, names
from ocx.swift.faults import fault, not_found

READ_ATTEMPTS = 3


async def target(request: Request, need: str) -> tuple[Call, Container, str]:
    """The call, its container (with ``need`` checked) and the object name."""
    call, container_name, name = await _names(request)
    return call, await call.container(container_name, need), name


async def _names(request: Request) -> tuple[Call, str, str]:
    call = await begin(request)
    container_name: str = request.path_params["container"]
    name: str = request.path_params["obj"]
    names.check_object_name(name, call.limits)
    if "temp_url_sig" in call.query:
        await call.allow_temp_url(container_name, name)
    return call, container_name, name


async def get(request: Request) -> Response:
    call, container_name, name = await _names(request)
    container, obj = await call.located(container_name, name, "read")
    for _attempt in range(READ_ATTEMPTS):
        if obj is None:
            conditions.missing(call.headers)
            raise not_found()
        try:
            return await _read(call, obj)
        except Vanished:
            # Overwritten between reading its row and opening its file: read the row again.
            obj = await call.svc.store.object(container.id, name)
    raise fault(errors.ServiceUnavailable)


async def _read(call: Call, obj: Object) -> Response:
    manifest_get = call.query.get("multipart-manifest") == "get"
    if manifest_get and obj.kind == "slo":
        return await _manifest(call, obj)
    if manifest_get or obj.kind == "":
        body = Body([Extent(obj.file_id, 0, obj.size)], obj.size, obj.etag)
    else:
        body = await call.svc.bodies.resolve(obj, call.readable)
    headers = headers_of(obj, body)
    _temp_url_disposition(call, headers)
    if conditions.not_modified(call.headers, body.etag, obj.created_at):
        headers.pop("Content-Type", None)
        return Streamed(304, headers, None)
    head = call.request.method == "HEAD"
    spans = ranges.parse(call.headers.get("range"), body.size)
    return respond(call.svc.storage, body, headers, spans, head)


async def _manifest(call: Call, obj: Object) -> Response:
    stored = await call.svc.bodies.manifest(obj)
    doc = slo.raw(stored) if call.query.get("format") == "raw" else stored
    body = json.dumps(doc).encode()
    headers = headers_of(obj, Body([], len(body), obj.etag, large=True))
    headers.pop("Content-Length", None)
    if call.request.method == "HEAD":
        body = b""
    return reply(200, headers, body, "application/json; charset=utf-8")


def headers_of(obj: Object, body: Body) -> dict[str, str]:
    headers = {
        "Content-Type": obj.content_type,
        "ETag": body.etag_header,
        "Last-Modified": conditions.http_date(obj.created_at),
        "X-Timestamp": swift_timestamp(obj.created_at),
        "Accept-Ranges": "bytes",
        **{name.title(): value for name, value in obj.headers.items()},
        **metadata.meta_headers(obj.meta, "object"),
    }
    if obj.delete_at is not None:
        headers["X-Delete-At"] = str(int(obj.delete_at))
    if obj.kind == "slo":
        headers["X-Static-Large-Object"] = "True"
    elif obj.kind == "dlo" and obj.manifest:
        headers["X-Object-Manifest"] = obj.manifest
    return headers


def _temp_url_disposition(call: Call, headers: dict[str, str]) -> None:
    if not call.temp_url:
        return
    filename = call.query.get("filename")
    if "inline" in call.query:
        headers["Content-Disposition"] = "inline" + (
            f"; filename*=UTF-8''{quote(filename)}" if filename else ""
        )
    elif filename is not None:
        headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"


async def post(request: Request) -> Response:
    call, container, name = await target(request, "write")
    meta = metadata.object_meta({}, call.headers)
    metadata.check_meta(meta, "object", call.limits)
    manifest = call.headers.get("x-object-manifest")
    if manifest is not None:
        dlo.parse(manifest)
        manifest = manifest.strip()
    values: dict[str, Any] = {
        "meta": meta,
        "headers": metadata.object_headers(call.headers),
        "delete_at": metadata.delete_at(call.headers),
    }
    if "content-type" in call.headers:
        values["content_type"] = call.headers["content-type"]
    if not await call.svc.store.update_object(container.id, name, values, manifest):
        raise not_found()
    return reply(
        202, body=b"<html><h1>Accepted</h1><p>The request is accepted for processing.</p></html>"
    )


async def delete(request: Request) -> Response:
    call, container, name = await target(request, "write")
    if call.query.get("multipart-manifest") == "delete":
        return await _delete_large(call, container, name)
    if await call.svc.remove(container.id, name) is None:
        raise not_found()
    return reply(204)


async def _delete_large(call: Call, container: Container, name: str) -> Response:
    obj = await call.svc.store.object(container.id, name)
    if obj is None:
        raise not_found()
    pairs: list[tuple[str, str]] = []
    if obj.kind == "slo":
        pairs = [
            slo.split_name(str(entry["name"])) for entry in await call.svc.bodies.manifest(obj)
        ]
    outcome = await bulk.delete_all(call, [*pairs, (container.name, name)])
    return bulk.answer(call, outcome)
