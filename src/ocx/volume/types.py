"""Volume types: public or private with access lists, and their extra specs."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ocx.common import errors
from ocx.volume.caller import Caller, new_id, now
from ocx.volume.faults import type_not_found
from ocx.volume.models import TypeAccess, Volume, VolumeType
from ocx.volume.settings import TypeSeed

DEFAULT_TYPE = "__DEFAULT__"


def _admin(caller: Caller) -> None:
    if not caller.is_admin:
        raise errors.Forbidden(
            "Policy doesn't allow volume_extension:types_manage to be performed."
        )


async def seed(session: AsyncSession, seeds: tuple[TypeSeed, ...]) -> None:
    """Make sure the default type and the landlord's offered types exist."""
    wanted = (TypeSeed(name=DEFAULT_TYPE, description="Default Volume Type"), *seeds)
    for item in wanted:
        if await session.scalar(select(VolumeType).where(VolumeType.name == item.name)) is None:
            session.add(
                VolumeType(
                    id=new_id(),
                    name=item.name,
                    description=item.description,
                    is_public=True,
                    extra_specs=dict(item.extra_specs),
                    created_at=now(),
                )
            )


def _visible(caller: Caller) -> Any:
    if caller.is_admin:
        return True
    granted = select(TypeAccess.type_id).where(TypeAccess.project_id == caller.project_id)
    return or_(VolumeType.is_public.is_(True), VolumeType.id.in_(granted))


async def find(session: AsyncSession, caller: Caller, name_or_id: str | None) -> VolumeType:
    """The type a request names (by id or name), or the default type."""
    wanted = name_or_id or DEFAULT_TYPE
    query = select(VolumeType).where(or_(VolumeType.id == wanted, VolumeType.name == wanted))
    found = await session.scalar(query.where(_visible(caller)))
    if found is None:
        raise type_not_found(wanted)
    return found


async def listing(session: AsyncSession, caller: Caller, is_public: str | None) -> list[VolumeType]:
    query = select(VolumeType).where(_visible(caller)).order_by(VolumeType.name)
    if caller.is_admin and is_public is not None and is_public.lower() != "none":
        query = query.where(VolumeType.is_public.is_(is_public.lower() in ("true", "1", "yes")))
    return list(await session.scalars(query))


async def create(session: AsyncSession, caller: Caller, body: dict[str, Any]) -> VolumeType:
    _admin(caller)
    name = body["name"]
    if await session.scalar(select(VolumeType).where(VolumeType.name == name)) is not None:
        raise errors.Conflict(f"Volume Type {name} already exists.")
    row = VolumeType(
        id=new_id(),
        name=name,
        description=body.get("description"),
        is_public=body.get("is_public", True),
        extra_specs=dict(body.get("extra_specs") or {}),
        created_at=now(),
    )
    session.add(row)
    await session.flush()
    return row


async def update(
    session: AsyncSession, caller: Caller, type_id: str, body: dict[str, Any]
) -> VolumeType:
    _admin(caller)
    row = await find(session, caller, type_id)
    if body.get("name") is not None and body["name"] != row.name:
        if row.name == DEFAULT_TYPE:
            raise errors.BadRequest("The default volume type cannot be renamed.")
        clash = await session.scalar(select(VolumeType).where(VolumeType.name == body["name"]))
        if clash is not None:
            raise errors.Conflict(f"Volume Type {body['name']} already exists.")
        row.name = body["name"]
    if "description" in body and body["description"] is not None:
        row.description = body["description"]
    if body.get("is_public") is not None:
        row.is_public = body["is_public"]
    return row


async def delete(session: AsyncSession, caller: Caller, type_id: str) -> None:
    _admin(caller)
    row = await find(session, caller, type_id)
    if row.name == DEFAULT_TYPE:
        raise errors.BadRequest("Default volume type can not be deleted.")
    used = await session.scalar(select(func.count(Volume.id)).where(Volume.type_id == row.id))
    if used:
        raise errors.BadRequest(f"Target volume type {row.id} is still in use.")
    await session.delete(row)


async def set_specs(
    session: AsyncSession, caller: Caller, type_id: str, specs: dict[str, str]
) -> dict[str, Any]:
    _admin(caller)
    row = await find(session, caller, type_id)
    row.extra_specs = {**row.extra_specs, **specs}
    return row.extra_specs


async def delete_spec(session: AsyncSession, caller: Caller, type_id: str, key: str) -> None:
    _admin(caller)
    row = await find(session, caller, type_id)
    if key not in row.extra_specs:
        raise errors.NotFound(f"Volume Type {row.id} has no extra specs with key {key}.")
    row.extra_specs = {k: v for k, v in row.extra_specs.items() if k != key}


async def access(session: AsyncSession, caller: Caller, type_id: str) -> list[str]:
    _admin(caller)
    row = await find(session, caller, type_id)
    if row.is_public:
        raise errors.NotFound("Access list not available for public volume types.")
    query = select(TypeAccess.project_id).where(TypeAccess.type_id == row.id)
    return sorted(await session.scalars(query))


async def grant(
    session: AsyncSession, caller: Caller, type_id: str, project_id: str, allow: bool
) -> None:
    _admin(caller)
    row = await find(session, caller, type_id)
    if row.is_public:
        raise errors.BadRequest(
            "Invalid volume type: Type access modification is not applicable to public volume type."
        )
    existing = await session.get(TypeAccess, (row.id, project_id))
    if allow and existing is not None:
        raise errors.Conflict(
            f"Volume type access for {row.id} / {project_id} combination already exists."
        )
    if not allow and existing is None:
        raise errors.NotFound(
            f"Volume type access not found for {row.id} / {project_id} combination."
        )
    if allow:
        session.add(TypeAccess(type_id=row.id, project_id=project_id))
    else:
        await session.delete(existing)


def multiattach(row: VolumeType) -> bool:
    return str(row.extra_specs.get("multiattach", "")).strip().lower() in ("<is> true", "true")
