"""Flavors: sizes of servers, with extra specs the scheduler reads and per-project access."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ocx.common import errors
from ocx.common.auth import Principal
from ocx.common.db import Database
from ocx.compute import access
from ocx.compute.models import Flavor, FlavorAccess
from ocx.compute.settings import FlavorConfig

_SORT_COLUMN = {"flavorid": "id", "id": "id", "memory_mb": "ram", "root_gb": "disk",
                "ephemeral_gb": "ephemeral", "name": "name", "vcpus": "vcpus", "swap": "swap",
                "rxtx_factor": "rxtx_factor", "is_public": "is_public",
                "created_at": "created_at", "description": "description"}  # fmt: skip
_SPEC_KEY = re.compile(r"^[\w.:\- ]{1,255}$")
MAX_SPECS = 128


class Flavors:
    """Flavors in the database, and a copy of them all for booting.

    Every boot reads its flavor, so the copy saves a query per server. It is dropped whenever
    this service writes a flavor or an access entry; the compute service runs in one process
    (its scheduler's room is in memory too), so no other writer can leave it stale.
    """

    def __init__(self, db: Database):
        self.db = db
        self._known: dict[str, tuple[Flavor, frozenset[str]]] | None = None
        self._writes = 0

    async def seed(self, configs: Sequence[FlavorConfig]) -> None:
        """Make the configured flavors that do not exist yet (admins may change them after)."""
        async with self.db.session() as session:
            for c in configs:
                if await session.get(Flavor, c.id) is None:
                    session.add(
                        Flavor(id=c.id, name=c.name, vcpus=c.vcpus, ram=c.ram, disk=c.disk,
                               extra_specs=dict(c.extra_specs), created_at=time.time())
                    )  # fmt: skip
        self._known = None

    async def for_boot(self, who: Principal, flavor_id: str) -> Flavor:
        """The flavor ``who`` may boot, from the copy (404 as :meth:`get` answers)."""
        known = self._known
        if known is None:
            writes = self._writes
            known = await self._load()
            if writes == self._writes:  # no change landed while it was read
                self._known = known
        flavor, projects = known.get(flavor_id, (None, frozenset()))
        if flavor is None or not (flavor.is_public or who.is_admin or who.project_id in projects):
            raise errors.NotFound(f"Flavor {flavor_id} could not be found.")
        return flavor

    async def _load(self) -> dict[str, tuple[Flavor, frozenset[str]]]:
        async with self.db.session() as session:
            flavors = list(await session.scalars(select(Flavor)))
            rows = (
                await session.execute(select(FlavorAccess.flavor_id, FlavorAccess.project_id))
            ).all()
        shared: dict[str, set[str]] = {}
        for flavor_id, project in rows:
            shared.setdefault(flavor_id, set()).add(project)
        return {f.id: (f, frozenset(shared.get(f.id, ()))) for f in flavors}

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncSession]:
        """A session for a change: the boot copy is dropped whether it commits or not."""
        try:
            async with self.db.session() as session:
                yield session
        finally:
            self._known = None
            self._writes += 1

    async def get(self, who: Principal, flavor_id: str, session: Any = None) -> Flavor:
        if session is None:
            async with self.db.session() as own:
                return await self.get(who, flavor_id, own)
        flavor = await session.get(Flavor, flavor_id)
        if flavor is not None and not flavor.is_public and not who.is_admin:
            held = await session.get(FlavorAccess, (flavor_id, who.project_id or ""))
            flavor = flavor if held is not None else None
        if flavor is None:
            raise errors.NotFound(f"Flavor {flavor_id} could not be found.")
        return flavor

    async def search(
        self, who: Principal, params: dict[str, str], limit: int, marker: str | None
    ) -> list[Flavor]:
        query = select(Flavor)
        public = params.get("is_public", "true").lower()
        shared = select(FlavorAccess.flavor_id).where(
            FlavorAccess.project_id == (who.project_id or "")
        )
        if public in ("none", "") and who.is_admin:
            pass
        elif public in ("none", ""):
            query = query.where(Flavor.is_public.is_(True) | Flavor.id.in_(shared))
        elif public in ("false", "0", "no") and who.is_admin:
            query = query.where(Flavor.is_public.is_(False))
        elif public in ("false", "0", "no"):
            query = query.where(Flavor.is_public.is_(False), Flavor.id.in_(shared))
        else:
            query = query.where(Flavor.is_public.is_(True))
        for name, column in (("minRam", Flavor.ram), ("minDisk", Flavor.disk)):
            if name in params:
                query = query.where(column >= _int(name, params[name]))
        async with self.db.session() as session:
            found = list(await session.scalars(query))
        key = _SORT_COLUMN.get(params.get("sort_key", "flavorid"))
        if key is None:
            raise errors.BadRequest(f"Invalid sort_key {params['sort_key']!r}.")
        reverse = params.get("sort_dir", "asc") == "desc"
        found.sort(
            key=lambda f: (getattr(f, key) is None, getattr(f, key) or 0, f.id), reverse=reverse
        )
        if marker is not None:
            ids = [f.id for f in found]
            if marker not in ids:
                raise errors.BadRequest(f"marker [{marker}] not found")
            found = found[ids.index(marker) + 1 :]
        return found[:limit]

    async def create(self, who: Principal, doc: dict[str, Any]) -> Flavor:
        access.require_admin(who, "os_compute_api:os-flavor-manage:create")
        flavor = Flavor(
            id=_flavor_id(doc.get("id")),
            name=_name(doc.get("name")),
            vcpus=_positive(doc, "vcpus", minimum=1),
            ram=_positive(doc, "ram", minimum=1),
            disk=_positive(doc, "disk"),
            ephemeral=_positive(doc, "OS-FLV-EXT-DATA:ephemeral"),
            swap=_positive(doc, "swap"),
            rxtx_factor=float(doc.get("rxtx_factor") or 1.0),
            is_public=_bool(doc.get("os-flavor-access:is_public", True)),
            description=_description(doc.get("description")),
            extra_specs={},
            created_at=time.time(),
        )
        try:
            async with self._write() as session:
                session.add(flavor)
        except IntegrityError as exc:
            raise errors.Conflict(
                f"Flavor with name {flavor.name} or ID {flavor.id} already exists."
            ) from exc
        return flavor

    async def update(self, who: Principal, flavor_id: str, description: Any) -> Flavor:
        access.require_admin(who, "os_compute_api:os-flavor-manage:update")
        async with self._write() as session:
            flavor = await self._exists(session, flavor_id)
            flavor.description = _description(description)
        return flavor

    async def delete(self, who: Principal, flavor_id: str) -> None:
        access.require_admin(who, "os_compute_api:os-flavor-manage:delete")
        async with self._write() as session:
            await session.delete(await self._exists(session, flavor_id))

    async def _exists(self, session: Any, flavor_id: str) -> Flavor:
        flavor = await session.get(Flavor, flavor_id)
        if flavor is None:
            raise errors.NotFound(f"Flavor {flavor_id} could not be found.")
        return flavor

    async def set_specs(self, who: Principal, flavor_id: str, specs: Any) -> dict[str, str]:
        access.require_admin(who, "os_compute_api:os-flavor-extra-specs:create")
        if not isinstance(specs, dict) or not specs:
            raise errors.BadRequest("extra_specs must be a non-empty object of strings.")
        checked = {_spec_key(k): _spec_value(k, v) for k, v in specs.items()}
        async with self._write() as session:
            flavor = await self._exists(session, flavor_id)
            merged = {**flavor.extra_specs, **checked}
            if len(merged) > MAX_SPECS:
                raise errors.RequestEntityTooLarge(f"A flavor has at most {MAX_SPECS} extra specs.")
            flavor.extra_specs = merged
        return checked

    async def unset_spec(self, who: Principal, flavor_id: str, key: str) -> None:
        access.require_admin(who, "os_compute_api:os-flavor-extra-specs:delete")
        async with self._write() as session:
            flavor = await self._exists(session, flavor_id)
            if key not in flavor.extra_specs:
                raise errors.NotFound(f"Flavor {flavor_id} has no extra specs with key {key}.")
            flavor.extra_specs = {k: v for k, v in flavor.extra_specs.items() if k != key}

    async def projects(self, who: Principal, flavor_id: str) -> list[str]:
        access.require_admin(who, "os_compute_api:os-flavor-access")
        async with self.db.session() as session:
            flavor = await self._exists(session, flavor_id)
            if flavor.is_public:
                raise errors.NotFound("Access list not available for public flavors.")
            rows = await session.scalars(
                select(FlavorAccess.project_id).where(FlavorAccess.flavor_id == flavor_id)
            )
            return sorted(rows)

    async def grant(self, who: Principal, flavor_id: str, project: Any, add: bool) -> list[str]:
        access.require_admin(who, "os_compute_api:os-flavor-access")
        if not isinstance(project, str) or not project:
            raise errors.BadRequest("tenant must be a project id.")
        async with self._write() as session:
            flavor = await self._exists(session, flavor_id)
            if flavor.is_public:
                raise errors.Conflict("Can not add access to a public flavor.")
            held = await session.get(FlavorAccess, (flavor_id, project))
            if add and held is not None:
                raise errors.Conflict(
                    f"Flavor access already exists for flavor {flavor_id} and project {project}."
                )
            if not add and held is None:
                raise errors.NotFound(f"Flavor access not found for {flavor_id} / {project}.")
            if add:
                session.add(FlavorAccess(flavor_id=flavor_id, project_id=project))
            else:
                await session.execute(
                    delete(FlavorAccess).where(
                        FlavorAccess.flavor_id == flavor_id, FlavorAccess.project_id == project
                    )
                )
        return await self.projects(who, flavor_id)


def _flavor_id(value: Any) -> str:
    if value is None or value == "auto":
        return str(uuid.uuid4())
    if not isinstance(value, str) or not re.fullmatch(r"[\w.\- ]{1,255}", value):
        raise errors.BadRequest(f"Invalid flavor id {value!r}.")
    return value


def _name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 255:
        raise errors.BadRequest("Invalid input for field/attribute name: 1 to 255 characters.")
    return value.strip()


def _positive(doc: dict[str, Any], name: str, minimum: int = 0) -> int:
    value = doc.get(name, 0 if minimum == 0 else None)
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if value is None and minimum == 0:
        value = 0
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= 2**31 - 1:
        raise errors.BadRequest(
            f"Invalid input for field/attribute {name}: must be an integer >= {minimum}."
        )
    return value


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise errors.BadRequest("os-flavor-access:is_public must be a boolean.")


def _description(value: Any) -> str | None:
    if value is not None and (not isinstance(value, str) or len(value) > 65535):
        raise errors.BadRequest("description must be a string of at most 65535 characters.")
    return value


def _spec_key(key: Any) -> str:
    if not isinstance(key, str) or not _SPEC_KEY.match(key):
        raise errors.BadRequest(f"Invalid extra spec key {key!r}.")
    return key


def _spec_value(key: str, value: Any) -> str:
    if isinstance(value, bool):
        value = str(value).lower()
    if isinstance(value, int | float):
        value = str(value)
    if not isinstance(value, str) or len(value) > 255:
        raise errors.BadRequest(f"Value of extra spec {key!r} must be a string of <= 255 chars.")
    return value


def _int(name: str, value: str) -> int:
    try:
        return int(value)
    except ValueError as exc:
        raise errors.BadRequest(f"Invalid {name} filter [{value}]") from exc
