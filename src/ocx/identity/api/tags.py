"""Project tags over HTTP: parse, call :mod:`ocx.identity.tags`, render."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Request, Response
from pydantic import BaseModel, ConfigDict

from ocx.common.auth import Principal
from ocx.identity import tags
from ocx.identity.api.deps import base_url, caller, service
from ocx.identity.service import IdentityService

SVC = Depends(service)
WHO = Depends(caller)


class TagsBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tags: list[str]


def _doc(request: Request, project_id: str, found: list[str]) -> dict[str, Any]:
    link = f"{base_url(request)}/v3/projects/{project_id}/tags"
    return {"tags": found, "links": {"self": link}}


async def list_tags(
    project_id: str, request: Request, svc: IdentityService = SVC, who: Principal = WHO
) -> dict[str, Any]:
    return _doc(request, project_id, await tags.read(svc, who, project_id))


async def replace_tags(
    project_id: str,
    body: TagsBody,
    request: Request,
    svc: IdentityService = SVC,
    who: Principal = WHO,
) -> dict[str, Any]:
    return _doc(request, project_id, await tags.replace(svc, who, project_id, body.tags))


async def delete_tags(
    project_id: str, svc: IdentityService = SVC, who: Principal = WHO
) -> Response:
    await tags.remove(svc, who, project_id, None)
    return Response(status_code=204)


async def check_tag(
    project_id: str, tag: str, svc: IdentityService = SVC, who: Principal = WHO
) -> Response:
    await tags.has(svc, who, project_id, tag)
    return Response(status_code=204)


async def add_tag(
    project_id: str, tag: str, svc: IdentityService = SVC, who: Principal = WHO
) -> Response:
    await tags.add(svc, who, project_id, tag)
    return Response(status_code=201)


async def delete_tag(
    project_id: str, tag: str, svc: IdentityService = SVC, who: Principal = WHO
) -> Response:
    await tags.remove(svc, who, project_id, tag)
    return Response(status_code=204)
