"""Roles, role grants on projects, domains and the system, and ``/v3/role_assignments``."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from ocx.common import errors
from ocx.common.auth import Principal
from ocx.identity import assignments, grants
from ocx.identity.api import views
from ocx.identity.api.crud import Collection
from ocx.identity.api.deps import base_url, caller, collection, flag, service
from ocx.identity.assignments import USER, AssignmentFilter
from ocx.identity.models import Assignment, Role
from ocx.identity.service import IdentityService

Svc = IdentityService
Who = Principal
SVC = Depends(service)
WHO = Depends(caller)


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


def _role_scope(_svc: IdentityService, _who: Principal, request: Request) -> tuple[Any, ...]:
    # Role names are the landlord's public vocabulary: any authenticated user may read them.
    return () if "domain_id" in request.query_params else (Role.domain_id.is_(None),)


roles = Collection(Role, "role", "roles", views.role, ("name", "domain_id"), _role_scope)


async def create_role(
    body: RoleBody,
    request: Request,
    response: Response,
    svc: IdentityService = Depends(service),
    who: Principal = Depends(caller),
) -> dict[str, Any]:
    r = body.role
    row = await grants.create_role(svc, who, r.name, r.domain_id, r.description)
    response.status_code = 201
    return {"role": views.role(base_url(request), row)}


async def delete_role(
    role_id: str, svc: IdentityService = Depends(service), who: Principal = Depends(caller)
) -> Response:
    await grants.delete_role(svc, who, role_id)
    return Response(status_code=204)


# --- grants --------------------------------------------------------------------------------


def _target_id(request: Request) -> str:
    """The project or domain id in the URL; system grants have none (the target is "all")."""
    return str(request.path_params.get("target_id", assignments.SYSTEM_ALL))


def grant_handlers(target_type: str, actor_type: str, inherited: bool = False) -> dict[str, Any]:
    """PUT/HEAD/DELETE .../{target}/{actors}/{actor}/roles/{role} and GET .../roles."""

    def grantee(request: Request, actor_id: str) -> grants.Grantee:
        return grants.Grantee(target_type, _target_id(request), actor_type, actor_id, inherited)

    async def put(
        actor_id: str,
        role_id: str,
        request: Request,
        svc: Svc = Depends(service),
        who: Who = Depends(caller),
    ) -> Response:
        await grants.put(svc, who, grantee(request, actor_id), role_id)
        return Response(status_code=204)

    async def check(
        actor_id: str,
        role_id: str,
        request: Request,
        svc: Svc = Depends(service),
        who: Who = Depends(caller),
    ) -> Response:
        await grants.check(svc, who, grantee(request, actor_id), role_id)
        return Response(status_code=204)

    async def remove(
        actor_id: str,
        role_id: str,
        request: Request,
        svc: Svc = Depends(service),
        who: Who = Depends(caller),
    ) -> Response:
        await grants.remove(svc, who, grantee(request, actor_id), role_id)
        return Response(status_code=204)

    async def listing(
        actor_id: str, request: Request, svc: Svc = SVC, who: Who = WHO
    ) -> dict[str, Any]:
        roles = await grants.roles_held(svc, who, grantee(request, actor_id))
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
    names = "include_names" in request.query_params and flag(request.query_params["include_names"])
    rows = await grants.listing(svc, who, f, bool(names))
    base = base_url(request)
    return collection(request, "role_assignments", [_assignment_doc(base, r, n) for r, n in rows])


def _assignment_doc(base: str, row: Assignment, named: grants.Named | None) -> dict[str, Any]:
    if named is None:
        actor: dict[str, Any] = {"id": row.actor_id}
        target: dict[str, Any] = {"id": row.target_id}
        role: dict[str, Any] = {"id": row.role_id}
    else:
        actor, target, role = named.actor, named.target, named.role
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
