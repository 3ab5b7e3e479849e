"""Federated sign-in (this landlord as a service provider) and K2K assertions (as an identity
provider), without HTTP.

A sign-in is two steps because what the credential is depends on the protocol: first
:func:`protocol_kind` says which one the IdP and protocol (both enabled) speak, then the
handler reads that credential from the request and :func:`login_oidc` or :func:`login_saml`
checks it against the IdP's trust and maps it to a token grant. ``federation/auth_api.py``
only parses, calls and renders.
"""

from __future__ import annotations

from typing import Literal

from lxml import etree
from sqlalchemy.ext.asyncio import AsyncSession

from ocx.common import errors
from ocx.common.auth import Principal
from ocx.identity import tokens
from ocx.identity.federation import idp as k2k
from ocx.identity.federation import saml, trust
from ocx.identity.federation.login import login
from ocx.identity.federation.models import FederationProtocol, IdentityProvider
from ocx.identity.service import IdentityService

SAML_PROTOCOLS = ("saml2", "mapped")
OIDC_PROTOCOLS = ("openid", "oidc")
Kind = Literal["oidc", "saml"]


async def live(
    session: AsyncSession, idp_id: str, protocol_id: str
) -> tuple[IdentityProvider, FederationProtocol]:
    """The IdP and its protocol, both existing and enabled (404 or 403 otherwise)."""
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


async def protocol_kind(svc: IdentityService, idp_id: str, protocol_id: str) -> Kind:
    """Which credential a sign-in through this IdP and protocol brings."""
    async with svc.db.session() as session:
        _, protocol = await live(session, idp_id, protocol_id)
    if protocol.id in OIDC_PROTOCOLS:
        return "oidc"
    if protocol.id in SAML_PROTOCOLS:
        return "saml"
    raise errors.BadRequest(
        f"Protocol {protocol.id!r} is not one OCX can speak; "
        f"use one of {', '.join(SAML_PROTOCOLS + OIDC_PROTOCOLS)}."
    )


async def login_oidc(
    svc: IdentityService, idp_id: str, protocol_id: str, access_token: str
) -> tokens.Grant:
    """An unscoped grant (``methods: mapped``) for the IdP's OpenID Connect access token."""
    async with svc.db.session() as session:
        idp, protocol = await live(session, idp_id, protocol_id)
        assertion = await trust.oidc_access_token(
            session, svc.remote_keys, idp, access_token, svc.settings.landlord
        )
        return await login(session, idp, protocol, assertion, svc.settings.token_ttl)


async def login_saml(
    svc: IdentityService, idp_id: str, protocol_id: str, document: bytes, recipient: str
) -> tokens.Grant:
    """An unscoped grant for the IdP's SAML assertion, sent to ``recipient`` (our URL)."""
    async with svc.db.session() as session:
        idp, protocol = await live(session, idp_id, protocol_id)
        assertion = await trust.saml_assertion(
            session, idp, document, svc.settings.landlord, recipient
        )
        return await login(session, idp, protocol, assertion, svc.settings.token_ttl)


async def assertion(
    svc: IdentityService, who: Principal, sp_id: str
) -> tuple[etree._Element, saml.AssertionRequest]:
    """The signed SAML assertion of ``who`` for the enabled service provider ``sp_id``."""
    if "OS-OAUTH1" in who.claims:
        # An OAuth1 consumer holds some roles on one project of this landlord; an assertion
        # would take the user (and their groups) to another landlord.
        raise errors.Forbidden("A token from OAuth1 delegation cannot be taken to another cloud.")
    async with svc.db.session() as session:
        sp = await k2k.live_service_provider(session, sp_id)
        return await k2k.assertion_for(session, who, sp, svc.settings.issuer, svc.settings.landlord)


async def metadata(svc: IdentityService) -> bytes:
    """This landlord's SAML IdP metadata (its signing key is made on first use)."""
    async with svc.db.session() as session:
        key = await k2k.signing_key(session, svc.settings.landlord)
    return k2k.metadata(svc.settings.issuer, key.cert_pem)
