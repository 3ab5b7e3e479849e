"""Quota sets and absolute limits over HTTP."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from sqlalchemy import select

from ocx.common import errors
from ocx.volume import quotas, views
from ocx.volume.api.bodies import QuotaUpdateDoc
from ocx.volume.api.context import Call, Ctx, Query
from ocx.volume.models import VolumeType
from ocx.volume.query import _true

router = APIRouter()


def _may_read(call: Call, project_id: str) -> None:
    if not call.caller.sees(project_id):
        raise errors.Forbidden("Policy doesn't allow volume_extension:quotas:show to be performed.")


async def _doc(call: Call, project_id: str, *, usage: bool) -> dict[str, Any]:
    async with call.svc.db.session() as session:
        names = list(await session.scalars(select(VolumeType.name)))
        limits = await quotas.limits(session, project_id, call.svc.settings.quotas, names)
        used = await quotas.usage(session, project_id) if usage else None
    return {"quota_set": views.quota_set(project_id, limits, used)}


@router.get("/os-quota-sets/{project_id}")
async def show(call: Ctx, project_id: str, params: Query) -> dict[str, Any]:
    _may_read(call, project_id)
    return await _doc(call, project_id, usage=_true(params.get("usage")))


@router.get("/os-quota-sets/{project_id}/defaults")
async def defaults(call: Ctx, project_id: str) -> dict[str, Any]:
    _may_read(call, project_id)
    async with call.svc.db.session() as session:
        names = list(await session.scalars(select(VolumeType.name)))
        limits = await quotas.limits(session, "\0none", call.svc.settings.quotas, names)
    return {"quota_set": views.quota_set(project_id, limits, None)}


@router.put("/os-quota-sets/{project_id}")
async def update(call: Ctx, project_id: str, doc: QuotaUpdateDoc) -> dict[str, Any]:
    if not call.caller.is_admin:
        raise errors.Forbidden(
            "Policy doesn't allow volume_extension:quotas:update to be performed."
        )
    async with call.svc.db.session() as session:
        names = list(await session.scalars(select(VolumeType.name)))
        known = await quotas.limits(session, project_id, call.svc.settings.quotas, names)
        asked = {k: v for k, v in doc.quota_set.items() if k not in ("id", "tenant_id")}
        unknown = sorted(set(asked) - set(known))
        if unknown:
            raise errors.BadRequest(f"Bad key(s) in quota set: {', '.join(unknown)}")
        await quotas.set_limits(session, project_id, {k: _int(k, v) for k, v in asked.items()})
    return await _doc(call, project_id, usage=False)


@router.delete("/os-quota-sets/{project_id}")
async def reset(call: Ctx, project_id: str) -> Response:
    if not call.caller.is_admin:
        raise errors.Forbidden(
            "Policy doesn't allow volume_extension:quotas:delete to be performed."
        )
    async with call.svc.db.session() as session:
        await quotas.reset(session, project_id)
    return Response(status_code=200)


@router.get("/limits")
async def limits(call: Ctx, params: Query) -> dict[str, Any]:
    project_id = params.get("project_id") or call.caller.project_id
    _may_read(call, project_id)
    async with call.svc.db.session() as session:
        found = await quotas.limits(session, project_id, call.svc.settings.quotas, [])
        used = await quotas.usage(session, project_id)
    return {"limits": {"rate": [], "absolute": views.absolute_limits(found, used)}}


def _int(key: str, value: object) -> int:
    try:
        return int(str(value))
    except ValueError as exc:
        raise errors.BadRequest(f"Quota limit {value!r} for {key} must be an integer.") from exc
