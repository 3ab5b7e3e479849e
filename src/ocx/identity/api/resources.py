"""Domains and projects over HTTP: parse, call :mod:`ocx.identity.projects`, render."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from ocx.common import errors
from ocx.common.auth import Principal
from ocx.common.pagination import Page
from ocx.identity import projects
from ocx.identity.api import views
from ocx.identity.api.crud import Collection, domain_scope, list_rows
from ocx.identity.api.deps import base_url, caller, flag, page, service
from ocx.identity.models import Domain, Project
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


SVC = Depends(service)
WHO = Depends(caller)


def _domain_doc(request: Request, row: Domain) -> dict[str, Any]:
    return {"domain": views.domain(base_url(request), row)}


def _project_doc(request: Request, row: Project) -> dict[str, Any]:
    return {"project": views.project(base_url(request), row)}


def _visible_domains(svc: IdentityService, who: Principal, _r: Request) -> tuple[Any, ...]:
    if svc.policy.is_reader(who):
        return ()
    if who.domain_id is None:
        raise errors.Forbidden("Listing domains needs a reader role or a domain-scoped token.")
    return (Domain.id == who.domain_id,)


def _visible_projects(svc: IdentityService, who: Principal, _r: Request) -> tuple[Any, ...]:
    return domain_scope(svc, who, Project.domain_id, "identity:list_projects")


domains = Collection(
    Domain, "domain", "domains", views.domain, ("name", "enabled"), _visible_domains
)


# --- domains -------------------------------------------------------------------------------


async def create_domain(
    body: DomainBody,
    request: Request,
    response: Response,
    svc: IdentityService = SVC,
    who: Principal = WHO,
) -> dict[str, Any]:
    d = body.domain
    row = await projects.create_domain(
        svc, who, d.name, d.description, d.enabled, d.explicit_domain_id
    )
    response.status_code = 201
    return _domain_doc(request, row)


async def get_domain(
    domain_id: str, request: Request, svc: IdentityService = SVC, who: Principal = WHO
) -> dict[str, Any]:
    return _domain_doc(request, await projects.get_domain(svc, who, domain_id))


async def update_domain(
    domain_id: str,
    body: DomainPatchBody,
    request: Request,
    svc: IdentityService = SVC,
    who: Principal = WHO,
) -> dict[str, Any]:
    changes = body.domain.model_dump(exclude_none=True, exclude={"tags", "options"})
    return _domain_doc(request, await projects.update_domain(svc, who, domain_id, changes))


async def delete_domain(
    domain_id: str, svc: IdentityService = SVC, who: Principal = WHO
) -> Response:
    await projects.delete_domain(svc, who, domain_id)
    return Response(status_code=204)


# --- projects ------------------------------------------------------------------------------


async def create_project(
    body: ProjectBody,
    request: Request,
    response: Response,
    svc: IdentityService = SVC,
    who: Principal = WHO,
) -> dict[str, Any]:
    p = body.project
    if p.is_domain:
        # Keystone's project acting as a domain: a domain, made (by a landlord administrator
        # only, as any domain) and shown through the projects API.
        if p.domain_id is not None or p.parent_id is not None:
            raise errors.ValidationError(
                "A project acting as a domain has neither a domain_id nor a parent_id."
            )
        made = await projects.create_domain(svc, who, p.name, p.description, p.enabled)
        response.status_code = 201
        return {"project": views.domain_as_project(base_url(request), made)}
    new = projects.NewProject(
        name=p.name,
        domain_id=p.domain_id,
        parent_id=p.parent_id,
        description=p.description,
        enabled=p.enabled,
        tags=p.tags,
    )
    row = await projects.create_project(svc, who, new)
    response.status_code = 201
    return _project_doc(request, row)


async def list_projects(
    request: Request, pg: Page = Depends(page), svc: IdentityService = SVC, who: Principal = WHO
) -> dict[str, Any]:
    """``GET /v3/projects``; with ``is_domain=true``, the domains (as Keystone lists them)."""
    async with svc.db.session() as session:
        if flag(request.query_params.get("is_domain")):
            return await list_rows(
                request,
                session,
                Domain,
                key="projects",
                view=views.domain_as_project,
                page=pg,
                filter_names=("name", "enabled"),
                where=_visible_domains(svc, who, request),
            )
        return await list_rows(
            request,
            session,
            Project,
            key="projects",
            view=views.project,
            page=pg,
            filter_names=("name", "domain_id", "enabled", "parent_id"),
            where=_visible_projects(svc, who, request),
        )


async def get_project(
    project_id: str, request: Request, svc: IdentityService = SVC, who: Principal = WHO
) -> dict[str, Any]:
    try:
        return _project_doc(request, await projects.get_project(svc, who, project_id))
    except errors.NotFound:
        if not await projects.is_domain(svc, project_id):
            raise
    row = await projects.get_domain(svc, who, project_id)
    return {"project": views.domain_as_project(base_url(request), row)}


async def update_project(
    project_id: str,
    body: ProjectPatchBody,
    request: Request,
    svc: IdentityService = SVC,
    who: Principal = WHO,
) -> dict[str, Any]:
    changes = body.project.model_dump(exclude_none=True, exclude={"options"})
    try:
        return _project_doc(request, await projects.update_project(svc, who, project_id, changes))
    except errors.NotFound:
        if not await projects.is_domain(svc, project_id):
            raise
    if changes.pop("tags", None):
        raise errors.ValidationError("A project acting as a domain has no tags.")
    row = await projects.update_domain(svc, who, project_id, changes)
    return {"project": views.domain_as_project(base_url(request), row)}


async def delete_project(
    project_id: str, svc: IdentityService = SVC, who: Principal = WHO
) -> Response:
    try:
        await projects.delete_project(svc, who, project_id)
    except errors.NotFound:
        if not await projects.is_domain(svc, project_id):
            raise
        await projects.delete_domain(svc, who, project_id)
    return Response(status_code=204)
