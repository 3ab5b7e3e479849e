"""Federated authentication (service provider side) and K2K assertions (identity provider side)."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Request, Response
from lxml import etree
from sqlalchemy.ext.asyncio import AsyncSession

from ocx.common import errors
from ocx.common.auth import Principal
from ocx.identity import tokens
from ocx.identity.api.auth import auth_domains, auth_projects
from ocx.identity.api.deps import caller, service
from ocx.identity.federation import idp as k2k
from ocx.identity.federation import saml, trust
from ocx.identity.federation.login import Assertion, login
from ocx.identity.federation.models import FederationProtocol, IdentityProvider
from ocx.identity.service import IdentityService

SAML_PROTOCOLS = ("saml2", "mapped")
OIDC_PROTOCOLS = ("openid", "oidc")
MAX_BODY = saml.MAX_DOCUMENT


async def _live(
    session: AsyncSession, idp_id: str, protocol_id: str
) -> tuple[IdentityProvider, FederationProtocol]:
    idp = await session.get(IdentityProvider, idp_id)
    if idp is None:
        raise errors.NotFound(f"Could not find Identity Provider: {idp_id}.")
    if not idp.enabled:
        raise errors.Forbidden(f"Identity provider {idp_id} is disabled.")
    protocol = await session.get(FederationProtocol, (idp_id, protocol_id))
    if protocol is None:
        raise errors.NotFound(f"Could not find federated protocol: {protocol_id}.")
    if not protocol.enabled:
        raise errors.Forbidden(f"Protocol {protocol_id} of {idp_id} is disabled.")
    return idp, protocol


async def _credential(
    request: Request,
    session: AsyncSession,
    svc: IdentityService,
    idp: IdentityProvider,
    protocol: FederationProtocol,
) -> Assertion:
    audience = svc.settings.landlord
    if protocol.id in OIDC_PROTOCOLS:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise errors.Unauthorized("An OpenID Connect access token (Bearer) is required.")
        return await trust.oidc_access_token(session, svc.remote_keys, idp, token.strip(), audience)
    if protocol.id in SAML_PROTOCOLS:
        document = await _bounded_body(request)
        if not document:
            raise errors.Unauthorized("A SAML assertion (ECP envelope) is required.")
        # This landlord's own endpoint, as its public URL says (never the Host header).
        recipient = svc.settings.issuer + request.url.path
        return await trust.saml_assertion(session, idp, document, audience, recipient)
    raise errors.BadRequest(
        f"Protocol {protocol.id!r} is not one OCX can speak; "
        f"use one of {', '.join(SAML_PROTOCOLS + OIDC_PROTOCOLS)}."
    )


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
    async with svc.db.session() as session:
        idp, protocol = await _live(session, idp_id, protocol_id)
        assertion = await _credential(request, session, svc, idp, protocol)
        grant = await login(session, idp, protocol, assertion, svc.settings.token_ttl)
    token, claims = svc.sign(grant)
    response.status_code = 201
    response.headers["X-Subject-Token"] = token
    return tokens.token_body(claims, await svc.catalog(None))


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
    async with svc.db.session() as session:
        sp = await k2k.live_service_provider(session, sp_id)
        return await k2k.assertion_for(session, who, sp, svc.settings.issuer, svc.settings.landlord)


async def saml2_assertion(request: Request, svc: IdentityService = Depends(service)) -> Response:
    doc, _req = await _assertion(request, svc)
    return Response(etree.tostring(doc), media_type="text/xml")


async def saml2_ecp(request: Request, svc: IdentityService = Depends(service)) -> Response:
    doc, req = await _assertion(request, svc)
    envelope = saml.ecp_envelope(doc, "ss:mem:" + req.audience)
    return Response(envelope, media_type="text/xml")


async def saml2_metadata(svc: IdentityService = Depends(service)) -> Response:
    async with svc.db.session() as session:
        key = await k2k.signing_key(session, svc.settings.landlord)
    return Response(k2k.metadata(svc.settings.issuer, key.cert_pem), media_type="text/xml")


async def federation_projects(
    request: Request, svc: IdentityService = Depends(service), who: Principal = Depends(caller)
) -> dict[str, Any]:
    return await auth_projects(request, svc, who)


async def federation_domains(
    request: Request, svc: IdentityService = Depends(service), who: Principal = Depends(caller)
) -> dict[str, Any]:
    return await auth_domains(request, svc, who)
