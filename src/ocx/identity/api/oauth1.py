"""OS-OAUTH1 over HTTP: parse, call :mod:`ocx.identity.oauth1`, render.

Keystone's paths and shapes: consumers under ``/v3/OS-OAUTH1/consumers``; request and access
tokens are form-encoded (OAuth 1.0a), the authorisation is JSON; a user's access tokens are
under ``/v3/users/{user_id}/OS-OAUTH1/access_tokens``.
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Request, Response
from pydantic import BaseModel, ConfigDict

from ocx.common.auth import Principal
from ocx.identity import oauth1
from ocx.identity.api.crud import Guarded
from ocx.identity.api.deps import base_url, caller, service
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


def consumer_view(base: str, row: OAuthConsumer) -> dict[str, Any]:
    return {
        **row.extra,
        "id": row.id,
        "description": row.description,
        "links": {"self": f"{base}/v3/OS-OAUTH1/consumers/{row.id}"},
    }


consumers = Guarded("consumer", "consumers", consumer_view)


async def create_consumer(
    body: ConsumerBody,
    request: Request,
    response: Response,
    svc: IdentityService = SVC,
    who: Principal = WHO,
) -> dict[str, Any]:
    row, secret = await oauth1.create_consumer(svc, who, body.consumer)
    response.status_code = 201
    return {"consumer": {**consumer_view(base_url(request), row), "secret": secret}}


list_consumers = consumers.list(oauth1.list_consumers)
get_consumer = consumers.get(oauth1.get_consumer)
update_consumer = consumers.update(ConsumerPatchBody, oauth1.update_consumer)
delete_consumer = consumers.delete(oauth1.delete_consumer)


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


def access_token_view(base: str, row: OAuthAccessToken) -> dict[str, Any]:
    own = f"{base}/v3/users/{row.authorizing_user_id}/OS-OAUTH1/access_tokens/{row.id}"
    return {
        "id": row.id,
        "consumer_id": row.consumer_id,
        "project_id": row.project_id,
        "authorizing_user_id": row.authorizing_user_id,
        "expires_at": oauth1.isotime(row.expires_at),
        "links": {"self": own, "roles": f"{own}/roles"},
    }


def role_view(base: str, role: Role) -> dict[str, Any]:
    return {
        "id": role.id,
        "name": role.name,
        "domain_id": role.domain_id,
        "links": {"self": f"{base}/v3/roles/{role.id}"},
    }


access_tokens = Guarded("access_token", "access_tokens", access_token_view)
list_access_tokens = access_tokens.list(oauth1.list_access_tokens)
get_access_token = access_tokens.get(oauth1.access_token)
delete_access_token = access_tokens.delete(oauth1.delete_access_token)

# The roles an access token delegates.
token_roles = Guarded("role", "roles", role_view)
access_token_roles = token_roles.list(oauth1.access_token_roles)
access_token_role = token_roles.get(oauth1.access_token_role)
