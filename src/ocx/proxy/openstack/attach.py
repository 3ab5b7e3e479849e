"""``openstack server add volume S V`` / ``server remove volume S V`` through the proxy, with
S and V at different landlords.

The proxy does, on the customer's behalf, what ``ocx compute attach`` does: it asks S's
compute for its presenter key, asks V's landlord (with the customer's own token there, got by
the proxy's token translation) for a constrained delegation — that volume only, attach and
detach only, for that compute's key, a few minutes — and sends the attach to S's compute with
the OCX keys beside ``volumeId``. The proxy never holds a token that works at S for V: the
delegation is only usable with a proof signed by S's compute's key. A detach carries a fresh
delegation (``OCX-Delegation``) in case the one the compute kept has expired.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ocx.common import errors
from ocx.proxy.openstack import delegate, find
from ocx.proxy.openstack.apis import COMPUTE, VOLUME
from ocx.proxy.openstack.call import OsCall, changed, reply, send_or_503, sent_headers
from ocx.proxy.tokens import Backend

SERVERS = COMPUTE.collection("servers")
VOLUMES = VOLUME.collection("volumes")


async def _where(call: OsCall, server_id: str, volume_id: str) -> tuple[find.Found, find.Found]:
    assert SERVERS is not None and VOLUMES is not None
    server = await find.find(call, SERVERS, server_id)
    volumes = OsCall(call.request, call.svc, VOLUME, call.session_for(VOLUME))
    volume = await find.find(volumes, VOLUMES, volume_id)
    return server, volume


async def add(call: OsCall) -> Response:
    params = call.request.path_params
    doc = await call.body()
    wanted = doc.get("volumeAttachment")
    if not isinstance(wanted, dict) or not isinstance(wanted.get("volumeId"), str):
        raise errors.BadRequest("Invalid input: volumeAttachment.volumeId is required.")
    server, volume = await _where(call, params["server_id"], wanted["volumeId"])
    if server.landlord != volume.landlord:
        grant = await _delegation(call, server.backend, volume.backend, wanted["volumeId"])
        wanted.update(
            {
                "ocx:landlord": volume.landlord,
                "ocx:volume_url": _cinder(volume.backend),
                "ocx:delegation": grant,
            }
        )
    path = find.member_path(call, _servers(), server.bare) + "/os-volume_attachments"
    body = json.dumps(doc).encode()
    try:
        answer = await send_or_503(call, server.backend, "POST", path, body=body)
    finally:
        changed(call, volume.landlord)  # the compute changed the volume there
    return reply(call, server.backend, answer)


async def remove(call: OsCall) -> Response:
    params = call.request.path_params
    server, volume = await _where(call, params["server_id"], params["volume_id"])
    headers = sent_headers(call)
    if server.landlord != volume.landlord:
        grant = await _delegation(call, server.backend, volume.backend, params["volume_id"])
        headers.append(("OCX-Delegation", grant))
    path = find.member_path(call, _servers(), server.bare)
    path += f"/os-volume_attachments/{params['volume_id']}"
    try:
        answer = await send_or_503(call, server.backend, "DELETE", path, headers=headers)
    finally:
        changed(call, volume.landlord)
    return reply(call, server.backend, answer)


def _servers() -> Any:
    assert SERVERS is not None
    return SERVERS


def _cinder(backend: Backend) -> str:
    url = backend.url(VOLUME.catalog_type)
    if url is None:
        raise errors.NotFound(f"{backend.landlord} runs no block storage.")
    return url


async def _delegation(call: OsCall, server: Backend, volume: Backend, volume_id: str) -> str:
    """A delegation from the volume's landlord for the server's compute, for this volume."""
    return await delegate.grant(call, server, volume, {"volume_id": volume_id})


def routes(base: str, on: Callable[..., Route]) -> list[BaseRoute]:
    server = base + "/servers/{server_id}/os-volume_attachments"
    return [on(server, add, "POST"), on(server + "/{volume_id}", remove, "DELETE")]
