"""``os-volume_attachments``: attach a volume to a server, list, show and detach."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response

from ocx.common import delegation, errors
from ocx.compute import views
from ocx.compute.api.deps import Caller, Service, Ver, body


async def index(server_id: str, svc: Service, who: Caller, v: Ver) -> dict[str, Any]:
    found = await svc.attacher.list(who, server_id)
    return {"volumeAttachments": [views.attachment(a, v) for a in found]}


async def show(server_id: str, volume_id: str, svc: Service, who: Caller, v: Ver) -> dict[str, Any]:
    return {
        "volumeAttachment": views.attachment(await svc.attacher.find(who, server_id, volume_id), v)
    }


async def create(
    request: Request, server_id: str, svc: Service, who: Caller, v: Ver
) -> dict[str, Any]:
    doc = await body(request)
    if not isinstance(doc, dict) or not isinstance(doc.get("volumeAttachment"), dict):
        raise errors.BadRequest('Invalid input: the body must be {"volumeAttachment": {...}}.')
    args = doc["volumeAttachment"]
    volume_id = args.get("volumeId")
    if not isinstance(volume_id, str) or not volume_id:
        raise errors.BadRequest("Invalid input for field/attribute volumeId.")
    tag = args.get("tag")
    if tag is not None and (not v.at_least("2.49") or not isinstance(tag, str) or len(tag) > 60):
        raise errors.BadRequest("Invalid input for field/attribute tag.")
    keep = args.get("delete_on_termination", False)
    if "delete_on_termination" in args and (not v.at_least("2.79") or not isinstance(keep, bool)):
        raise errors.BadRequest("Invalid input for field/attribute delete_on_termination.")
    device = args.get("device")
    if device is not None and not isinstance(device, str):
        raise errors.BadRequest("Invalid input for field/attribute device.")
    token = request.headers.get("x-auth-token", "")
    row = await svc.attacher.attach(
        who,
        server_id,
        volume_id,
        svc.other_volumes(args) or svc.own_volumes(volume_id, token),
        device=device,
        tag=tag,
        delete_on_termination=keep,
    )
    return {"volumeAttachment": views.attachment(row, v)}


async def delete(
    request: Request, server_id: str, volume_id: str, svc: Service, who: Caller
) -> Response:
    token = request.headers.get("x-auth-token", "")
    fresh = request.headers.get("ocx-delegation")
    await svc.attacher.detach(who, server_id, volume_id, token, fresh)
    return Response(status_code=202)


async def presenter(svc: Service) -> dict[str, Any]:
    """The public key another landlord's delegation must name for this compute (no token)."""
    return {
        "presenter": {
            "landlord": svc.settings.landlord,
            "jwk": delegation.public_jwk(svc.attacher.presenter.public_key()),
        }
    }
