"""Account requests: ``/v1/AUTH_<project_id>``."""

from __future__ import annotations

import time

from starlette.requests import Request
from starlette.responses import Response

from ocx.object import acl
from ocx.object.acl import Level
from ocx.object.api import bulk, listings
from ocx.object.api.context import Call, begin, reply, swift_timestamp
from ocx.swift import metadata, tempurl
from ocx.swift.faults import bad_request, not_allowed

QUOTAS = {"quota-bytes": "Invalid bytes quota.", "quota-count": "Invalid count quota."}


async def head(request: Request) -> Response:
    call = await begin(request)
    call.require(Level.READER)
    return reply(204, await _headers(call), content_type="text/plain; charset=utf-8")


async def get(request: Request) -> Response:
    call = await begin(request)
    call.require(Level.READER)
    query = listings.query(call, call.limits.account_listing_limit)
    items = await call.svc.store.list_containers(call.account, query)
    return listings.respond(call, items, "account", call.account, await _headers(call))


async def post(request: Request) -> Response:
    call = await begin(request)
    if "bulk-delete" in call.query:
        return await bulk.delete(call)
    call.require(Level.OWNER)
    updates = {**metadata.meta_updates(call.headers, "account"), **_quota_updates(call)}
    account = await call.svc.store.account(call.account)
    meta = metadata.merge_meta(account.meta if account else {}, updates)
    metadata.check_meta(meta, "account", call.limits)
    await call.svc.store.set_account_meta(call.account, meta)
    return reply(204, await _headers(call))


def _quota_updates(call: Call) -> dict[str, str]:
    """Account quota changes (``X-Account-Meta-Quota-Bytes``, ``X-Account-Quota-Bytes``,
    ``X-Account-Quota-Count`` and their ``X-Remove-`` forms): the reseller's alone (403 for
    the account's owner, as with Swift's account_quotas), each a whole number or empty."""
    found: dict[str, str] = {}
    for key in QUOTAS:
        for header in (f"x-account-meta-{key}", f"x-account-{key}"):
            if header in call.headers:
                found[key] = call.headers[header].strip()
            if f"x-remove-{header[2:]}" in call.headers:
                found[key] = ""
    if not found:
        return found
    if not call.reseller:
        raise acl.deny(call.principal)
    for key, value in found.items():
        if value and not value.isdigit():
            raise bad_request(QUOTAS[key])
    return found


async def delete(request: Request) -> Response:
    call = await begin(request)
    if "bulk-delete" in call.query:
        return await bulk.delete(call)
    raise not_allowed("HEAD, GET, POST")


async def put(request: Request) -> Response:
    call = await begin(request)
    if "extract-archive" in call.query:
        return await bulk.extract(call, None)
    raise not_allowed("HEAD, GET, POST")


async def _headers(call: Call) -> dict[str, str]:
    stats = await call.svc.store.account_stats(call.account)
    account = await call.svc.store.account(call.account)
    created = account.created_at if account else time.time()
    meta = dict(account.meta) if account else {}
    if call.level < Level.OWNER:
        for key in tempurl.KEY_NAMES:
            meta.pop(key, None)
    return {
        "X-Account-Container-Count": str(stats.containers),
        "X-Account-Object-Count": str(stats.objects),
        "X-Account-Bytes-Used": str(stats.bytes),
        "X-Timestamp": swift_timestamp(created),
        "X-Put-Timestamp": swift_timestamp(created),
        "X-Account-Storage-Policy-Policy-0-Container-Count": str(stats.containers),
        "X-Account-Storage-Policy-Policy-0-Object-Count": str(stats.objects),
        "X-Account-Storage-Policy-Policy-0-Bytes-Used": str(stats.bytes),
        "Accept-Ranges": "bytes",
        **metadata.meta_headers(meta, "account"),
    }
