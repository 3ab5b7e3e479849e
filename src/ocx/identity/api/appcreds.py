"""Application credentials over HTTP: parse, call :mod:`ocx.identity.appcreds`, render."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Request, Response
from pydantic import BaseModel, ConfigDict

from ocx.common.auth import Principal
from ocx.identity import appcreds
from ocx.identity.api import views
from ocx.identity.api.crud import Guarded
from ocx.identity.api.deps import base_url, caller, service
from ocx.identity.appcreds import AppCredIn
from ocx.identity.models import ApplicationCredential, Role
from ocx.identity.service import IdentityService

SVC = Depends(service)
WHO = Depends(caller)


class AppCredBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    application_credential: AppCredIn


def app_cred_view(base: str, found: tuple[ApplicationCredential, list[Role]]) -> dict[str, Any]:
    return views.app_cred(base, *found)


app_creds = Guarded(
    "application_credential", "application_credentials", app_cred_view, query=("name",)
)


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


list_app_creds = app_creds.list(appcreds.listing)
get_app_cred = app_creds.get(appcreds.get)
delete_app_cred = app_creds.delete(appcreds.delete)
