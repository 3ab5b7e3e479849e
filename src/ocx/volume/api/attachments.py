"""The attachments API (3.27+) over HTTP."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Response

from ocx.common import errors
from ocx.volume import attachments, query, views
from ocx.volume.api.bodies import AttachmentCreateDoc, AttachmentUpdateDoc
from ocx.volume.api.context import Call, Ctx, Query
from ocx.volume.faults import VersionNotAcceptable

router = APIRouter()


def _need(call: Call, minimum: tuple[int, int]) -> None:
    """Cinder answers 404 for a resource below its microversion."""
    if call.version < minimum:
        raise errors.NotFound("The resource could not be found.")


async def one(call: Call, attachment_id: str) -> dict[str, Any]:
    async with call.svc.db.session() as session:
        row = await attachments.load(session, call.caller, attachment_id)
    return {"attachment": views.attachment_detail(row, call.host)}


async def _list(call: Call, params: dict[str, str], detail: bool) -> dict[str, Any]:
    _need(call, (3, 27))
    filters = {k: v for k, v in params.items() if k not in query.CONTROL}
    async with call.svc.db.session() as session:
        rows = await attachments.listing(
            session, call.caller, filters, query._true(params.get("all_tenants"))
        )
    render = (
        (lambda r: views.attachment_detail(r, call.host)) if detail else views.attachment_summary
    )
    return {"attachments": [render(r) for r in rows]}


@router.get("/attachments")
async def index(call: Ctx, params: Query) -> dict[str, Any]:
    return await _list(call, params, detail=False)


@router.get("/attachments/detail")
async def detail(call: Ctx, params: Query) -> dict[str, Any]:
    return await _list(call, params, detail=True)


@router.post("/attachments")
async def create(call: Ctx, doc: AttachmentCreateDoc) -> dict[str, Any]:
    _need(call, (3, 27))
    if doc.attachment.mode is not None and call.version < (3, 54):
        raise errors.BadRequest("Invalid input received: mode needs microversion 3.54.")
    row = await attachments.create(call.svc, call.caller, doc.attachment.values())
    return {"attachment": views.attachment_detail(row, call.host)}


@router.get("/attachments/{attachment_id}")
async def show(call: Ctx, attachment_id: str) -> dict[str, Any]:
    _need(call, (3, 27))
    return await one(call, attachment_id)


@router.put("/attachments/{attachment_id}")
async def update(call: Ctx, attachment_id: str, doc: AttachmentUpdateDoc) -> dict[str, Any]:
    _need(call, (3, 27))
    row = await attachments.connect(call.svc, call.caller, attachment_id, doc.attachment.connector)
    return {"attachment": views.attachment_detail(row, call.host)}


@router.delete("/attachments/{attachment_id}")
async def delete(call: Ctx, attachment_id: str) -> dict[str, Any]:
    _need(call, (3, 27))
    await attachments.delete(call.svc, call.caller, attachment_id)
    return {"attachments": []}


@router.post("/attachments/{attachment_id}/action", status_code=204)
async def action(call: Ctx, attachment_id: str, body: Any = Body(None)) -> Response:
    _need(call, (3, 27))
    if not isinstance(body, dict) or list(body) != ["os-complete"]:
        raise errors.BadRequest(
            "Invalid input received: the only attachment action is os-complete."
        )
    if call.version < (3, 44):
        raise VersionNotAcceptable("os-complete needs microversion 3.44 or later.")
    await attachments.complete(call.svc, call.caller, attachment_id)
    return Response(status_code=204)
