"""Federated authentication (service provider side) and K2K assertions (identity provider side)
over HTTP: parse, call (:mod:`ocx.identity.federation.signin`), render."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Request, Response
from lxml import etree

from ocx.common import errors
from ocx.common.auth import Principal
from ocx.identity import tokens
from ocx.identity.api.auth import auth_domains, auth_projects
from ocx.identity.api.deps import caller, service
from ocx.identity.federation import saml, signin
from ocx.identity.service import IdentityService

MAX_BODY = saml.MAX_DOCUMENT


async def _bounded_body(request: Request) -> bytes:
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise errors.RequestEntityTooLarge("The SAML document is too large.")
        chunks.append(chunk)
    return b"".join(chunks)


async def federated_auth(
    idp_id: str,
    protocol_id: str,
    request: Request,
    response: Response,
    svc: IdentityService = Depends(service),
) -> dict[str, Any]:
    """An IdP's credential in, an unscoped token of this landlord out (``methods: mapped``)."""
    if await signin.protocol_kind(svc, idp_id, protocol_id) == "oidc":
        grant = await signin.login_oidc(svc, idp_id, protocol_id, _bearer(request))
    else:
        document = await _bounded_body(request)
        if not document:
            raise errors.Unauthorized("A SAML assertion (ECP envelope) is required.")
        # This landlord's own endpoint, as its public URL says (never the Host header).
        recipient = svc.settings.issuer + request.url.path
        grant = await signin.login_saml(svc, idp_id, protocol_id, document, recipient)
    token, claims = svc.sign(grant)
    response.status_code = 201
    response.headers["X-Subject-Token"] = token
    return tokens.token_body(claims, await svc.catalog(None))


def _bearer(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise errors.Unauthorized("An OpenID Connect access token (Bearer) is required.")
    return token.strip()


async def _auth_token(request: Request, svc: IdentityService) -> tuple[Principal, str]:
    try:
        doc = await request.json()
        auth = doc["auth"]
        token = auth["identity"]["token"]["id"]
        sp_id = auth["scope"]["service_provider"]["id"]
    except (ValueError, KeyError, TypeError) as exc:
        raise errors.ValidationError(
            "Expecting auth.identity.token.id and auth.scope.service_provider.id."
        ) from exc
    return await svc.verify(str(token)), str(sp_id)


async def _assertion(request: Request, svc: IdentityService) -> tuple[Any, saml.AssertionRequest]:
    who, sp_id = await _auth_token(request, svc)
    return await signin.assertion(svc, who, sp_id)


async def saml2_assertion(request: Request, svc: IdentityService = Depends(service)) -> Response:
    doc, _req = await _assertion(request, svc)
    return Response(etree.tostring(doc), media_type="text/xml")


async def saml2_ecp(request: Request, svc: IdentityService = Depends(service)) -> Response:
    doc, req = await _assertion(request, svc)
    envelope = saml.ecp_envelope(doc, "ss:mem:" + req.audience)
    return Response(envelope, media_type="text/xml")


async def saml2_metadata(svc: IdentityService = Depends(service)) -> Response:
    return Response(await signin.metadata(svc), media_type="text/xml")


async def federation_projects(
    request: Request, svc: IdentityService = Depends(service), who: Principal = Depends(caller)
) -> dict[str, Any]:
    return await auth_projects(request, svc, who)


async def federation_domains(
    request: Request, svc: IdentityService = Depends(service), who: Principal = Depends(caller)
) -> dict[str, Any]:
    return await auth_domains(request, svc, who)
