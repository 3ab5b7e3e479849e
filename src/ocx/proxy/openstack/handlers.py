"""The proxy's Nova, Cinder and Glance handlers: a member at its landlord, zones, and what
no landlord holds alone (sent to the first landlord running the API: limits, quotas, schemas).
"""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response

from ocx.common import errors
from ocx.proxy.api.relay import Relay, Upload, has_body
from ocx.proxy.errors import Unreachable, described, unavailable
from ocx.proxy.openstack import find
from ocx.proxy.openstack.apis import Collection
from ocx.proxy.openstack.call import (
    READS,
    OsCall,
    changed,
    composed,
    note_version,
    remember_root,
    reply,
    root_of,
    send,
    send_or_503,
    sent_headers,
)
from ocx.proxy.openstack.merge import PROXY_EXTENSIONS, common_extensions, sum_limits
from ocx.proxy.tokens import Backend
from ocx.proxy.wire import parse_url

# Glance's image data is streamed both ways, never held whole.
STREAMED = "/file"


async def member(call: OsCall, collection: Collection, rid: str, rest: str) -> Response:
    found = await find.find(call, collection, rid)
    response = await _at(call, collection, found, rest)
    if response.status_code == 404 and found.cached and not rest.endswith(STREAMED):
        find.forget(call, collection, found.bare)
        fresh = await find.look(call, collection, found.bare)
        if fresh.landlord != found.landlord:
            response = await _at(call, collection, fresh, rest)
    if call.request.method == "DELETE" and not rest and response.status_code < 300:
        find.forget(call, collection, found.bare)
    return response


async def _at(call: OsCall, collection: Collection, found: find.Found, rest: str) -> Response:
    path = find.member_path(call, collection, found.bare) + rest
    if rest.endswith(STREAMED):
        return await _streamed(call, found.backend, path)
    body = await call.request.body() if has_body(call.request.headers) else None
    answer = await send_or_503(call, found.backend, call.request.method, path, body=body)
    return reply(call, found.backend, answer)


async def _streamed(call: OsCall, backend: Backend, path: str) -> Response:
    """Image data, relayed as it arrives (an upload streamed up, a download down)."""
    query = call.query
    url = parse_url(root_of(call.api, backend) + path + (f"?{query}" if query else ""))
    upload = None
    if call.request.method == "PUT" and has_body(call.request.headers):
        upload = Upload(call.request, call.svc.settings.read_timeout)
    sent = sent_headers(call)
    if upload is not None:
        sent += [(n, v) for n, v in call.request.headers.items() if n.lower() == "content-length"]
    body = None if upload is None else upload.chunks()
    if call.request.method not in READS:
        changed(call, backend.landlord)  # an image's data changes its status
    try:
        answer = await call.session.open(backend, call.request.method, url, sent, body)
    except Unreachable as exc:
        call.svc.pages.unreachable(backend.landlord)
        raise unavailable(exc.landlord, exc.reason) from exc
    if call.request.method not in READS:
        changed(call, backend.landlord)
    return Relay(answer, backend.landlord, head=call.request.method == "HEAD")


async def first_landlord(call: OsCall, path: str) -> Response:
    """A request no landlord answers alone: sent to the first landlord running the API."""
    for candidate in await call.session.candidates():
        try:
            backend = await call.session.backend(candidate.name)
        except errors.NotFound:
            continue
        body = await call.request.body() if has_body(call.request.headers) else None
        answer = await send_or_503(call, backend, call.request.method, path, body=body)
        return reply(call, backend, answer)
    raise errors.NotFound(f"None of your landlords runs a {call.api.name} service.")


async def zones(call: OsCall) -> Response:
    """Every landlord running the API is an availability zone (unavailable while it is down)."""

    async def up(backend: Backend) -> str:
        remember_root(call, backend)
        return backend.landlord

    results = await call.session.fan_out(up, "availability zones")
    info = [
        {"zoneName": c.name, "zoneState": {"available": True}, "hosts": None}
        for c, _ in sorted(results.answers, key=lambda a: a[0].rank)
    ]
    info += [
        {"zoneName": m.landlord, "zoneState": {"available": False}, "hosts": None}
        for m in results.missing
    ]
    return composed({"availabilityZoneInfo": info}, extra=results.missing_header)


async def summed_limits(call: OsCall) -> Response:
    """Block storage's limits in region ``ocx``: every landlord's, summed (what the customer
    may hold and holds across them; :func:`~ocx.proxy.openstack.merge.sum_limits`). One
    landlord's own limits said nothing of the others', and `limits show --absolute` showed
    home's room as the region's. Another project's limits (``project_id``, an admin asking)
    are a question for one landlord: the first, as before."""
    if "project_id" in call.request.query_params:
        return await first_landlord(call, call.request.url.path[len(call.api.prefix) :])

    async def absolute(backend: Backend) -> dict[str, Any]:
        answer = await send(call, backend, "GET", call.api.base + "/limits", query="")
        if answer.status_code != 200:
            raise Unreachable(backend.landlord, f"answered {answer.status_code}")
        found = json.loads(answer.content).get("limits", {}).get("absolute")
        if not isinstance(found, dict):
            raise ValueError("no absolute limits")
        note_version(call, answer)
        return found

    results = await call.session.fan_out(absolute, "limits")
    if results.missing and not results.answers:
        raise errors.ServiceUnavailable(
            f"No landlord's limits could be read: {described(results.missing)}."
        )
    answers = [found for _, found in sorted(results.answers, key=lambda a: a[0].rank)]
    doc = {"limits": {"rate": [], "absolute": sum_limits(answers)}}
    return composed(doc, extra=results.missing_header, call=call)


async def extensions(call: OsCall) -> Response:
    """Cinder's extension list in region ``ocx``: what every landlord lists, and what the proxy
    serves itself (availability zones). A landlord without the list (404) serves none of
    them, as far as anyone can tell."""

    async def listed(backend: Backend) -> list[dict[str, Any]]:
        answer = await send(call, backend, "GET", call.api.base + "/extensions", query="")
        if answer.status_code == 404:
            return []
        if answer.status_code != 200:
            raise Unreachable(backend.landlord, f"answered {answer.status_code}")
        found = json.loads(answer.content).get("extensions")
        if not isinstance(found, list):
            raise ValueError("no extension list")
        return [e for e in found if isinstance(e, dict)]

    results = await call.session.fan_out(listed, "extensions")
    if results.missing and not results.answers:
        raise errors.ServiceUnavailable(
            f"No landlord's extensions could be read: {described(results.missing)}."
        )
    answers = [found for _, found in sorted(results.answers, key=lambda a: a[0].rank)]
    doc = {"extensions": common_extensions(answers, PROXY_EXTENSIONS)}
    return composed(doc, extra=results.missing_header, call=call)
