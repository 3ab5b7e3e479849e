"""Per-project compute quotas: defaults from settings, overrides by admins, usage from rows."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ocx.common import errors
from ocx.common.db import Database
from ocx.compute.models import Keypair, QuotaLimit, Server

# What OSC reads at the SDK's microversion (<= 2.56 still shows injected_*).
SHOWN = (
    "cores", "instances", "key_pairs", "metadata_items", "ram", "server_groups",
    "server_group_members", "injected_files", "injected_file_content_bytes",
    "injected_file_path_bytes",
)  # fmt: skip
INJECTED = ("injected_files", "injected_file_content_bytes", "injected_file_path_bytes")


class Quotas:
    """Limits (defaults and admins' overrides) and what each project's servers use.

    Booting checks the quota of every server, so both are also kept in memory: the overrides
    of each project asked for (dropped when this service writes one), and the servers' use,
    counted at start from the rows and then moved with every boot and delete. The compute
    service runs in one process, so these counts are the rows'; checking and claiming happen
    with no ``await`` between them, so two requests never both take the last room.
    """

    def __init__(self, db: Database, defaults: dict[str, int]):
        self.db = db
        self.defaults = defaults
        self._limits: dict[str, dict[str, int]] = {}
        self._writes = 0
        self.servers_use: dict[str, dict[str, int]] = {}

    async def cached_limits(self, project_id: str) -> dict[str, int]:
        """:meth:`limits`, read once per project until an override changes."""
        found = self._limits.get(project_id)
        if found is None:
            writes = self._writes
            found = await self.limits(project_id)
            if writes == self._writes:
                self._limits[project_id] = found
        return found

    def servers_used(self, project_id: str) -> dict[str, int]:
        return self.servers_use.get(project_id, {"instances": 0, "cores": 0, "ram": 0})

    def count(self, project_id: str, servers: int, cores: int, ram: int) -> None:
        """Move a project's counted use by this many servers, cores and MiB (negative: freed)."""
        used = self.servers_use.setdefault(project_id, {"instances": 0, "cores": 0, "ram": 0})
        used["instances"] += servers
        used["cores"] += cores
        used["ram"] += ram

    async def limits(self, project_id: str, session: AsyncSession | None = None) -> dict[str, int]:
        if session is None:
            async with self.db.session() as own:
                return await self.limits(project_id, own)
        rows = await session.scalars(select(QuotaLimit).where(QuotaLimit.project_id == project_id))
        return {**self.defaults, **{r.resource: r.hard_limit for r in rows}}

    async def usage(
        self, project_id: str, user_id: str | None = None, session: AsyncSession | None = None
    ) -> dict[str, int]:
        if session is None:
            async with self.db.session() as own:
                return await self.usage(project_id, user_id, own)
        count, cores, ram = (
            await session.execute(
                select(
                    func.count(Server.id),
                    func.coalesce(func.sum(Server.vcpus), 0),
                    func.coalesce(func.sum(Server.ram), 0),
                ).where(Server.project_id == project_id)
            )
        ).one()
        pairs: int | None = 0
        if user_id is not None:
            pairs = await session.scalar(
                select(func.count(Keypair.id)).where(Keypair.user_id == user_id)
            )
        return {"instances": int(count), "cores": int(cores), "ram": int(ram),
                "key_pairs": int(pairs or 0)}  # fmt: skip

    async def update(self, project_id: str, changes: Any) -> None:
        if not isinstance(changes, dict):
            raise errors.BadRequest("quota_set must be an object.")
        checked: dict[str, int] = {}
        for key, value in changes.items():
            if key in ("force", "id"):
                continue
            if key not in self.defaults:
                raise errors.BadRequest(f"Additional properties are not allowed ('{key}').")
            if isinstance(value, bool) or not isinstance(value, int) or value < -1:
                raise errors.BadRequest(f"Quota limit {value!r} for {key} must be >= -1.")
            checked[key] = value
        try:
            async with self.db.session() as session:
                for key, value in checked.items():
                    row = await session.get(QuotaLimit, (project_id, key))
                    if row is None:
                        session.add(
                            QuotaLimit(project_id=project_id, resource=key, hard_limit=value)
                        )
                    else:
                        row.hard_limit = value
        finally:
            self._limits.pop(project_id, None)
            self._writes += 1


def allowed(
    limits: dict[str, int], used: dict[str, int], per_server: dict[str, int], wanted: int
) -> int:
    """How many of ``wanted`` servers fit the project's quota."""
    fits = wanted
    for resource, each in per_server.items():
        limit = limits.get(resource, -1)
        if limit >= 0 and each > 0:
            fits = min(fits, max(0, (limit - used[resource]) // each))
    return fits


def refusal(
    limits: dict[str, int], used: dict[str, int], per_server: dict[str, int], wanted: int
) -> str:
    """Nova's message for the first resource ``wanted`` servers would exceed."""
    for resource, each in per_server.items():
        limit = limits.get(resource, -1)
        if 0 <= limit < used[resource] + each * wanted:
            return (
                f"Quota exceeded for {resource}: Requested {each * wanted}, but already "
                f"used {used[resource]} of {limit} {resource}"
            )
    return "Quota exceeded"
