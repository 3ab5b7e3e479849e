"""Version discovery, /v3/auth/*, the JWKS and the revocation event list."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from ocx.common import errors
from ocx.common.auth import Principal
from ocx.identity import oauth1, scopes, tokens
from ocx.identity.api import oauth1 as oauth1_api
from ocx.identity.api import views
from ocx.identity.api.deps import base_url, caller, collection, service
from ocx.identity.authn import AuthRequest
from ocx.identity.models import OAuthAccessToken
from ocx.identity.service import IdentityService

MEDIA = [{"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}]


def _version(request: Request) -> dict[str, Any]:
    return {
        "id": "v3.14",
        "status": "stable",
        "updated": "2020-04-07T00:00:00Z",
        "links": [{"rel": "self", "href": base_url(request) + "/v3/"}],
        "media-types": MEDIA,
    }


async def versions(request: Request) -> JSONResponse:
    return JSONResponse({"versions": {"values": [_version(request)]}}, status_code=300)


async def version_v3(request: Request) -> dict[str, Any]:
    return {"version": _version(request)}


async def issue_token(
    request: Request, response: Response, svc: IdentityService = Depends(service)
) -> dict[str, Any]:
    req = await _auth_body(request)
    check = None
    if "oauth1" in req.identity.methods:
        shown = await oauth1_api.signed(request)

        async def check(session: AsyncSession) -> OAuthAccessToken:
            return await oauth1.authenticate(svc, session, shown)

    token, claims = await svc.issue(req, request.headers.get("x-auth-token"), check)
    catalog = await _catalog(request, svc, claims)
    response.status_code = 201
    response.headers["X-Subject-Token"] = token
    return await _with_service_providers(svc, tokens.token_body(claims, catalog))


async def _catalog(
    request: Request, svc: IdentityService, claims: dict[str, Any]
) -> list[dict[str, Any]] | None:
    """The catalog a token document carries: none when asked so, none for an unscoped token."""
    scoped = "project" in claims or "domain" in claims or claims.get("system")
    if "nocatalog" in request.query_params or not scoped:
        return None
    return await svc.catalog((claims.get("project") or {}).get("id"))


async def _with_service_providers(svc: IdentityService, body: dict[str, Any]) -> dict[str, Any]:
    providers = await svc.service_providers()
    if providers:
        body["token"]["service_providers"] = providers
    return body


async def _auth_body(request: Request) -> AuthRequest:
    try:
        doc = await request.json()
    except ValueError as exc:
        raise errors.ValidationError("The request body is not valid JSON.") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("auth"), dict):
        raise errors.ValidationError("Expecting to find auth in request body.")
    try:
        return AuthRequest.model_validate(doc["auth"])
    except ValueError as exc:
        raise errors.ValidationError(f"Invalid auth request: {_first_problem(exc)}") from exc


def _first_problem(exc: ValueError) -> str:
    errs = getattr(exc, "errors", None)
    if callable(errs):
        first = errs()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        return f"{where}: {first.get('msg')}"
    return str(exc)


async def _subject(request: Request, svc: IdentityService, who: Principal) -> Principal:
    subject = svc.require_token_header(request.headers.get("x-subject-token"))
    try:
        found = await svc.verify(subject)
    except errors.Unauthorized as exc:
        # Keystone's answer for a bad subject token: 401 would say the caller's own is bad.
        raise errors.NotFound(exc.message) from exc
    if (
        found.user_id != who.user_id
        and not svc.policy.is_reader(who)
        and "service" not in who.roles
    ):
        raise errors.Forbidden("You are not authorized to validate another user's token.")
    return found


async def validate_token(
    request: Request, svc: IdentityService = Depends(service), who: Principal = Depends(caller)
) -> dict[str, Any]:
    subject = await _subject(request, svc, who)
    catalog = await _catalog(request, svc, subject.claims)
    return await _with_service_providers(svc, tokens.token_body(subject.claims, catalog))


async def check_token(
    request: Request, svc: IdentityService = Depends(service), who: Principal = Depends(caller)
) -> Response:
    await _subject(request, svc, who)
    return Response(status_code=200)


async def revoke_token(
    request: Request, svc: IdentityService = Depends(service), who: Principal = Depends(caller)
) -> Response:
    await scopes.revoke_token(svc, who, await _subject(request, svc, who))
    return Response(status_code=204)


async def auth_catalog(
    svc: IdentityService = Depends(service), who: Principal = Depends(caller)
) -> dict[str, Any]:
    if who.project_id is None and who.domain_id is None and not who.system:
        raise errors.Forbidden("The catalog needs a scoped token.")
    return {"catalog": await svc.catalog(who.project_id), "links": {"self": None}}


async def auth_projects(
    request: Request, svc: IdentityService = Depends(service), who: Principal = Depends(caller)
) -> dict[str, Any]:
    base = base_url(request)
    rows = await scopes.projects(svc, who)
    return collection(request, "projects", [views.project(base, p) for p in rows])


async def auth_domains(
    request: Request, svc: IdentityService = Depends(service), who: Principal = Depends(caller)
) -> dict[str, Any]:
    base = base_url(request)
    domains = await scopes.domains(svc, who)
    return collection(request, "domains", [views.domain(base, d) for d in domains])


async def auth_system(
    request: Request, svc: IdentityService = Depends(service), who: Principal = Depends(caller)
) -> dict[str, Any]:
    held = await scopes.system(svc, who)
    return collection(request, "system", [{"all": True}] if held else [])


async def jwks(svc: IdentityService = Depends(service)) -> dict[str, Any]:
    assert svc.keys is not None
    return svc.keys.jwks()


async def revocation_events(svc: IdentityService = Depends(service)) -> dict[str, Any]:
    return {
        "events": await svc.revocation_events(),
        "links": {"self": None, "previous": None, "next": None},
    }
