"""Writes that carry data: PUT (streamed, chunked or not), static large object manifests,
and copies (``PUT`` with ``X-Copy-From``, and ``COPY`` with ``Destination``)."""

from __future__ import annotations

import json
import mimetypes
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from ocx.common import errors
from ocx.object import conditions, dlo, slo
from ocx.object.api import bulk
from ocx.object.api.context import Call, body, read_small, reply, swift_timestamp
from ocx.object.api.objects import target
from ocx.object.models import Container, Object
from ocx.object.storage import TooLarge, Written
from ocx.swift import metadata, names
from ocx.swift.faults import bad_request, fault, not_found, precondition

CREATED = b""


async def put(request: Request) -> Response:
    call, container, name = await target(request, "write")
    if "x-copy-from" in call.headers:
        return await _copy_from(call, container, name)
    if call.query.get("multipart-manifest") == "put":
        return await _put_manifest(call, container, name)
    if "extract-archive" in call.query:
        return await bulk.extract(call, container.name, name.strip("/") + "/")
    exclusive = conditions.put_if_none_match(call.headers)
    row = _row(call, name)
    length = _length(call)
    await _precheck(call, container, name, exclusive, length)
    written = await _receive(call, length)
    _check_etag(call, written.md5, written)
    row.update(size=written.size, etag=written.md5, created_at=time.time())
    await call.svc.commit(container, written, row, exclusive=exclusive)
    return _created(written.md5, row["created_at"])


def _row(call: Call, name: str) -> dict[str, Any]:
    """The object's columns that come from the request's headers."""
    meta = metadata.object_meta({}, call.headers)
    metadata.check_meta(meta, "object", call.limits)
    row: dict[str, Any] = {
        "name": name,
        "content_type": _content_type(call, name),
        "meta": meta,
        "headers": metadata.object_headers(call.headers),
        "delete_at": metadata.delete_at(call.headers),
        "kind": "",
        "manifest": None,
    }
    if "x-object-manifest" in call.headers:
        dlo.parse(call.headers["x-object-manifest"])
        row.update(kind="dlo", manifest=call.headers["x-object-manifest"].strip())
    return row


def _content_type(call: Call, name: str) -> str:
    given = call.headers.get("content-type", "").strip()
    if given and not metadata.truthy(call.headers.get("x-detect-content-type")):
        return given
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def _length(call: Call) -> int | None:
    """The declared body size, None for chunked; 411 without either, 413 past the limit."""
    value = call.headers.get("content-length")
    if value is None:
        if "chunked" not in call.headers.get("transfer-encoding", "").lower():
            raise fault(errors.LengthRequired)
        return None
    if not value.isdigit():
        raise bad_request("Invalid Content-Length")
    if int(value) > call.limits.max_file_size:
        raise fault(errors.RequestEntityTooLarge, "Your request is too large.")
    return int(value)


async def _precheck(
    call: Call, container: Container, name: str, exclusive: bool, length: int | None
) -> None:
    """Fail early, before any byte is stored (the commit checks again, atomically)."""
    if exclusive and await call.svc.store.object(container.id, name) is not None:
        raise precondition()
    quota = container.meta.get("quota-bytes", "")
    if length is not None and quota.isdigit() and container.bytes_used + length > int(quota):
        raise fault(errors.RequestEntityTooLarge, "Upload exceeds quota.")
    await _account_quota(call, length or 0)


async def _account_quota(call: Call, length: int) -> None:
    """The account's quotas, set by the reseller: checked before the upload, as Swift's
    account_quotas middleware does (two concurrent uploads may together pass it)."""
    account = await call.svc.store.account(call.account)
    quota_bytes = account.meta.get("quota-bytes", "") if account else ""
    quota_count = account.meta.get("quota-count", "") if account else ""
    if not (quota_bytes.isdigit() or quota_count.isdigit()):
        return
    used = await call.svc.store.account_stats(call.account)
    over_bytes = quota_bytes.isdigit() and used.bytes + length > int(quota_bytes)
    over_count = quota_count.isdigit() and used.objects + 1 > int(quota_count)
    if over_bytes or over_count:
        raise fault(errors.RequestEntityTooLarge, "Upload exceeds quota.")


async def _receive(call: Call, length: int | None) -> Written:
    storage = call.svc.storage
    limit = call.limits.max_file_size if length is None else length
    try:
        written = await storage.write(body(call), limit)
    except TooLarge:
        raise fault(errors.RequestEntityTooLarge, "Your request is too large.") from None
    except ClientDisconnect:
        raise errors.ClientDisconnected() from None
    if length is not None and written.size != length:
        await storage.remove_all([written.file_id])
        raise errors.ClientDisconnected()
    return written


def _check_etag(call: Call, actual: str, written: Written | None = None) -> None:
    wanted = call.headers.get("etag")
    if wanted is not None and wanted.strip().strip('"').lower() != actual:
        if written is not None:
            call.svc.storage.remove(written.file_id)
        raise fault(errors.UnprocessableEntity)


def _created(etag: str, created_at: float, extra: dict[str, str] | None = None) -> Response:
    headers = {
        "ETag": etag,
        "Last-Modified": conditions.http_date(created_at),
        "X-Timestamp": swift_timestamp(created_at),
        **(extra or {}),
    }
    return reply(201, headers, CREATED)


async def _put_manifest(call: Call, container: Container, name: str) -> Response:
    wanted = slo.parse_put(await read_small(call, call.limits.slo_max_manifest_size), call.limits)
    stored = await slo.validate(wanted, call.svc.bodies.lookup(call.readable))
    etag = slo.etag(stored)
    _check_etag(call, etag)
    exclusive = conditions.put_if_none_match(call.headers)
    row = _row(call, name)
    written = await call.svc.storage.write_bytes(json.dumps(stored).encode())
    row.update(
        kind="slo", size=slo.total_size(stored), etag=etag, created_at=time.time(), manifest=None
    )
    await call.svc.commit(container, written, row, exclusive=exclusive)
    return _created(f'"{etag}"', row["created_at"])


@dataclass(frozen=True)
class Source:
    call: Call
    container: Container
    obj: Object


async def copy(request: Request) -> Response:
    """``COPY`` to ``Destination`` (and ``Destination-Account``)."""
    call, container, name = await target(request, "read")
    dest_container, dest_name = _container_and_object(
        call.headers.get("destination"), "Destination"
    )
    dest = call.for_account(call.headers.get("destination-account", call.account))
    names.check_object_name(dest_name, call.limits)
    into = await dest.container(dest_container, "write")
    source = Source(call, container, await _source_object(call, container, name))
    return await _copy(source, dest, into, dest_name)


async def _copy_from(call: Call, container: Container, name: str) -> Response:
    if call.headers.get("content-length", "0") != "0":
        raise bad_request("Copy requests require a zero byte body")
    src_container, src_name = _container_and_object(call.headers["x-copy-from"], "X-Copy-From")
    src = call.for_account(call.headers.get("x-copy-from-account", call.account))
    found = await src.container(src_container, "read")
    return await _copy(
        Source(src, found, await _source_object(src, found, src_name)), call, container, name
    )


def _container_and_object(value: str | None, header: str) -> tuple[str, str]:
    container, _, name = unquote(value or "").lstrip("/").partition("/")
    if not container or not name:
        raise precondition(f"{header} header must be of the form <container name>/<object name>")
    return container, name


async def _source_object(call: Call, container: Container, name: str) -> Object:
    obj = await call.svc.store.object(container.id, name)
    if obj is None:
        raise not_found()
    return obj


async def _copy(source: Source, dest: Call, container: Container, name: str) -> Response:
    obj = source.obj
    raw = dest.query.get("multipart-manifest") == "get" or obj.kind == ""
    written = await _copy_bytes(source, raw)
    try:
        row = _copied_row(source, dest, name, written, keep_kind=raw)
    except BaseException:
        await dest.svc.storage.remove_all([written.file_id])
        raise
    await dest.svc.commit(container, written, row)
    extra = {
        "X-Copied-From": quote(f"{source.container.name}/{obj.name}"),
        "X-Copied-From-Last-Modified": conditions.http_date(obj.created_at),
    }
    if source.call.account != dest.account:
        extra["X-Copied-From-Account"] = quote(source.call.account)
    # Swift echoes the new object's metadata, so the copier sees what it made.
    extra.update(metadata.meta_headers(row["meta"], "object"))
    if row["delete_at"] is not None:
        extra["X-Delete-At"] = str(int(row["delete_at"]))
    etag = f'"{row["etag"]}"' if row["kind"] == "slo" else row["etag"]
    return _created(etag, row["created_at"], extra)


async def _copy_bytes(source: Source, raw: bool) -> Written:
    """Files never change, so a whole-file copy is a hard link; large objects are joined."""
    storage = source.call.svc.storage
    obj = source.obj
    if raw:
        return Written(await storage.link(obj.file_id), obj.size, obj.etag)
    resolved = await source.call.svc.bodies.resolve(obj, source.call.readable)
    return await storage.write(storage.open(resolved.extents).chunks(), resolved.size)


def _copied_row(
    source: Source, dest: Call, name: str, written: Written, *, keep_kind: bool
) -> dict[str, Any]:
    obj = source.obj
    fresh = metadata.truthy(dest.headers.get("x-fresh-metadata"))
    meta = metadata.object_meta({} if fresh else obj.meta, dest.headers)
    metadata.check_meta(meta, "object", dest.limits)
    kind = obj.kind if keep_kind else ""
    return {
        "name": name,
        "content_type": dest.headers.get("content-type") or obj.content_type,
        "meta": meta,
        "headers": {**({} if fresh else obj.headers), **metadata.object_headers(dest.headers)},
        "delete_at": metadata.delete_at(dest.headers),
        "kind": kind,
        "manifest": obj.manifest if kind == "dlo" else None,
        "size": obj.size if kind == "slo" else written.size,
        "etag": obj.etag if kind else written.md5,
        "created_at": time.time(),
    }
