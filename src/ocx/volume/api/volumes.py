"""Volumes over HTTP: parse, call :mod:`ocx.volume.volumes`, render Cinder's views."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ocx.common import errors
from ocx.volume import query, views, volumes
from ocx.volume.api.bodies import MetadataDoc, MetaItemDoc, VolumeCreateDoc, VolumeUpdateDoc
from ocx.volume.api.context import Call, Ctx, Query
from ocx.volume.models import Volume, VolumeType

router = APIRouter()


async def render(call: Call, session: AsyncSession, rows: list[Volume]) -> list[dict[str, Any]]:
    type_ids = {r.type_id for r in rows}
    found = await session.scalars(select(VolumeType).where(VolumeType.id.in_(type_ids)))
    by_id = {t.id: t for t in found}
    out = []
    for row in rows:
        attached = await volumes.attachments_of(session, row.id)
        out.append(
            views.volume_detail(
                call.base,
                row,
                by_id.get(row.type_id),
                attached,
                call.version,
                admin=call.caller.is_admin,
                host=call.svc.settings.landlord,
            )
        )
    return out


async def one(call: Call, volume_id: str) -> dict[str, Any]:
    async with call.svc.db.session() as session:
        row = await volumes.load(session, call.caller, volume_id)
        return {"volume": (await render(call, session, [row]))[0]}


async def _list(call: Call, params: dict[str, str], detail: bool) -> dict[str, Any]:
    listing = query.Listing.parse(params, "volume", call.version)
    async with call.svc.db.session() as session:
        base = query.filtered(Volume, query.scoped(Volume, call.caller, listing), listing.filters)
        rows, more = await query.page(session, Volume, base, listing)
        doc: dict[str, Any] = {
            "volumes": await render(call, session, rows)
            if detail
            else [views.volume_summary(call.base, r) for r in rows]
        }
        if more:
            path = "volumes/detail" if detail else "volumes"
            doc["volumes_links"] = views.next_links(call.base, path, params, rows[-1].id)
        if listing.with_count:
            doc["count"] = await query.count(session, Volume, base)
        return doc


@router.get("/volumes")
async def index(call: Ctx, params: Query) -> dict[str, Any]:
    return await _list(call, params, detail=False)


@router.get("/volumes/detail")
async def detail(call: Ctx, params: Query) -> dict[str, Any]:
    return await _list(call, params, detail=True)


@router.post("/volumes", status_code=202)
async def create(call: Ctx, doc: VolumeCreateDoc) -> dict[str, Any]:
    row = await volumes.create(call.svc, call.caller, doc.volume.values())
    return await one(call, row.id)


@router.get("/volumes/{volume_id}")
async def show(call: Ctx, volume_id: str) -> dict[str, Any]:
    return await one(call, volume_id)


@router.put("/volumes/{volume_id}")
async def update(call: Ctx, volume_id: str, doc: VolumeUpdateDoc) -> dict[str, Any]:
    given = doc.volume.given()
    if "display_name" in given:
        given.setdefault("name", given.pop("display_name"))
    if "display_description" in given:
        given.setdefault("description", given.pop("display_description"))
    if not given:
        raise errors.BadRequest("Invalid input received: nothing to update.")
    await volumes.update_fields(call.svc, call.caller, volume_id, given)
    return await one(call, volume_id)


@router.delete("/volumes/{volume_id}", status_code=202)
async def delete(call: Ctx, volume_id: str, params: Query) -> Response:
    await volumes.delete(
        call.svc,
        call.caller,
        volume_id,
        cascade=query._true(params.get("cascade")),
        force=query._true(params.get("force")) and call.version >= (3, 23),
    )
    return Response(status_code=202)


@router.get("/volumes/{volume_id}/metadata")
async def metadata(call: Ctx, volume_id: str) -> dict[str, Any]:
    async with call.svc.db.session() as session:
        row = await volumes.load(session, call.caller, volume_id)
        return {"metadata": dict(row.meta)}


@router.post("/volumes/{volume_id}/metadata")
async def merge_metadata(call: Ctx, volume_id: str, doc: MetadataDoc) -> dict[str, Any]:
    meta = await volumes.set_metadata(call.svc, call.caller, volume_id, doc.metadata, replace=False)
    return {"metadata": meta}


@router.put("/volumes/{volume_id}/metadata")
async def replace_metadata(call: Ctx, volume_id: str, doc: MetadataDoc) -> dict[str, Any]:
    meta = await volumes.set_metadata(call.svc, call.caller, volume_id, doc.metadata, replace=True)
    return {"metadata": meta}


@router.get("/volumes/{volume_id}/metadata/{key}")
async def metadata_item(call: Ctx, volume_id: str, key: str) -> dict[str, Any]:
    async with call.svc.db.session() as session:
        row = await volumes.load(session, call.caller, volume_id)
    if key not in row.meta:
        raise errors.NotFound(f"Metadata item was not found for key {key}.")
    return {"meta": {key: row.meta[key]}}


@router.put("/volumes/{volume_id}/metadata/{key}")
async def put_metadata_item(
    call: Ctx, volume_id: str, key: str, doc: MetaItemDoc
) -> dict[str, Any]:
    if list(doc.meta) != [key]:
        raise errors.BadRequest("Request body and URI mismatch")
    await volumes.set_metadata(call.svc, call.caller, volume_id, doc.meta, replace=False)
    return {"meta": doc.meta}


@router.delete("/volumes/{volume_id}/metadata/{key}")
async def delete_metadata_item(call: Ctx, volume_id: str, key: str) -> Response:
    await volumes.delete_metadata(call.svc, call.caller, volume_id, key)
    return Response(status_code=200)


@router.post("/volumes/{volume_id}/action", status_code=202)
async def action(call: Ctx, volume_id: str, body: Any = Body(None)) -> Response:
    if not isinstance(body, dict) or len(body) != 1:
        raise errors.BadRequest("Invalid input received: an action body has exactly one key.")
    name, args = next(iter(body.items()))
    await run_action(call, volume_id, name, args)
    return Response(status_code=202)


def _arg(args: Any, key: str) -> Any:
    if not isinstance(args, dict) or key not in args:
        raise errors.BadRequest(f"Invalid input received: '{key}' is a required property")
    return args[key]


async def run_action(call: Call, volume_id: str, name: str, args: Any) -> None:
    svc, caller = call.svc, call.caller
    if name == "os-extend":
        await volumes.extend(
            svc, caller, volume_id, _arg(args, "new_size"), in_use_ok=call.version >= (3, 42)
        )
    elif name in volumes.TRANSITIONS:
        await volumes.transition(svc, caller, volume_id, name)
    elif name == "os-set_bootable":
        await volumes.set_flag(svc, caller, volume_id, "bootable", _arg(args, "bootable"))
    elif name == "os-update_readonly_flag":
        await volumes.set_flag(svc, caller, volume_id, "read_only", _arg(args, "readonly"))
    elif name == "os-reset_status":
        await volumes.reset_status(svc, caller, volume_id, _arg(args, "status"))
    elif name == "os-force_delete":
        await volumes.delete(svc, caller, volume_id, cascade=True, force=True)
    else:
        raise errors.BadRequest(f"There is no such action: {name}")
