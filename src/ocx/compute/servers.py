"""Servers: create one or many, find, list, change, act on and delete them.

Every function takes the verified caller, so handlers only parse, call and render. The
scheduler claims room before rows are written and gives it back if writing fails.
"""

from __future__ import annotations

import ipaddress
import re
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from ocx.common import errors
from ocx.common.auth import Principal
from ocx.common.db import Database
from ocx.compute import access, boot, quotas, states, views
from ocx.compute.batch import GroupInsert
from ocx.compute.boot import BootRequest
from ocx.compute.flavors import Flavors
from ocx.compute.hypervisor import Hypervisor
from ocx.compute.keypairs import Keypairs
from ocx.compute.models import DeletedServer, Flavor, Server, VolumeAttachment
from ocx.compute.scheduler import NO_VALID_HOST, Need, Placement

ADDRESS_POOL = ipaddress.IPv4Address("100.64.0.0")
SORT_KEYS = {
    "created_at": "seq", "display_name": "name", "name": "name", "updated_at": "updated_at",
    "uuid": "id", "vm_state": "vm_state", "task_state": "task_state", "launched_at": "launched_at",
    "host": "host", "availability_zone": "availability_zone", "key_name": "key_name",
    "project_id": "project_id",
}  # fmt: skip
# Filters and sorts done in Python (regexes, JSON columns); a listing without them is paged by
# the database.
IN_PYTHON = ("name", "flavor", "ip", "tags", "tags-any", "not-tags", "not-tags-any",
             "sort_key", "sort_dir")  # fmt: skip


@dataclass
class Created:
    first: Server
    reservation_id: str
    admin_pass: str


class Servers:
    def __init__(
        self,
        db: Database,
        flavors: Flavors,
        keypairs: Keypairs,
        quota_store: quotas.Quotas,
        placement: Placement,
        hypervisor: Hypervisor,
        zones: tuple[str, ...],
        scan_max: int = 100_000,
    ):
        self.db = db
        self.flavors = flavors
        self.keypairs = keypairs
        self.quotas = quota_store
        self.placement = placement
        self.hypervisor = hypervisor
        self.zones = zones
        self.scan_max = scan_max
        self.writer = GroupInsert(db, Server)
        self._seq = 0

    async def load(self) -> None:
        """Count what the hosts and projects already carry, and where numbering continues."""
        async with self.db.session() as session:
            self._seq = int(await session.scalar(select(func.max(Server.seq))) or 0)
            rows = await session.execute(
                select(Server.host, Server.flavor, Server.project_id, Server.vcpus, Server.ram)
            )
            for host, flavor, project, vcpus, ram in rows.all():
                self.placement.occupy(host, Need.of(flavor))
                self.quotas.count(project, 1, vcpus, ram)

    async def create(
        self, who: Principal, req: BootRequest, image: dict[str, Any] | None
    ) -> Created:
        """Check, place and write the servers of one request (its rows in one transaction).

        Everything read before the claim is read first (flavor, keypair, limits: mostly from
        memory); the quota and the hosts' room are then checked and claimed with no ``await``
        in between, and given back if the rows cannot be written.
        """
        project = access.project_of(who)
        zone = (req.availability_zone or "nova").split(":")[0]
        if zone not in self.zones:
            raise errors.BadRequest("The requested availability zone is not available")
        flavor = await self._flavor(who, req, image)
        limits = await self.quotas.cached_limits(project)
        if 0 <= limits["metadata_items"] < len(req.metadata):
            raise errors.Forbidden("Quota exceeded for metadata_items")
        snapshot = views.flavor_snapshot(flavor)
        need = Need.of(snapshot)
        count = self._admit(project, limits, need, req)
        claimed: list[str | None] = list(self.placement.place(need, count))
        if len(claimed) < count:  # Nova schedules a request as a whole
            self._release(claimed, need)
            claimed = []
        hosts: list[str | None] = claimed if claimed else [None] * count
        rows = self._rows(who, req, image, snapshot, hosts, zone)
        try:
            await self.writer.insert(rows)
        except Exception:
            self._release(claimed, need)
            self.quotas.count(project, -count, -count * need.vcpus, -count * need.ram)
            raise
        building = [r["id"] for r in rows if r["host"] is not None]
        self.hypervisor.schedule(building, states.ACTIONS["boot"])
        return Created(Server(**rows[0]), rows[0]["reservation_id"], secrets.token_urlsafe(9))

    async def seed(self, who: Principal, req: BootRequest, count: int) -> list[str]:
        """``count`` servers of ``who`` that are already running: a fleet brought in whole (a
        benchmark's million, ``bench/scale.py``). Placed and counted as created servers are,
        then written with one ``executemany`` in one transaction and ACTIVE at once: no boot,
        no guest, no console log. Quotas are not checked (the fleet exists); room on the
        hosts is (409 when it does not fit). Their ids."""
        snapshot = views.flavor_snapshot(await self._flavor(who, req, None))
        need = Need.of(snapshot)
        hosts: list[str | None] = list(self.placement.place(need, count))
        if len(hosts) < count:
            self._release(hosts, need)
            raise errors.Conflict(NO_VALID_HOST)
        rows = self._rows(who, req, None, snapshot, hosts, "nova")
        now = time.time()
        for row in rows:
            row.update(vm_state="active", task_state=None, power_state=states.RUNNING,
                       launched_at=now)  # fmt: skip
        try:
            async with self.db.session() as session:
                await session.execute(insert(Server), rows)
        except Exception:
            self._release(hosts, need)
            raise
        self.quotas.count(access.project_of(who), count, count * need.vcpus, count * need.ram)
        return [row["id"] for row in rows]

    def _admit(self, project: str, limits: dict[str, int], need: Need, req: BootRequest) -> int:
        """How many servers the quota allows (403 below ``min_count``), counted as used."""
        used = self.quotas.servers_used(project)
        per_server = {"instances": 1, "cores": need.vcpus, "ram": need.ram}
        count = quotas.allowed(limits, used, per_server, req.max_count)
        if count < req.min_count:
            raise errors.Forbidden(quotas.refusal(limits, used, per_server, req.min_count))
        self.quotas.count(project, count, count * need.vcpus, count * need.ram)
        return count

    def _release(self, hosts: list[str | None], need: Need) -> None:
        for host in hosts:
            self.placement.release(host, need)

    async def _flavor(
        self, who: Principal, req: BootRequest, image: dict[str, Any] | None
    ) -> Flavor:
        try:
            flavor = await self.flavors.for_boot(who, req.flavor_ref)
        except errors.NotFound as exc:
            raise errors.BadRequest(f"Flavor {req.flavor_ref} could not be found.") from exc
        if image is not None and flavor.ram < int(image.get("min_ram") or 0):
            raise errors.BadRequest("Flavor's memory is too small for requested image.")
        if image is not None and flavor.disk and flavor.disk < int(image.get("min_disk") or 0):
            raise errors.BadRequest("Flavor's disk is too small for requested image.")
        if req.key_name is not None:
            try:
                await self.keypairs.get(who, req.key_name)
            except errors.NotFound as exc:
                raise errors.BadRequest("Invalid key_name provided.") from exc
        return flavor

    def _rows(
        self,
        who: Principal,
        req: BootRequest,
        image: dict[str, Any] | None,
        flavor: dict[str, Any],
        hosts: list[str | None],
        zone: str,
    ) -> list[dict[str, Any]]:
        now = time.time()
        reservation = "r-" + secrets.token_hex(4)
        image_properties = _image_properties(image)
        rows = []
        for index, host in enumerate(hosts):
            self._seq += 1
            failed = host is None
            rows.append(
                {
                    "id": str(uuid.uuid4()),
                    "seq": self._seq,
                    "name": _name(req, len(hosts), index),
                    "project_id": who.project_id,
                    "user_id": who.user_id,
                    "reservation_id": reservation,
                    "launch_index": index,
                    "image_id": req.image_ref,
                    "image_properties": image_properties,
                    "flavor": flavor,
                    "vcpus": flavor["vcpus"],
                    "ram": flavor["ram"],
                    "host": host,
                    "vm_state": "error" if failed else "building",
                    "task_state": None if failed else "spawning",
                    "power_state": states.NOSTATE,
                    "key_name": req.key_name,
                    "user_data": req.user_data,
                    "meta": req.metadata,
                    "tags": req.tags,
                    "description": req.description,
                    "addresses": _addresses(self._seq) if req.networks == "auto" else {},
                    "availability_zone": zone,
                    "locked_by": None,
                    "locked_reason": None,
                    "fault": _fault(now) if failed else None,
                    "scheduler_hints": req.scheduler_hints,
                    "created_at": now,
                    "updated_at": now,
                    "launched_at": None,
                }
            )
        return rows

    async def _get(self, server_id: str) -> Server:
        async with self.db.session() as session:
            found = await session.get(Server, server_id)
        if found is None:
            raise errors.NotFound(f"Instance {server_id} could not be found.")
        return found

    async def get(self, who: Principal, server_id: str) -> Server:
        async with self.db.session() as session:
            return await self._visible(session, who, server_id)

    async def _visible(self, session: AsyncSession, who: Principal, server_id: str) -> Server:
        found = await session.get(Server, server_id)
        if found is None or (not who.is_admin and found.project_id != who.project_id):
            raise errors.NotFound(f"Instance {server_id} could not be found.")
        return found

    async def attachments(self, server_ids: list[str]) -> dict[str, list[VolumeAttachment]]:
        found: dict[str, list[VolumeAttachment]] = {i: [] for i in server_ids}
        if not server_ids:
            return found
        async with self.db.session() as session:
            stmt = select(VolumeAttachment).where(VolumeAttachment.server_id.in_(server_ids))
            for a in await session.scalars(stmt):
                found[a.server_id].append(a)
        return found

    async def search(
        self, who: Principal, params: dict[str, list[str]], limit: int
    ) -> list[Server]:
        one = {k: v[-1] for k, v in params.items()}
        stmt = select(Server)
        every = who.is_admin and one.get("all_tenants", "false").lower() not in ("false", "0")
        if "all_tenants" in one and one["all_tenants"] == "":
            every = who.is_admin
        if not every:
            stmt = stmt.where(Server.project_id == access.project_of(who))
        elif "project_id" in one or "tenant_id" in one:
            stmt = stmt.where(Server.project_id == one.get("project_id", one.get("tenant_id")))
        if one.get("deleted", "false").lower() in ("true", "1"):
            return []
        stmt = _sql_filters(stmt, one, who)
        if not any(key in params for key in IN_PYTHON):
            owner = None if every else access.project_of(who)
            return await self._page(stmt, one.get("marker"), limit, owner)
        async with self.db.session() as session:
            rows = list(await session.scalars(stmt.limit(self.scan_max)))
        rows = [s for s in rows if _keep(s, one, params)]
        rows = _sorted(rows, params)
        marker = one.get("marker")
        if marker is not None:
            ids = [s.id for s in rows]
            if marker not in ids:
                raise errors.BadRequest(f"marker [{marker}] not found")
            rows = rows[ids.index(marker) + 1 :]
        return rows[:limit]

    async def _page(
        self, stmt: Any, marker: str | None, limit: int, owner: str | None
    ) -> list[Server]:
        """Newest first, one page read by the database: the usual listing, which must not
        read every server of a project that has thousands. The marker may be a server deleted
        since (of ``owner``'s project, when the listing is one project's)."""
        async with self.db.session() as session:
            if marker is not None:
                seq = await session.scalar(
                    stmt.with_only_columns(Server.seq).where(Server.id == marker)
                )
                if seq is None:
                    gone = select(DeletedServer.seq).where(DeletedServer.id == marker)
                    if owner is not None:
                        gone = gone.where(DeletedServer.project_id == owner)
                    seq = await session.scalar(gone)
                if seq is None:
                    raise errors.BadRequest(f"marker [{marker}] not found")
                stmt = stmt.where(Server.seq < seq)
            return list(await session.scalars(stmt.order_by(Server.seq.desc()).limit(limit)))

    async def update(self, who: Principal, server_id: str, doc: Any) -> Server:
        if not isinstance(doc, dict) or not isinstance(doc.get("server"), dict):
            raise errors.BadRequest('Invalid input: the body must be {"server": {...}}.')
        body = doc["server"]
        async with self.db.session() as session:
            found = await self._visible(session, who, server_id)
            for key, value in body.items():
                if key == "name":
                    found.name = boot.name(value)
                elif key == "description":
                    if value is not None and (not isinstance(value, str) or len(value) > 255):
                        raise errors.BadRequest("Invalid input for field/attribute description.")
                    found.description = value
                elif key not in ("accessIPv4", "accessIPv6", "OS-DCF:diskConfig", "hostname"):
                    raise errors.BadRequest(f"Additional properties are not allowed ('{key}').")
            found.updated_at = time.time()
        return found

    async def delete(self, who: Principal, server_id: str, force: bool = False) -> Server:
        async with self.db.session() as session:
            found = await self._visible(session, who, server_id)
            _unlocked(who, found)
            await session.execute(
                delete(VolumeAttachment).where(VolumeAttachment.server_id == server_id)
            )
            await session.delete(found)
            session.add(DeletedServer(id=found.id, seq=found.seq, project_id=found.project_id,
                                      deleted_at=time.time()))  # fmt: skip
        self.placement.release(found.host, Need.of(found.flavor))
        self.quotas.count(found.project_id, -1, -found.vcpus, -found.ram)
        return found

    async def act(
        self, who: Principal, server_id: str, name: str, image_ref: str | None = None
    ) -> Server:
        """Start a timed action (stop, start, reboot, pause, …): 409 from the wrong state."""
        action = states.ACTIONS[name]
        async with self.db.session() as session:
            found = await self._visible(session, who, server_id)
            _unlocked(who, found)
            states.check(action, server_id, found.vm_state, found.task_state)
            found.task_state = action.task
            found.updated_at = time.time()
            if image_ref is not None:
                found.image_id = image_ref
        self.hypervisor.schedule([server_id], action)
        return found

    async def fail(self, server_id: str, message: str) -> None:
        """Put a server whose build could not finish in ERROR, with Nova's fault."""
        async with self.db.session() as session:
            found = await session.get(Server, server_id)
            if found is None:
                return
            now = time.time()
            found.vm_state, found.task_state, found.updated_at = "error", None, now
            found.fault = {**_fault(now), "message": message}

    async def lock(self, who: Principal, server_id: str, locked: bool, reason: str | None) -> None:
        async with self.db.session() as session:
            found = await self._visible(session, who, server_id)
            if not locked and found.locked_by == "admin" and not who.is_admin:
                raise errors.Forbidden("Only an administrator may unlock a server it locked.")
            found.locked_by = ("admin" if who.is_admin else "owner") if locked else None
            found.locked_reason = reason if locked else None
            found.updated_at = time.time()

    async def set_meta(
        self, who: Principal, server_id: str, items: dict[str, str], replace: bool
    ) -> dict[str, str]:
        async with self.db.session() as session:
            found = await self._visible(session, who, server_id)
            merged = dict(items) if replace else {**found.meta, **items}
            limit = (await self.quotas.limits(found.project_id))["metadata_items"]
            if 0 <= limit < len(merged):
                raise errors.Forbidden("Quota exceeded for metadata_items")
            found.meta = merged
            found.updated_at = time.time()
            return merged

    async def unset_meta(self, who: Principal, server_id: str, key: str) -> None:
        async with self.db.session() as session:
            found = await self._visible(session, who, server_id)
            if key not in found.meta:
                raise errors.NotFound("Metadata item was not found")
            found.meta = {k: v for k, v in found.meta.items() if k != key}
            found.updated_at = time.time()

    async def set_tags(self, who: Principal, server_id: str, tags: list[str]) -> list[str]:
        async with self.db.session() as session:
            found = await self._visible(session, who, server_id)
            found.tags = boot.tags(tags)
            found.updated_at = time.time()
            return list(found.tags)


def _unlocked(who: Principal, server: Server) -> None:
    if server.locked_by is not None and not who.is_admin:
        raise errors.Conflict(f"Instance {server.id} is locked")


def _sql_filters(stmt: Any, one: dict[str, str], who: Principal) -> Any:
    if "status" in one:
        stmt = stmt.where(Server.vm_state.in_(states.statuses_to_states(one["status"])))
    if "image" in one:
        stmt = stmt.where(Server.image_id == one["image"].rsplit("/", 1)[-1])
    if "reservation_id" in one:
        stmt = stmt.where(Server.reservation_id == one["reservation_id"])
    if "availability_zone" in one:
        stmt = stmt.where(Server.availability_zone == one["availability_zone"])
    if "key_name" in one:
        stmt = stmt.where(Server.key_name == one["key_name"])
    if "host" in one and who.is_admin:
        stmt = stmt.where(Server.host == one["host"])
    if "locked" in one:
        locked = one["locked"].lower() in ("true", "1", "yes")
        stmt = stmt.where(Server.locked_by.is_not(None) if locked else Server.locked_by.is_(None))
    for key, op in (("changes-since", ">="), ("changes-before", "<=")):
        if key in one:
            when = _time(key, one[key])
            stmt = stmt.where(
                Server.updated_at >= when if op == ">=" else Server.updated_at <= when
            )
    return stmt


def _keep(s: Server, one: dict[str, str], params: dict[str, list[str]]) -> bool:
    if "name" in one:
        try:
            if re.search(one["name"], s.name) is None:
                return False
        except re.error:
            return one["name"] in s.name
    if "flavor" in one and s.flavor["id"] != one["flavor"].rsplit("/", 1)[-1]:
        return False
    if "ip" in one:
        addrs = [a["addr"] for net in s.addresses.values() for a in net]
        if not any(re.search(one["ip"], a) for a in addrs):
            return False
    tags = set(s.tags)
    for key, test in (("tags", lambda w: w <= tags), ("tags-any", lambda w: bool(w & tags)),
                      ("not-tags", lambda w: not w <= tags),
                      ("not-tags-any", lambda w: not (w & tags))):  # fmt: skip
        if key in one and not test(set(one[key].split(","))):
            return False
    return True


def _sorted(rows: list[Server], params: dict[str, list[str]]) -> list[Server]:
    keys = params.get("sort_key") or ["created_at"]
    dirs = params.get("sort_dir") or ["desc"]
    result = sorted(rows, key=lambda s: s.seq, reverse=True)
    for index in reversed(range(len(keys))):
        column = SORT_KEYS.get(keys[index])
        if column is None:
            raise errors.BadRequest(f"Invalid sort_key {keys[index]!r}.")
        direction = dirs[min(index, len(dirs) - 1)]
        if direction not in ("asc", "desc"):
            raise errors.BadRequest(f"Invalid sort_dir {direction!r}.")
        result.sort(
            key=lambda s, c=column: (getattr(s, c) is None, getattr(s, c) or ""),  # type: ignore[misc]
            reverse=direction == "desc",
        )
    return result


def _time(key: str, value: str) -> float:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise errors.BadRequest(f"Invalid filter field: {key}.") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def _addresses(seq: int) -> dict[str, Any]:
    """One address the SDK accepts as the server's public one (there is no Neutron here)."""
    addr = str(ADDRESS_POOL + seq)
    mac = "fa:16:3e:" + ":".join(f"{(seq >> s) & 0xFF:02x}" for s in (16, 8, 0))
    return {
        "public": [
            {"addr": addr, "version": 4, "OS-EXT-IPS:type": "floating",
             "OS-EXT-IPS-MAC:mac_addr": mac}
        ]
    }  # fmt: skip


def _fault(now: float) -> dict[str, Any]:
    return {"code": 500, "message": NO_VALID_HOST, "created": views.iso(now), "details": ""}


def _image_properties(image: dict[str, Any] | None) -> dict[str, Any]:
    if image is None:
        return {}
    core = {
        "id", "name", "status", "visibility", "protected", "os_hidden", "checksum", "os_hash_algo",
        "os_hash_value", "size", "virtual_size", "owner", "tags", "created_at", "updated_at",
        "self", "file", "schema", "direct_url", "locations",
    }  # fmt: skip
    return {k: v for k, v in image.items() if k not in core}


def _name(req: BootRequest, count: int, index: int) -> str:
    """``NAME-1…N`` for a multi-create, as Nova names them. The proxy, splitting one request
    over several landlords, sends each share the index it starts at (scheduler hint
    ``ocx:first_index``), so the names stay unique across landlords."""
    start = str(req.scheduler_hints.get("ocx:first_index", ""))
    if start.isdigit() and int(start) >= 1:
        return f"{req.name}-{index + int(start)}"
    return req.name if count == 1 else f"{req.name}-{index + 1}"
