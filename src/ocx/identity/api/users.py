"""Users, passwords, groups and group membership over HTTP: parse, call, render.

The rules live in :mod:`ocx.identity.users`.
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from ocx.common.auth import Principal
from ocx.identity import users as domain
from ocx.identity.api import views
from ocx.identity.api.crud import Collection, domain_scope, extras
from ocx.identity.api.deps import base_url, caller, collection, service
from ocx.identity.models import Group, User
from ocx.identity.service import IdentityService

PASSWORD = Field(min_length=1, max_length=4096)


class UserIn(BaseModel):
    model_config = ConfigDict(extra="allow")  # Keystone keeps extra attributes
    name: str = Field(min_length=1, max_length=255)
    domain_id: str | None = None
    password: str | None = Field(None, max_length=4096)
    enabled: bool = True
    default_project_id: str | None = None
    description: str = ""
    email: str | None = None
    options: dict[str, Any] = {}
    federated: list[dict[str, Any]] | None = None


class UserPatch(BaseModel):
    model_config = ConfigDict(extra="allow")  # Keystone keeps extra attributes
    name: str | None = Field(None, min_length=1, max_length=255)
    password: str | None = Field(None, max_length=4096)
    enabled: bool | None = None
    default_project_id: str | None = None
    description: str | None = None
    email: str | None = None
    options: dict[str, Any] | None = None


class UserBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user: UserIn


class UserPatchBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user: UserPatch


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    password: str = PASSWORD
    original_password: str = PASSWORD


class PasswordBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user: PasswordChange


class GroupIn(BaseModel):
    model_config = ConfigDict(extra="allow")  # Keystone keeps extra attributes
    name: str = Field(min_length=1, max_length=255)
    domain_id: str | None = None
    description: str = ""


class GroupPatch(BaseModel):
    model_config = ConfigDict(extra="allow")  # Keystone keeps extra attributes
    name: str | None = Field(None, min_length=1, max_length=255)
    description: str | None = None


class GroupBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    group: GroupIn


class GroupPatchBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    group: GroupPatch


Svc = Depends(service)
Who = Depends(caller)


def _user_doc(request: Request, row: User) -> dict[str, Any]:
    return {"user": views.user(base_url(request), row)}


def _group_doc(request: Request, row: Group) -> dict[str, Any]:
    return {"group": views.group(base_url(request), row)}


users = Collection(
    User,
    "user",
    "users",
    views.user,
    ("name", "domain_id", "enabled"),
    lambda svc, who, _r: domain_scope(svc, who, User.domain_id, "identity:list_users"),
)
groups = Collection(
    Group,
    "group",
    "groups",
    views.group,
    ("name", "domain_id"),
    lambda svc, who, _r: domain_scope(svc, who, Group.domain_id, "identity:list_groups"),
)


# --- users ---------------------------------------------------------------------------------


async def create_user(
    body: UserBody,
    request: Request,
    response: Response,
    svc: IdentityService = Svc,
    who: Principal = Who,
) -> dict[str, Any]:
    u = body.user
    fields = domain.UserFields(
        name=u.name,
        domain_id=u.domain_id,
        password=u.password,
        enabled=u.enabled,
        default_project_id=u.default_project_id,
        description=u.description,
        email=u.email,
        extra=extras(u),
    )
    row = await domain.create_user(svc, who, fields)
    response.status_code = 201
    return _user_doc(request, row)


async def get_user(
    user_id: str, request: Request, svc: IdentityService = Svc, who: Principal = Who
) -> dict[str, Any]:
    return _user_doc(request, await domain.get_user(svc, who, user_id))


async def update_user(
    user_id: str,
    body: UserPatchBody,
    request: Request,
    svc: IdentityService = Svc,
    who: Principal = Who,
) -> dict[str, Any]:
    u = body.user
    fields = domain.UserFields(
        name=u.name,
        password=u.password,
        enabled=u.enabled,
        default_project_id=u.default_project_id,
        description=u.description,
        email=u.email,
        extra=extras(u, user_id),
    )
    return _user_doc(request, await domain.update_user(svc, who, user_id, fields))


async def delete_user(user_id: str, svc: IdentityService = Svc, who: Principal = Who) -> Response:
    await domain.delete_user(svc, who, user_id)
    return Response(status_code=204)


async def change_password(user_id: str, body: PasswordBody, svc: IdentityService = Svc) -> Response:
    # Keystone takes this call without a token: the original password is the credential.
    await domain.change_password(svc, user_id, body.user.original_password, body.user.password)
    return Response(status_code=204)


async def user_projects(
    user_id: str, request: Request, svc: IdentityService = Svc, who: Principal = Who
) -> dict[str, Any]:
    projects = await domain.projects_of_user(svc, who, user_id)
    base = base_url(request)
    return collection(request, "projects", [views.project(base, p) for p in projects])


async def user_groups(
    user_id: str, request: Request, svc: IdentityService = Svc, who: Principal = Who
) -> dict[str, Any]:
    groups = await domain.groups_of_user(svc, who, user_id)
    base = base_url(request)
    return collection(request, "groups", [views.group(base, g) for g in groups])


# --- groups --------------------------------------------------------------------------------


async def create_group(
    body: GroupBody,
    request: Request,
    response: Response,
    svc: IdentityService = Svc,
    who: Principal = Who,
) -> dict[str, Any]:
    g = body.group
    row = await domain.create_group(svc, who, g.name, g.domain_id, g.description, extras(g))
    response.status_code = 201
    return _group_doc(request, row)


async def get_group(
    group_id: str, request: Request, svc: IdentityService = Svc, who: Principal = Who
) -> dict[str, Any]:
    return _group_doc(request, await domain.get_group(svc, who, group_id))


async def update_group(
    group_id: str,
    body: GroupPatchBody,
    request: Request,
    svc: IdentityService = Svc,
    who: Principal = Who,
) -> dict[str, Any]:
    extra = extras(body.group, group_id)
    changes = body.group.model_dump(exclude_none=True, exclude={"id", *extra})
    return _group_doc(request, await domain.update_group(svc, who, group_id, changes, extra))


async def delete_group(group_id: str, svc: IdentityService = Svc, who: Principal = Who) -> Response:
    await domain.delete_group(svc, who, group_id)
    return Response(status_code=204)


async def group_members(
    group_id: str, request: Request, svc: IdentityService = Svc, who: Principal = Who
) -> dict[str, Any]:
    found = await domain.members(svc, who, group_id)
    base = base_url(request)
    return collection(request, "users", [views.user(base, u) for u in found])


async def add_member(
    group_id: str, user_id: str, svc: IdentityService = Svc, who: Principal = Who
) -> Response:
    await domain.add_member(svc, who, group_id, user_id)
    return Response(status_code=204)


async def check_member(
    group_id: str, user_id: str, svc: IdentityService = Svc, who: Principal = Who
) -> Response:
    await domain.check_member(svc, who, group_id, user_id)
    return Response(status_code=204)


async def remove_member(
    group_id: str, user_id: str, svc: IdentityService = Svc, who: Principal = Who
) -> Response:
    await domain.remove_member(svc, who, group_id, user_id)
    return Response(status_code=204)
