"""Volume types, their extra specs and access lists over HTTP."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Response

from ocx.common import errors
from ocx.volume import types, views
from ocx.volume.api.bodies import ExtraSpecsDoc, TypeCreateDoc, TypeUpdateDoc
from ocx.volume.api.context import Ctx, Query

router = APIRouter()


@router.get("/types")
async def index(call: Ctx, params: Query) -> dict[str, Any]:
    async with call.svc.db.session() as session:
        rows = await types.listing(session, call.caller, params.get("is_public"))
    return {"volume_types": [views.volume_type(r, admin=call.caller.is_admin) for r in rows]}


@router.post("/types")
async def create(call: Ctx, doc: TypeCreateDoc) -> dict[str, Any]:
    body = doc.volume_type.model_dump()
    body["is_public"] = True if doc.volume_type.is_public is None else doc.volume_type.is_public
    async with call.svc.db.session() as session:
        row = await types.create(session, call.caller, body)
        return {"volume_type": views.volume_type(row, admin=True)}


@router.get("/types/default")
async def default(call: Ctx) -> dict[str, Any]:
    async with call.svc.db.session() as session:
        row = await types.find(session, call.caller, None)
        return {"volume_type": views.volume_type(row, admin=call.caller.is_admin)}


@router.get("/types/{type_id}")
async def show(call: Ctx, type_id: str) -> dict[str, Any]:
    async with call.svc.db.session() as session:
        row = await types.find(session, call.caller, type_id)
        return {"volume_type": views.volume_type(row, admin=call.caller.is_admin)}


@router.put("/types/{type_id}")
async def update(call: Ctx, type_id: str, doc: TypeUpdateDoc) -> dict[str, Any]:
    async with call.svc.db.session() as session:
        row = await types.update(session, call.caller, type_id, doc.volume_type.given())
        return {"volume_type": views.volume_type(row, admin=True)}


@router.delete("/types/{type_id}", status_code=202)
async def delete(call: Ctx, type_id: str) -> Response:
    async with call.svc.db.session() as session:
        await types.delete(session, call.caller, type_id)
    return Response(status_code=202)


@router.get("/types/{type_id}/extra_specs")
async def specs(call: Ctx, type_id: str) -> dict[str, Any]:
    async with call.svc.db.session() as session:
        row = await types.find(session, call.caller, type_id)
        return {"extra_specs": dict(row.extra_specs) if call.caller.is_admin else {}}


@router.post("/types/{type_id}/extra_specs")
async def set_specs(call: Ctx, type_id: str, doc: ExtraSpecsDoc) -> dict[str, Any]:
    async with call.svc.db.session() as session:
        await types.set_specs(session, call.caller, type_id, doc.extra_specs)
    return {"extra_specs": doc.extra_specs}


@router.get("/types/{type_id}/extra_specs/{key}")
async def spec(call: Ctx, type_id: str, key: str) -> dict[str, Any]:
    async with call.svc.db.session() as session:
        row = await types.find(session, call.caller, type_id)
    if not call.caller.is_admin or key not in row.extra_specs:
        raise errors.NotFound(f"Volume Type {row.id} has no extra specs with key {key}.")
    return {key: row.extra_specs[key]}


@router.put("/types/{type_id}/extra_specs/{key}")
async def put_spec(call: Ctx, type_id: str, key: str, body: Any = Body(None)) -> dict[str, Any]:
    if not isinstance(body, dict) or list(body) != [key] or not isinstance(body[key], str):
        raise errors.BadRequest("Request body and URI mismatch")
    async with call.svc.db.session() as session:
        await types.set_specs(session, call.caller, type_id, body)
    return dict(body)


@router.delete("/types/{type_id}/extra_specs/{key}", status_code=202)
async def delete_spec(call: Ctx, type_id: str, key: str) -> Response:
    async with call.svc.db.session() as session:
        await types.delete_spec(session, call.caller, type_id, key)
    return Response(status_code=202)


@router.get("/types/{type_id}/os-volume-type-access")
async def access(call: Ctx, type_id: str) -> dict[str, Any]:
    async with call.svc.db.session() as session:
        projects = await types.access(session, call.caller, type_id)
    return {
        "volume_type_access": [
            {"volume_type_id": type_id, "project_id": project} for project in projects
        ]
    }


@router.post("/types/{type_id}/action", status_code=202)
async def action(call: Ctx, type_id: str, body: Any = Body(None)) -> Response:
    if not isinstance(body, dict) or len(body) != 1:
        raise errors.BadRequest("Invalid input received: an action body has exactly one key.")
    name, args = next(iter(body.items()))
    if name not in ("addProjectAccess", "removeProjectAccess"):
        raise errors.BadRequest(f"There is no such action: {name}")
    if not isinstance(args, dict) or not isinstance(args.get("project"), str):
        raise errors.BadRequest("Invalid input received: 'project' is a required property")
    async with call.svc.db.session() as session:
        await types.grant(
            session, call.caller, type_id, args["project"], allow=name == "addProjectAccess"
        )
    return Response(status_code=202)
