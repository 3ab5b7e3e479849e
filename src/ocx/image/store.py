"""Image records: create, find, list, change and delete, with Glance's policy applied.

Everything here takes the verified caller, so handlers only parse, call and render.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from sqlalchemy import and_, delete, false, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ocx.common import errors
from ocx.common.auth import Principal
from ocx.common.db import Database
from ocx.image import access, listing, patch, wire
from ocx.image.files import HASH_ALGO, Written
from ocx.image.listing import Query
from ocx.image.models import Image, Member


class ImageStore:
    def __init__(self, db: Database, scan_max: int = 100_000):
        self.db = db
        self.scan_max = scan_max

    async def create(self, who: Principal, doc: dict[str, Any]) -> Image:
        core, extra = wire.split_create(doc)
        project = access.project_of(who)
        visibility = core.get("visibility", "shared")
        access.require_visibility_allowed(who, visibility)
        now = time.time()
        image = Image(
            id=core.get("id") or str(uuid.uuid4()),
            name=core.get("name"),
            owner=project,
            status="queued",
            visibility=visibility,
            protected=core.get("protected", False),
            os_hidden=core.get("os_hidden", False),
            disk_format=core.get("disk_format"),
            container_format=core.get("container_format"),
            min_disk=core.get("min_disk", 0),
            min_ram=core.get("min_ram", 0),
            tags=core.get("tags", []),
            properties=extra,
            created_at=now,
            updated_at=now,
        )
        try:
            async with self.db.session() as session:
                session.add(image)
        except IntegrityError as exc:
            raise errors.Conflict(f"An image with identifier {image.id} already exists.") from exc
        return image

    async def get(self, who: Principal, image_id: str) -> Image:
        async with self.db.session() as session:
            return await self._visible(session, who, image_id)

    async def _visible(self, session: AsyncSession, who: Principal, image_id: str) -> Image:
        image = await session.get(Image, image_id)
        member = None
        if image is not None and who.project_id is not None:
            member = await session.get(Member, (image_id, who.project_id))
        if image is None or not access.can_see(who, image, member):
            raise errors.NotFound(f"No image found with ID {image_id}")
        return image

    async def _owned(
        self, session: AsyncSession, who: Principal, image_id: str, action: str
    ) -> Image:
        image = await self._visible(session, who, image_id)
        access.require_owner(who, image, action)
        return image

    async def search(self, who: Principal, q: Query) -> tuple[list[Image], bool]:
        stmt = select(Image).where(*self._conditions(who, q)).limit(self.scan_max)
        async with self.db.session() as session:
            rows = list(await session.scalars(stmt))
        kept = listing.ordered([i for i in rows if listing.keep(i, q)], q)
        return listing.page(kept, q)

    def _conditions(self, who: Principal, q: Query) -> list[Any]:
        conds: list[Any] = [Image.os_hidden.is_(q.os_hidden)]
        for name, value in q.equal.items():
            if name != "visibility":
                conds.append(getattr(Image, name) == value)
        for name, values in q.within.items():
            conds.append(getattr(Image, name).in_(values))
        if q.protected is not None:
            conds.append(Image.protected.is_(q.protected))
        if q.size_min is not None:
            conds.append(Image.size >= q.size_min)
        if q.size_max is not None:
            conds.append(Image.size <= q.size_max)
        if q.visibility not in (None, "all"):
            conds.append(Image.visibility == q.visibility)
        conds.append(self._visibility(who, q))
        return conds

    def _visibility(self, who: Principal, q: Query) -> Any:
        project = who.project_id or ""
        members = select(Member.image_id).where(Member.member_id == project)
        if q.member_status != "all":
            members = members.where(Member.status == q.member_status)
        shared = and_(Image.visibility == "shared", Image.id.in_(members))
        mine = Image.owner == project
        community = Image.visibility == "community" if q.visibility == "community" else false()
        if who.is_admin:
            return or_(Image.visibility != "community", mine, community)
        return or_(Image.visibility == "public", mine, shared, community)

    async def update(self, who: Principal, image_id: str, ops: Any) -> Image:
        async with self.db.session() as session:
            image = await self._owned(session, who, image_id, "modify")
            current = {**image.properties, **{k: getattr(image, k) for k in wire.WRITABLE}}
            changed = patch.apply(current, ops)
            for name in wire.WRITABLE:
                value = wire.check_core(name, changed.pop(name))
                if name == "visibility" and value != image.visibility:
                    access.require_visibility_allowed(who, value)
                setattr(image, name, value)
            image.properties = wire.check_properties(changed)
            image.updated_at = time.time()
        return image

    async def delete(self, who: Principal, image_id: str) -> None:
        async with self.db.session() as session:
            image = await self._owned(session, who, image_id, "delete")
            if image.protected:
                raise errors.Forbidden(f"Image {image_id} is protected and cannot be deleted.")
            await session.delete(image)

    async def set_tag(self, who: Principal, image_id: str, tag: str, add: bool) -> None:
        async with self.db.session() as session:
            image = await self._owned(session, who, image_id, "modify")
            tags = list(image.tags)
            if add:
                image.tags = wire.check_tags([*tags, wire.check_tag(tag)])
            elif tag in tags:
                image.tags = [t for t in tags if t != tag]
            else:
                raise errors.NotFound(f"Tag {tag} not found on image {image_id}.")
            image.updated_at = time.time()

    async def set_active(self, who: Principal, image_id: str, active: bool) -> None:
        """Deactivate or reactivate (admin or owner)."""
        async with self.db.session() as session:
            image = await self._owned(session, who, image_id, "change the status of")
            allowed = ("deactivated", "active") if active else ("active", "deactivated")
            if image.status not in allowed:
                raise errors.Conflict(f"Image status transition from {image.status} not allowed.")
            image.status = "active" if active else "deactivated"
            image.updated_at = time.time()

    # Uploads: queued -> saving (one uploader wins) -> active, or back to queued on failure.

    async def begin_upload(self, who: Principal, image_id: str) -> Image:
        async with self.db.session() as session:
            image = await self._owned(session, who, image_id, "upload data to")
            if image.disk_format is None or image.container_format is None:
                raise errors.BadRequest(
                    "Properties disk_format and container_format must be set before upload."
                )
            won = await session.execute(
                update(Image)
                .where(Image.id == image_id, Image.status == "queued")
                .values(status="saving", updated_at=time.time())
            )
            if won.rowcount != 1:  # type: ignore[attr-defined]
                raise errors.Conflict(
                    f"Image {image_id} is {image.status}: data can only be uploaded once."
                )
        return image

    async def finish_upload(self, image_id: str, written: Written | None) -> None:
        values: dict[str, Any] = {"status": "queued", "updated_at": time.time()}
        if written is not None:
            values.update(
                status="active",
                size=written.size,
                virtual_size=written.size,
                checksum=written.md5,
                os_hash_algo=HASH_ALGO,
                os_hash_value=written.sha512,
            )
        async with self.db.session() as session:
            await session.execute(
                update(Image).where(Image.id == image_id, Image.status == "saving").values(values)
            )

    async def readable(self, who: Principal, image_id: str) -> Image:
        image = await self.get(who, image_id)
        if image.status == "deactivated" and not who.is_admin:
            raise errors.Forbidden("The requested image has been deactivated.")
        return image

    # Members.

    async def members(self, who: Principal, image_id: str) -> list[Member]:
        async with self.db.session() as session:
            image = await self._shared(session, who, image_id)
            stmt = select(Member).where(Member.image_id == image.id).order_by(Member.member_id)
            found = list(await session.scalars(stmt))
        if who.is_admin or image.owner == who.project_id:
            return found
        return [m for m in found if m.member_id == who.project_id]

    async def member(self, who: Principal, image_id: str, member_id: str) -> Member:
        for member in await self.members(who, image_id):
            if member.member_id == member_id:
                return member
        raise errors.NotFound(f"{member_id} is not a member of image {image_id}.")

    async def add_member(self, who: Principal, image_id: str, member_id: Any) -> Member:
        if not isinstance(member_id, str) or not 0 < len(member_id) <= 255:
            raise errors.BadRequest("member must be a project id (a string).")
        now = time.time()
        async with self.db.session() as session:
            image = await self._shared(session, who, image_id)
            access.require_owner(who, image, "share")
            if await session.get(Member, (image_id, member_id)) is not None:
                raise errors.Conflict(f"{member_id} is already a member of image {image_id}.")
            member = Member(
                image_id=image_id, member_id=member_id, status="pending", created_at=now,
                updated_at=now,
            )  # fmt: skip
            session.add(member)
        return member

    async def set_member_status(
        self, who: Principal, image_id: str, member_id: str, status: Any
    ) -> Member:
        if status not in wire.MEMBER_STATUSES:
            raise errors.BadRequest(
                f"Invalid status {status!r}: {', '.join(wire.MEMBER_STATUSES)}."
            )
        async with self.db.session() as session:
            await self._shared(session, who, image_id)
            member = await session.get(Member, (image_id, member_id))
            if member is None:
                raise errors.NotFound(f"{member_id} is not a member of image {image_id}.")
            if member_id != who.project_id:
                raise errors.Forbidden("Only the member itself may accept or reject an image.")
            member.status = status
            member.updated_at = time.time()
        return member

    async def remove_member(self, who: Principal, image_id: str, member_id: str) -> None:
        async with self.db.session() as session:
            image = await self._shared(session, who, image_id)
            access.require_owner(who, image, "stop sharing")
            gone = await session.execute(
                delete(Member).where(Member.image_id == image_id, Member.member_id == member_id)
            )
            if gone.rowcount != 1:  # type: ignore[attr-defined]
                raise errors.NotFound(f"{member_id} is not a member of image {image_id}.")

    async def _shared(self, session: AsyncSession, who: Principal, image_id: str) -> Image:
        image = await self._visible(session, who, image_id)
        if image.visibility != "shared":
            raise errors.Forbidden(
                f"Only shared images have members; image {image_id} is {image.visibility}."
            )
        return image
