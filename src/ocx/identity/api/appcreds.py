"""Application credentials over HTTP: parse, call :mod:`ocx.identity.appcreds`, render."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Request, Response
from pydantic import BaseModel, ConfigDict

from ocx.common.auth import Principal
from ocx.identity import appcreds
from ocx.identity.api import views
from ocx.identity.api.deps import base_url, caller, collection, service
from ocx.identity.appcreds import AppCredIn
from ocx.identity.service import IdentityService

SVC = Depends(service)
WHO = Depends(caller)


class AppCredBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    application_credential: AppCredIn


async def create_app_cred(
    user_id: str,
    body: AppCredBody,
    request: Request,
    response: Response,
    svc: IdentityService = SVC,
    who: Principal = WHO,
) -> dict[str, Any]:
    made = await appcreds.create(svc, who, user_id, body.application_credential)
    response.status_code = 201
    doc = views.app_cred(base_url(request), made.row, made.roles, made.secret)
    return {"application_credential": doc}


async def list_app_creds(
    user_id: str, request: Request, svc: IdentityService = SVC, who: Principal = WHO
) -> dict[str, Any]:
    found = await appcreds.listing(svc, who, user_id, request.query_params.get("name"))
    base = base_url(request)
    docs = [views.app_cred(base, row, roles) for row, roles in found]
    return collection(request, "application_credentials", docs)


async def get_app_cred(
    user_id: str,
    cred_id: str,
    request: Request,
    svc: IdentityService = SVC,
    who: Principal = WHO,
) -> dict[str, Any]:
    row, roles = await appcreds.get(svc, who, user_id, cred_id)
    return {"application_credential": views.app_cred(base_url(request), row, roles)}


async def delete_app_cred(
    user_id: str, cred_id: str, svc: IdentityService = SVC, who: Principal = WHO
) -> Response:
    await appcreds.delete(svc, who, user_id, cred_id)
    return Response(status_code=204)
