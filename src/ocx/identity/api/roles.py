"""Roles, role grants on projects, domains and the system, and ``/v3/role_assignments``."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from ocx.common import errors
from ocx.common.auth import Principal
from ocx.common.pagination import Page
from ocx.identity import assignments, store, tokens
from ocx.identity.api import views
from ocx.identity.api.crud import apply, list_rows
from ocx.identity.api.deps import base_url, caller, collection, flag, page, service
from ocx.identity.assignments import USER, AssignmentFilter, Target
from ocx.identity.models import Assignment, Domain, Group, Membership, Project, Role, User
from ocx.identity.service import IdentityService


class RoleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=255)
    domain_id: str | None = None
    description: str = ""
    options: dict[str, Any] = {}


class RolePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, min_length=1, max_length=255)
    description: str | None = None
    options: dict[str, Any] | None = None


class RoleBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: RoleIn


class RolePatchBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: RolePatch


async def create_role(
    body: RoleBody,
    request: Request,
    response: Response,
    svc: IdentityService = Depends(service),
    who: Principal = Depends(caller),
) -> dict[str, Any]:
    svc.policy.require_admin(who, "identity:create_role")
    r = body.role
    async with svc.db.session() as session:
        if r.domain_id:
            await store.get(session, Domain, r.domain_id, "domain")
        row = Role(id=store.new_id(), name=r.name, domain_id=r.domain_id, description=r.description)
        await store.add_unique(session, row, f"role {r.name}")
    response.status_code = 201
    return {"role": views.role(base_url(request), row)}


async def list_roles(
    request: Request,
    pg: Page = Depends(page),
    svc: IdentityService = Depends(service),
    _who: Principal = Depends(caller),
) -> dict[str, Any]:
    # Role names are the landlord's public vocabulary: any authenticated user may read them.
    where = () if "domain_id" in request.query_params else (Role.domain_id.is_(None),)
    async with svc.db.session() as session:
        return await list_rows(
            request,
            session,
            Role,
            key="roles",
            view=views.role,
            page=pg,
            filter_names=("name", "domain_id"),
            where=where,
        )


async def get_role(
    role_id: str,
    request: Request,
    svc: IdentityService = Depends(service),
    _who: Principal = Depends(caller),
) -> dict[str, Any]:
    async with svc.db.session() as session:
        row = await store.get(session, Role, role_id, "role")
    return {"role": views.role(base_url(request), row)}


async def update_role(
    role_id: str,
    body: RolePatchBody,
    request: Request,
    svc: IdentityService = Depends(service),
    who: Principal = Depends(caller),
) -> dict[str, Any]:
    svc.policy.require_admin(who, "identity:update_role")
    async with svc.db.session() as session:
        row = await store.get(session, Role, role_id, "role")
        apply(row, body.role.model_dump(exclude_none=True, exclude={"options"}))
        await store.flush_unique(session, f"role {row.name}")
    return {"role": views.role(base_url(request), row)}


async def delete_role(
    role_id: str, svc: IdentityService = Depends(service), who: Principal = Depends(caller)
) -> Response:
    svc.policy.require_admin(who, "identity:delete_role")
    async with svc.db.session() as session:
        row = await store.get(session, Role, role_id, "role")
        holders = await session.scalars(select(Assignment).filter_by(role_id=row.id))
        for grant in list(holders):
            for user_id in await _users_of(session, grant.actor_type, grant.actor_id):
                await tokens.record_revocation(session, user_id=user_id)
        await session.delete(row)
    svc.revoked_something()
    return Response(status_code=204)


async def _users_of(session: Any, actor_type: str, actor_id: str) -> list[str]:
    if actor_type == USER:
        return [actor_id]
    return list(await session.scalars(select(Membership.user_id).filter_by(group_id=actor_id)))


# --- grants --------------------------------------------------------------------------------


async def _resolve(
    session: Any,
    svc: IdentityService,
    who: Principal,
    target_type: str,
    target_id: str,
    actor_type: str,
    actor_id: str,
    role_id: str | None,
    action: str,
    *,
    write: bool,
) -> tuple[Target, str | None]:
    if target_type == assignments.PROJECT:
        domain_id: str | None = (await store.get(session, Project, target_id, "project")).domain_id
    elif target_type == assignments.DOMAIN:
        domain_id = (await store.get(session, Domain, target_id, "domain")).id
    else:
        domain_id, target_id = None, assignments.SYSTEM_ALL
    actor_model: type[User] | type[Group] = User if actor_type == USER else Group
    await store.get(session, actor_model, actor_id, actor_type)
    if role_id is not None:
        await store.get(session, Role, role_id, "role")
    if write or who.user_id != actor_id:
        allowed = (
            svc.policy.is_domain_admin(who, domain_id)
            if write
            else svc.policy.is_domain_reader(who, domain_id)
        )
        if domain_id is None:
            allowed = svc.policy.is_admin(who) if write else svc.policy.is_reader(who)
        if not allowed:
            raise errors.Forbidden(
                f"You are not authorized to perform the requested action: {action}."
            )
    return Target(target_type, target_id), domain_id


def _no_grant(
    role_id: str, actor_type: str, actor_id: str, target_type: str, target_id: str
) -> errors.NotFound:
    return errors.NotFound(
        f"Could not find role assignment with role: {role_id}, "
        f"{actor_type}: {actor_id}, {target_type}: {target_id}."
    )


def _target_id(request: Request) -> str:
    """The project or domain id in the URL; system grants have none (the target is "all")."""
    return str(request.path_params.get("target_id", assignments.SYSTEM_ALL))


def grant_handlers(target_type: str, actor_type: str, inherited: bool = False) -> dict[str, Any]:
    """PUT/HEAD/DELETE .../{target}/{actors}/{actor}/roles/{role} and GET .../roles."""

    async def put(
        actor_id: str,
        role_id: str,
        request: Request,
        svc: IdentityService = Depends(service),
        who: Principal = Depends(caller),
    ) -> Response:
        target_id = _target_id(request)
        async with svc.db.session() as session:
            target, _ = await _resolve(
                session,
                svc,
                who,
                target_type,
                target_id,
                actor_type,
                actor_id,
                role_id,
                "identity:create_grant",
                write=True,
            )
            await assignments.grant(session, actor_type, actor_id, target, role_id, inherited)
        return Response(status_code=204)

    async def check(
        actor_id: str,
        role_id: str,
        request: Request,
        svc: IdentityService = Depends(service),
        who: Principal = Depends(caller),
    ) -> Response:
        target_id = _target_id(request)
        async with svc.db.session() as session:
            target, _ = await _resolve(
                session,
                svc,
                who,
                target_type,
                target_id,
                actor_type,
                actor_id,
                role_id,
                "identity:check_grant",
                write=False,
            )
            if not await assignments.has_grant(
                session, actor_type, actor_id, target, role_id, inherited
            ):
                raise _no_grant(role_id, actor_type, actor_id, target_type, target_id)
        return Response(status_code=204)

    async def remove(
        actor_id: str,
        role_id: str,
        request: Request,
        svc: IdentityService = Depends(service),
        who: Principal = Depends(caller),
    ) -> Response:
        target_id = _target_id(request)
        async with svc.db.session() as session:
            target, _ = await _resolve(
                session,
                svc,
                who,
                target_type,
                target_id,
                actor_type,
                actor_id,
                role_id,
                "identity:revoke_grant",
                write=True,
            )
            if not await assignments.revoke(
                session, actor_type, actor_id, target, role_id, inherited
            ):
                raise _no_grant(role_id, actor_type, actor_id, target_type, target_id)
            for user_id in await _users_of(session, actor_type, actor_id):
                scope = (
                    {"project_id": target.id}
                    if target.type == assignments.PROJECT
                    else {"domain_id": target.id}
                    if target.type == assignments.DOMAIN
                    else {}
                )
                await tokens.record_revocation(
                    session, user_id=user_id, **({} if inherited else scope)
                )
        svc.revoked_something()
        return Response(status_code=204)

    async def listing(
        actor_id: str,
        request: Request,
        svc: IdentityService = Depends(service),
        who: Principal = Depends(caller),
    ) -> dict[str, Any]:
        target_id = _target_id(request)
        async with svc.db.session() as session:
            target, _ = await _resolve(
                session,
                svc,
                who,
                target_type,
                target_id,
                actor_type,
                actor_id,
                None,
                "identity:list_grants",
                write=False,
            )
            query = (
                select(Role)
                .join(Assignment, Assignment.role_id == Role.id)
                .where(
                    Assignment.actor_type == actor_type,
                    Assignment.actor_id == actor_id,
                    Assignment.target_type == target.type,
                    Assignment.target_id == target.id,
                    Assignment.inherited.is_(inherited),
                )
                .order_by(Role.name)
            )
            roles = list(await session.scalars(query))
        base = base_url(request)
        return collection(request, "roles", [views.role(base, r) for r in roles])

    return {"put": put, "check": check, "remove": remove, "list": listing}


# --- /v3/role_assignments ------------------------------------------------------------------


def _assignment_filter(request: Request) -> AssignmentFilter:
    q = request.query_params
    system = q.get("scope.system")
    if system is not None and system != "all":
        raise errors.BadRequest("scope.system must be 'all'.")
    inherited = None
    if "scope.OS-INHERIT:inherited_to" in q:
        inherited = True
    return AssignmentFilter(
        user_id=q.get("user.id"),
        group_id=q.get("group.id"),
        project_id=q.get("scope.project.id"),
        domain_id=q.get("scope.domain.id"),
        system=system is not None,
        role_id=q.get("role.id"),
        effective=bool(flag(q.get("effective"))) if "effective" in q else False,
        inherited=inherited,
    )


async def list_role_assignments(
    request: Request, svc: IdentityService = Depends(service), who: Principal = Depends(caller)
) -> dict[str, Any]:
    f = _assignment_filter(request)
    if f.effective and f.group_id:
        raise errors.BadRequest("effective and group.id cannot be combined.")
    if not svc.policy.is_reader(who):
        if f.domain_id and svc.policy.is_domain_reader(who, f.domain_id):
            pass
        elif f.user_id in (None, who.user_id):
            f = AssignmentFilter(**{**f.__dict__, "user_id": who.user_id})
        else:
            raise errors.Forbidden("You may list only your own role assignments.")
    names = "include_names" in request.query_params and flag(request.query_params["include_names"])
    base = base_url(request)
    async with svc.db.session() as session:
        rows = await assignments.list_assignments(session, f)
        namer = _Namer(session) if names else None
        docs = [await _assignment_doc(base, row, namer) for row in rows]
    return collection(request, "role_assignments", docs)


class _Namer:
    """Looks names up once per id while rendering ``include_names``."""

    def __init__(self, session: Any):
        self.session = session
        self.cache: dict[tuple[Any, str], Any] = {}

    async def row(self, model: Any, ident: str) -> Any:
        key = (model, ident)
        if key not in self.cache:
            self.cache[key] = await self.session.get(model, ident)
        return self.cache[key]

    async def named(self, model: Any, ident: str, with_domain: bool = True) -> dict[str, Any]:
        row = await self.row(model, ident)
        doc: dict[str, Any] = {"id": ident}
        if row is None:
            return doc
        doc["name"] = row.name
        if with_domain and getattr(row, "domain_id", None):
            domain = await self.row(Domain, row.domain_id)
            doc["domain"] = {"id": row.domain_id, "name": domain.name if domain else None}
        return doc


async def _assignment_doc(base: str, row: Assignment, namer: _Namer | None) -> dict[str, Any]:
    actor_model = User if row.actor_type == USER else Group
    target_model = Project if row.target_type == assignments.PROJECT else Domain
    if namer is None:
        actor: dict[str, Any] = {"id": row.actor_id}
        target: dict[str, Any] = {"id": row.target_id}
        role: dict[str, Any] = {"id": row.role_id}
    else:
        actor = await namer.named(actor_model, row.actor_id)
        target = (
            await namer.named(target_model, row.target_id, row.target_type == "project")
            if row.target_type != assignments.SYSTEM
            else {"all": True}
        )
        role = await namer.named(Role, row.role_id)
    if row.target_type == assignments.SYSTEM:
        target = {"all": True}
    scope: dict[str, Any] = {row.target_type: target}
    if row.inherited:
        scope["OS-INHERIT:inherited_to"] = "projects"
    actors = "users" if row.actor_type == USER else "groups"
    link = (
        f"{base}/v3/{row.target_type}s/{row.target_id}/{actors}/{row.actor_id}/roles/{row.role_id}"
    )
    return {"role": role, row.actor_type: actor, "scope": scope, "links": {"assignment": link}}
