"""Snapshots over HTTP."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from ocx.common import errors
from ocx.volume import query, snapshots, views
from ocx.volume.api.bodies import MetadataDoc, SnapshotCreateDoc, SnapshotUpdateDoc
from ocx.volume.api.context import Call, Ctx, Query
from ocx.volume.models import Snapshot

router = APIRouter()


def _summary(call: Call, row: Snapshot) -> dict[str, Any]:
    return views.snapshot(row, call.version)


async def one(call: Call, snapshot_id: str) -> dict[str, Any]:
    async with call.svc.db.session() as session:
        row = await snapshots.load(session, call.caller, snapshot_id)
    return {"snapshot": views.snapshot(row, call.version)}


async def _list(call: Call, params: dict[str, str], detail: bool) -> dict[str, Any]:
    listing = query.Listing.parse(params, "snapshot", call.version)
    async with call.svc.db.session() as session:
        base = query.filtered(
            Snapshot, query.scoped(Snapshot, call.caller, listing), listing.filters
        )
        rows, more = await query.page(session, Snapshot, base, listing)
        doc: dict[str, Any] = {"snapshots": [views.snapshot(r, call.version) for r in rows]}
        if more:
            path = "snapshots/detail" if detail else "snapshots"
            doc["snapshots_links"] = views.next_links(call.base, path, params, rows[-1].id)
        if listing.with_count:
            doc["count"] = await query.count(session, Snapshot, base)
    return doc


@router.get("/snapshots")
async def index(call: Ctx, params: Query) -> dict[str, Any]:
    return await _list(call, params, detail=False)


@router.get("/snapshots/detail")
async def detail(call: Ctx, params: Query) -> dict[str, Any]:
    return await _list(call, params, detail=True)


@router.post("/snapshots", status_code=202)
async def create(call: Ctx, doc: SnapshotCreateDoc) -> dict[str, Any]:
    body = doc.snapshot.given()
    body["name"] = doc.snapshot.name if doc.snapshot.name is not None else doc.snapshot.display_name
    body["description"] = doc.snapshot.description or doc.snapshot.display_description
    row = await snapshots.create(call.svc, call.caller, body)
    return {"snapshot": views.snapshot(row, call.version)}


@router.get("/snapshots/{snapshot_id}")
async def show(call: Ctx, snapshot_id: str) -> dict[str, Any]:
    return await one(call, snapshot_id)


@router.put("/snapshots/{snapshot_id}")
async def update(call: Ctx, snapshot_id: str, doc: SnapshotUpdateDoc) -> dict[str, Any]:
    given = doc.snapshot.given()
    if "display_name" in given:
        given.setdefault("name", given.pop("display_name"))
    if "display_description" in given:
        given.setdefault("description", given.pop("display_description"))
    if not given:
        raise errors.BadRequest("Invalid input received: nothing to update.")
    await snapshots.update_fields(call.svc, call.caller, snapshot_id, given)
    return await one(call, snapshot_id)


@router.delete("/snapshots/{snapshot_id}", status_code=202)
async def delete(call: Ctx, snapshot_id: str) -> Response:
    await snapshots.delete(call.svc, call.caller, snapshot_id)
    return Response(status_code=202)


@router.get("/snapshots/{snapshot_id}/metadata")
async def metadata(call: Ctx, snapshot_id: str) -> dict[str, Any]:
    async with call.svc.db.session() as session:
        row = await snapshots.load(session, call.caller, snapshot_id)
        return {"metadata": dict(row.meta)}


@router.post("/snapshots/{snapshot_id}/metadata")
async def merge_metadata(call: Ctx, snapshot_id: str, doc: MetadataDoc) -> dict[str, Any]:
    meta = await snapshots.set_metadata(
        call.svc, call.caller, snapshot_id, doc.metadata, replace=False
    )
    return {"metadata": meta}


@router.put("/snapshots/{snapshot_id}/metadata")
async def replace_metadata(call: Ctx, snapshot_id: str, doc: MetadataDoc) -> dict[str, Any]:
    meta = await snapshots.set_metadata(
        call.svc, call.caller, snapshot_id, doc.metadata, replace=True
    )
    return {"metadata": meta}


@router.delete("/snapshots/{snapshot_id}/metadata/{key}")
async def delete_metadata_item(call: Ctx, snapshot_id: str, key: str) -> Response:
    await snapshots.delete_metadata(call.svc, call.caller, snapshot_id, key)
    return Response(status_code=200)
