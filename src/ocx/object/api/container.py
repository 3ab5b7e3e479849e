"""Container requests: ``/v1/AUTH_<project_id>/<container>``."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ocx.object import acl, conditions
from ocx.object.acl import Level
from ocx.object.api import bulk, listings
from ocx.object.api.context import Call, begin, reply, swift_timestamp
from ocx.object.models import Container
from ocx.swift import metadata, names, tempurl
from ocx.swift.faults import bad_request, not_found
from ocx.swift.info import DEFAULT_POLICY

ACL_HEADERS = {"read_acl": "x-container-read", "write_acl": "x-container-write"}
QUOTAS = {"quota-bytes": "Invalid bytes quota.", "quota-count": "Invalid count quota."}


async def head(request: Request) -> Response:
    call = await begin(request)
    container = await call.container(_name(call), "listing")
    return reply(204, _headers(call, container), content_type="text/plain; charset=utf-8")


async def get(request: Request) -> Response:
    call = await begin(request)
    container = await call.container(_name(call), "listing")
    query = listings.query(call, call.limits.container_listing_limit)
    items = await call.svc.store.list_objects(container.id, query)
    return listings.respond(call, items, "container", container.name, _headers(call, container))


async def put(request: Request) -> Response:
    call = await begin(request)
    if "extract-archive" in call.query:
        return await bulk.extract(call, _name(call))
    call.require(Level.OWNER)
    name = _name(call)
    names.check_container_name(name, call.limits)
    meta = metadata.merge_meta({}, metadata.meta_updates(call.headers, "container"))
    values = {"meta": meta, **_acls(call)}
    _check(call, meta)
    if await call.svc.store.create_container(call.account, name, values):
        return reply(201)
    await _update(call, name)
    return reply(
        202, body=b"<html><h1>Accepted</h1><p>The request is accepted for processing.</p></html>"
    )


async def post(request: Request) -> Response:
    call = await begin(request)
    call.require(Level.OWNER)
    await _update(call, _name(call))
    return reply(204)


async def delete(request: Request) -> Response:
    call = await begin(request)
    call.require(Level.OWNER)
    found = await call.svc.store.container(call.account, _name(call))
    if found is not None:
        # Expired objects are gone for clients already: they must not keep it from going.
        await call.svc.expire(container_id=found.id)
    await call.svc.store.delete_container(call.account, _name(call))
    return reply(204)


def _name(call: Call) -> str:
    name: str = call.request.path_params["container"]
    return name


async def _update(call: Call, name: str) -> None:
    container = await call.svc.store.container(call.account, name)
    if container is None:
        raise not_found()
    updates = metadata.meta_updates(call.headers, "container")
    meta = metadata.merge_meta(container.meta, updates)
    _check(call, meta)
    await call.svc.store.update_container(container.id, {"meta": meta, **_acls(call)})


def _check(call: Call, meta: dict[str, str]) -> None:
    metadata.check_meta(meta, "container", call.limits)
    for key, message in QUOTAS.items():
        if key in meta and not meta[key].isdigit():
            raise bad_request(message)


def _acls(call: Call) -> dict[str, Any]:
    """ACL changes in the request: set by ``X-Container-Read``, cleared by ``X-Remove-…``."""
    values: dict[str, Any] = {}
    for column, header in ACL_HEADERS.items():
        removal = "x-remove-" + header[2:]
        if header in call.headers:
            value = call.headers[header].strip()
            acl.parse(value, write=column == "write_acl")
            values[column] = value
        elif removal in call.headers:
            values[column] = ""
    return values


def _headers(call: Call, c: Container) -> dict[str, str]:
    meta = dict(c.meta)
    headers = {
        "X-Container-Object-Count": str(c.object_count),
        "X-Container-Bytes-Used": str(c.bytes_used),
        "X-Timestamp": swift_timestamp(c.created_at),
        "X-Put-Timestamp": swift_timestamp(c.updated_at),
        "Last-Modified": conditions.http_date(c.updated_at),
        "X-Storage-Policy": DEFAULT_POLICY,
        "Accept-Ranges": "bytes",
    }
    if call.grants(c).owner:
        if c.read_acl:
            headers["X-Container-Read"] = c.read_acl
        if c.write_acl:
            headers["X-Container-Write"] = c.write_acl
    else:
        for key in tempurl.KEY_NAMES:
            meta.pop(key, None)
    headers.update(metadata.meta_headers(meta, "container"))
    return headers
