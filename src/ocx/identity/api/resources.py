"""Domains and projects."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import delete, func, select

from ocx.common import errors
from ocx.common.auth import Principal
from ocx.common.pagination import Page
from ocx.identity import assignments, store, tokens
from ocx.identity.api import views
from ocx.identity.api.crud import apply, domain_scope, list_rows
from ocx.identity.api.deps import base_url, caller, page, service
from ocx.identity.assignments import Target
from ocx.identity.models import Domain, Group, Project, User
from ocx.identity.service import IdentityService

NAME = Field(min_length=1, max_length=64)  # Keystone: 64 for domain and project names


class DomainIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = NAME
    description: str = ""
    enabled: bool = True
    explicit_domain_id: str | None = None
    tags: list[str] = []
    options: dict[str, Any] = {}


class DomainPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, min_length=1, max_length=64)
    description: str | None = None
    enabled: bool | None = None
    tags: list[str] | None = None
    options: dict[str, Any] | None = None


class DomainBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    domain: DomainIn


class DomainPatchBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    domain: DomainPatch


class ProjectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = NAME
    domain_id: str | None = None
    parent_id: str | None = None
    description: str = ""
    enabled: bool = True
    is_domain: bool = False
    tags: list[str] = []
    options: dict[str, Any] = {}


class ProjectPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, min_length=1, max_length=64)
    description: str | None = None
    enabled: bool | None = None
    tags: list[str] | None = None
    options: dict[str, Any] | None = None


class ProjectBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    project: ProjectIn


class ProjectPatchBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    project: ProjectPatch


# --- domains -------------------------------------------------------------------------------


async def create_domain(
    body: DomainBody,
    request: Request,
    response: Response,
    svc: IdentityService = Depends(service),
    who: Principal = Depends(caller),
) -> dict[str, Any]:
    svc.policy.require_admin(who, "identity:create_domain")
    d = body.domain
    row = Domain(
        id=d.explicit_domain_id or store.new_id(),
        name=d.name,
        description=d.description,
        enabled=d.enabled,
    )
    async with svc.db.session() as session:
        await store.add_unique(session, row, f"domain {d.name}")
    response.status_code = 201
    return {"domain": views.domain(base_url(request), row)}


async def list_domains(
    request: Request,
    pg: Page = Depends(page),
    svc: IdentityService = Depends(service),
    who: Principal = Depends(caller),
) -> dict[str, Any]:
    where: tuple[Any, ...] = ()
    if not svc.policy.is_reader(who):
        if who.domain_id is None:
            raise errors.Forbidden("Listing domains needs a reader role or a domain-scoped token.")
        where = (Domain.id == who.domain_id,)
    async with svc.db.session() as session:
        return await list_rows(
            request,
            session,
            Domain,
            key="domains",
            view=views.domain,
            page=pg,
            filter_names=("name", "enabled"),
            where=where,
        )


async def get_domain(
    domain_id: str,
    request: Request,
    svc: IdentityService = Depends(service),
    who: Principal = Depends(caller),
) -> dict[str, Any]:
    async with svc.db.session() as session:
        row = await store.get(session, Domain, domain_id, "domain")
        if (
            not svc.policy.is_domain_reader(who, row.id)
            and who.project_domain_id != row.id
            and who.user_domain_id != row.id
        ):
            raise errors.Forbidden("You are not authorized to read this domain.")
    return {"domain": views.domain(base_url(request), row)}


async def update_domain(
    domain_id: str,
    body: DomainPatchBody,
    request: Request,
    svc: IdentityService = Depends(service),
    who: Principal = Depends(caller),
) -> dict[str, Any]:
    svc.policy.require_admin(who, "identity:update_domain")
    changes = body.domain.model_dump(exclude_none=True, exclude={"tags", "options"})
    async with svc.db.session() as session:
        row = await store.get(session, Domain, domain_id, "domain")
        if row.id == "default" and changes.get("enabled") is False:
            raise errors.Forbidden("The default domain cannot be disabled.")
        changed = apply(row, changes)
        await store.flush_unique(session, f"domain {row.name}")
        if "enabled" in changed and not row.enabled:
            await tokens.record_revocation(session, domain_id=row.id)
    svc.revoked_something()
    return {"domain": views.domain(base_url(request), row)}


async def delete_domain(
    domain_id: str, svc: IdentityService = Depends(service), who: Principal = Depends(caller)
) -> Response:
    svc.policy.require_admin(who, "identity:delete_domain")
    async with svc.db.session() as session:
        row = await store.get(session, Domain, domain_id, "domain")
        if row.enabled:
            raise errors.Forbidden(
                "Cannot delete a domain that is enabled, please disable it first."
            )
        models: tuple[type[Project] | type[User] | type[Group], ...] = (Project, User, Group)
        for model in models:
            for child_id in await session.scalars(select(model.id).filter_by(domain_id=row.id)):
                await assignments.remove_for(session, actor_id=child_id)
                await assignments.remove_for(session, target=Target.project(child_id))
            await session.execute(delete(model).where(model.domain_id == row.id))
        await assignments.remove_for(session, target=Target.domain(row.id))
        await session.delete(row)
        await tokens.record_revocation(session, domain_id=row.id)
    svc.revoked_something()
    return Response(status_code=204)


# --- projects ------------------------------------------------------------------------------


async def create_project(
    body: ProjectBody,
    request: Request,
    response: Response,
    svc: IdentityService = Depends(service),
    who: Principal = Depends(caller),
) -> dict[str, Any]:
    p = body.project
    if p.is_domain:
        raise errors.ValidationError(
            "Projects acting as domains are not supported; create a domain."
        )
    domain_id = p.domain_id or who.domain_id or who.project_domain_id or who.user_domain_id
    svc.policy.require_domain_admin(who, domain_id, "identity:create_project")
    async with svc.db.session() as session:
        await store.get(session, Domain, domain_id, "domain")
        parent_id = None
        if p.parent_id and p.parent_id != domain_id:
            parent = await store.get(session, Project, p.parent_id, "project")
            if parent.domain_id != domain_id:
                raise errors.ValidationError("The parent project is in another domain.")
            parent_id = parent.id
        row = Project(
            id=store.new_id(),
            name=p.name,
            domain_id=domain_id,
            parent_id=parent_id,
            description=p.description,
            enabled=p.enabled,
            tags=p.tags,
        )
        await store.add_unique(session, row, f"project {p.name} in domain {domain_id}")
    response.status_code = 201
    return {"project": views.project(base_url(request), row)}


async def list_projects(
    request: Request,
    pg: Page = Depends(page),
    svc: IdentityService = Depends(service),
    who: Principal = Depends(caller),
) -> dict[str, Any]:
    where = domain_scope(svc, who, Project.domain_id, "identity:list_projects")
    async with svc.db.session() as session:
        return await list_rows(
            request,
            session,
            Project,
            key="projects",
            view=views.project,
            page=pg,
            filter_names=("name", "domain_id", "enabled", "parent_id"),
            where=where,
        )


async def _readable_project(
    svc: IdentityService, session: Any, who: Principal, project_id: str
) -> Project:
    row = await store.get(session, Project, project_id, "project")
    if svc.policy.is_domain_reader(who, row.domain_id) or who.project_id == row.id:
        return row
    held = await assignments.effective_role_ids(session, who.user_id, Target.project(row.id))
    if not held:
        raise errors.Forbidden("You are not authorized to read this project.")
    return row


async def get_project(
    project_id: str,
    request: Request,
    svc: IdentityService = Depends(service),
    who: Principal = Depends(caller),
) -> dict[str, Any]:
    async with svc.db.session() as session:
        row = await _readable_project(svc, session, who, project_id)
    return {"project": views.project(base_url(request), row)}


async def update_project(
    project_id: str,
    body: ProjectPatchBody,
    request: Request,
    svc: IdentityService = Depends(service),
    who: Principal = Depends(caller),
) -> dict[str, Any]:
    changes = body.project.model_dump(exclude_none=True, exclude={"options"})
    async with svc.db.session() as session:
        row = await store.get(session, Project, project_id, "project")
        svc.policy.require_domain_admin(who, row.domain_id, "identity:update_project")
        if row.id == svc.policy.admin_project_id and changes.get("enabled") is False:
            raise errors.Forbidden("The landlord's admin project cannot be disabled.")
        changed = apply(row, changes)
        await store.flush_unique(session, f"project {row.name}")
        if "enabled" in changed and not row.enabled:
            await tokens.record_revocation(session, project_id=row.id)
    svc.revoked_something()
    return {"project": views.project(base_url(request), row)}


async def delete_project(
    project_id: str, svc: IdentityService = Depends(service), who: Principal = Depends(caller)
) -> Response:
    async with svc.db.session() as session:
        row = await store.get(session, Project, project_id, "project")
        svc.policy.require_domain_admin(who, row.domain_id, "identity:delete_project")
        if row.id == svc.policy.admin_project_id:
            raise errors.Forbidden("The landlord's admin project cannot be deleted.")
        children = await session.scalar(select(func.count()).where(Project.parent_id == row.id))
        if children:
            raise errors.Forbidden("Cannot delete a project that has child projects.")
        await assignments.remove_for(session, target=Target.project(row.id))
        await session.delete(row)
        await tokens.record_revocation(session, project_id=row.id)
    svc.revoked_something()
    return Response(status_code=204)
