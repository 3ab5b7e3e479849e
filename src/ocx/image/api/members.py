"""Image members: the projects a shared image is offered to, and their answers."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response

from ocx.common import errors
from ocx.image import views
from ocx.image.api.deps import Caller, Service, json_body


async def index(image_id: str, svc: Service, who: Caller) -> dict[str, Any]:
    found = await svc.store.members(who, image_id)
    return {"members": [views.member(m) for m in found], "schema": "/v2/schemas/members"}


async def show(image_id: str, member_id: str, svc: Service, who: Caller) -> dict[str, Any]:
    return views.member(await svc.store.member(who, image_id, member_id))


async def create(request: Request, image_id: str, svc: Service, who: Caller) -> dict[str, Any]:
    doc = await json_body(request)
    if not isinstance(doc, dict) or "member" not in doc:
        raise errors.BadRequest('Add a member with {"member": "<project id>"}.')
    return views.member(await svc.store.add_member(who, image_id, doc["member"]))


async def update(
    request: Request, image_id: str, member_id: str, svc: Service, who: Caller
) -> dict[str, Any]:
    doc = await json_body(request)
    if not isinstance(doc, dict) or "status" not in doc:
        raise errors.BadRequest('Answer with {"status": "accepted" | "rejected" | "pending"}.')
    member = await svc.store.set_member_status(who, image_id, member_id, doc["status"])
    return views.member(member)


async def delete(image_id: str, member_id: str, svc: Service, who: Caller) -> Response:
    await svc.store.remove_member(who, image_id, member_id)
    return Response(status_code=204)
