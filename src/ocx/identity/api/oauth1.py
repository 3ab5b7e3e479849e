"""OS-OAUTH1 over HTTP: parse, call :mod:`ocx.identity.oauth1`, render.

Keystone's paths and shapes: consumers under ``/v3/OS-OAUTH1/consumers``; request and access
tokens are form-encoded (OAuth 1.0a), the authorisation is JSON; a user's access tokens are
under ``/v3/users/{user_id}/OS-OAUTH1/access_tokens``.
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Request, Response
from pydantic import BaseModel, ConfigDict

from ocx.common import errors
from ocx.common.auth import Principal
from ocx.identity import oauth1
from ocx.identity.api.deps import base_url, caller, collection, service
from ocx.identity.models import OAuthAccessToken, OAuthConsumer, Role
from ocx.identity.oauth1 import ConsumerIn, ConsumerPatch, RoleRef, Signed
from ocx.identity.service import IdentityService

SVC = Depends(service)
WHO = Depends(caller)
FORM = "application/x-www-form-urlencoded"


class ConsumerBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    consumer: ConsumerIn


class ConsumerPatchBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    consumer: ConsumerPatch


class AuthorizeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    roles: list[RoleRef]


def _consumer(request: Request, row: OAuthConsumer) -> dict[str, Any]:
    return {
        **row.extra,
        "id": row.id,
        "description": row.description,
        "links": {"self": f"{base_url(request)}/v3/OS-OAUTH1/consumers/{row.id}"},
    }


async def create_consumer(
    body: ConsumerBody,
    request: Request,
    response: Response,
    svc: IdentityService = SVC,
    who: Principal = WHO,
) -> dict[str, Any]:
    row, secret = await oauth1.create_consumer(svc, who, body.consumer)
    response.status_code = 201
    return {"consumer": {**_consumer(request, row), "secret": secret}}


async def list_consumers(
    request: Request, svc: IdentityService = SVC, who: Principal = WHO
) -> dict[str, Any]:
    rows = await oauth1.list_consumers(svc, who)
    return collection(request, "consumers", [_consumer(request, r) for r in rows])


async def get_consumer(
    consumer_id: str, request: Request, svc: IdentityService = SVC, who: Principal = WHO
) -> dict[str, Any]:
    return {"consumer": _consumer(request, await oauth1.get_consumer(svc, who, consumer_id))}


async def update_consumer(
    consumer_id: str,
    body: ConsumerPatchBody,
    request: Request,
    svc: IdentityService = SVC,
    who: Principal = WHO,
) -> dict[str, Any]:
    row = await oauth1.update_consumer(svc, who, consumer_id, body.consumer)
    return {"consumer": _consumer(request, row)}


async def delete_consumer(
    consumer_id: str, svc: IdentityService = SVC, who: Principal = WHO
) -> Response:
    await oauth1.delete_consumer(svc, who, consumer_id)
    return Response(status_code=204)


async def signed(request: Request) -> Signed:
    """The request as its signer saw it (the URL it was sent to, as the server received it)."""
    return Signed(str(request.url), request.method, dict(request.headers), await request.body())


async def request_token(request: Request, svc: IdentityService = SVC) -> Response:
    project_id = request.headers.get("requested-project-id")
    body, status = await oauth1.create_request_token(svc, await signed(request), project_id)
    return Response(body, status_code=status, media_type=FORM)


async def authorize(
    request_token_id: str, body: AuthorizeBody, svc: IdentityService = SVC, who: Principal = WHO
) -> dict[str, Any]:
    verifier = await oauth1.authorize(svc, who, request_token_id, body.roles)
    return {"token": {"oauth_verifier": verifier}}


async def access_token(request: Request, svc: IdentityService = SVC) -> Response:
    body, status = await oauth1.create_access_token(svc, await signed(request))
    return Response(body, status_code=status, media_type=FORM)


def _access_token(request: Request, row: OAuthAccessToken) -> dict[str, Any]:
    own = f"{base_url(request)}/v3/users/{row.authorizing_user_id}/OS-OAUTH1/access_tokens/{row.id}"
    return {
        "id": row.id,
        "consumer_id": row.consumer_id,
        "project_id": row.project_id,
        "authorizing_user_id": row.authorizing_user_id,
        "expires_at": oauth1.isotime(row.expires_at),
        "links": {"self": own, "roles": f"{own}/roles"},
    }


def _role(request: Request, role: Role) -> dict[str, Any]:
    return {
        "id": role.id,
        "name": role.name,
        "domain_id": role.domain_id,
        "links": {"self": f"{base_url(request)}/v3/roles/{role.id}"},
    }


async def list_access_tokens(
    user_id: str, request: Request, svc: IdentityService = SVC, who: Principal = WHO
) -> dict[str, Any]:
    rows = await oauth1.list_access_tokens(svc, who, user_id)
    return collection(request, "access_tokens", [_access_token(request, r) for r in rows])


async def get_access_token(
    user_id: str,
    access_token_id: str,
    request: Request,
    svc: IdentityService = SVC,
    who: Principal = WHO,
) -> dict[str, Any]:
    row, _roles = await oauth1.get_access_token(svc, who, user_id, access_token_id)
    return {"access_token": _access_token(request, row)}


async def delete_access_token(
    user_id: str, access_token_id: str, svc: IdentityService = SVC, who: Principal = WHO
) -> Response:
    await oauth1.delete_access_token(svc, who, user_id, access_token_id)
    return Response(status_code=204)


async def access_token_roles(
    user_id: str,
    access_token_id: str,
    request: Request,
    svc: IdentityService = SVC,
    who: Principal = WHO,
) -> dict[str, Any]:
    _row, roles = await oauth1.get_access_token(svc, who, user_id, access_token_id)
    return collection(request, "roles", [_role(request, r) for r in roles])


async def access_token_role(
    user_id: str,
    access_token_id: str,
    role_id: str,
    request: Request,
    svc: IdentityService = SVC,
    who: Principal = WHO,
) -> dict[str, Any]:
    _row, roles = await oauth1.get_access_token(svc, who, user_id, access_token_id)
    for role in roles:
        if role.id == role_id:
            return {"role": _role(request, role)}
    raise errors.NotFound(f"Could not find role: {role_id}.")
