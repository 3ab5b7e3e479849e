"""Keystone's WebSSO for OpenID Connect: a dashboard's federated sign-in, through the IdP.

``GET /v3/auth/OS-FEDERATION/identity_providers/{idp}/protocols/{protocol}/websso?origin=…``
(and ``/v3/auth/OS-FEDERATION/websso/{protocol}?origin=…``, which picks the one IdP with that
protocol, or lists them) sends the browser to the IdP's authorization endpoint (code flow,
PKCE S256, as the public client ``<this landlord>-websso`` that the IdP registered for us).
The IdP redirects back to ``/v3/auth/OS-FEDERATION/websso/callback``; this landlord swaps the
code for an access token, admits it exactly as ``…/protocols/openid/auth`` does (the IdP's
keys, this landlord's mapping), and answers a page that POSTs the unscoped token to the
dashboard's ``origin`` — in a form body, never in a URL, and only to a trusted dashboard.

The flow's state (its ``state``, PKCE verifier, nonce, IdP and origin) lives in a cookie
of this identity's origin, HttpOnly, for ten minutes: the callback must come back to the
browser that started it.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
from typing import Any
from urllib.parse import urlencode

import httpx
from fastapi import Depends, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from ocx.common import errors, outbound
from ocx.identity.api.deps import service
from ocx.identity.federation import trust
from ocx.identity.federation.login import login
from ocx.identity.federation.models import FederationProtocol
from ocx.identity.federation.signin import live
from ocx.identity.service import IdentityService

COOKIE = "ocx_websso"
PROTOCOLS = ("openid", "oidc")
FLOW_SECONDS = 600
CALLBACK = "/v3/auth/OS-FEDERATION/websso/callback"
JWKS_SUFFIX = "/.well-known/jwks.json"


def client_id(landlord: str) -> str:
    """The public OIDC client an IdP registers for this landlord's WebSSO."""
    return f"{landlord}-websso"


def _trusted_origin(svc: IdentityService, origin: str | None) -> str:
    if not origin:
        raise errors.BadRequest("WebSSO needs the dashboard's origin (?origin=…).")
    if origin not in svc.settings.trusted_dashboards:
        raise errors.Unauthorized(f"{origin} is not a trusted dashboard of this landlord.")
    return origin


async def start_for_idp(
    idp_id: str,
    protocol_id: str,
    request: Request,
    svc: IdentityService = Depends(service),
) -> Response:
    origin = _trusted_origin(svc, request.query_params.get("origin"))
    if protocol_id not in PROTOCOLS:
        raise errors.BadRequest(f"WebSSO here speaks OpenID Connect ({', '.join(PROTOCOLS)}).")
    async with svc.db.session() as session:
        idp, _protocol = await live(session, idp_id, protocol_id)
    issuer = (idp.jwks_uri or "").removesuffix(JWKS_SUFFIX)
    if not issuer or issuer == idp.jwks_uri:
        raise errors.BadRequest(f"Identity provider {idp_id} has no OpenID Connect issuer.")
    config = await _discovery(issuer)
    flow = {
        "state": secrets.token_urlsafe(24),
        "verifier": secrets.token_urlsafe(48),
        "nonce": secrets.token_urlsafe(16),
        "idp": idp_id,
        "protocol": protocol_id,
        "origin": origin,
        "token_endpoint": config["token_endpoint"],
    }
    query = {
        "response_type": "code",
        "client_id": client_id(svc.settings.landlord),
        "redirect_uri": svc.settings.issuer + CALLBACK,
        "scope": "openid",
        "state": flow["state"],
        "nonce": flow["nonce"],
        "code_challenge": _challenge(flow["verifier"]),
        "code_challenge_method": "S256",
    }
    answer = RedirectResponse(f"{config['authorization_endpoint']}?{urlencode(query)}", 302)
    answer.set_cookie(
        COOKIE,
        _pack(flow),
        max_age=FLOW_SECONDS,
        httponly=True,
        samesite="lax",
        secure=svc.settings.issuer.startswith("https:"),
        path=CALLBACK,
    )
    return answer


async def start(
    protocol_id: str, request: Request, svc: IdentityService = Depends(service)
) -> Response:
    """The protocol-only form: the one IdP that speaks it, or a page to choose one."""
    origin = _trusted_origin(svc, request.query_params.get("origin"))
    async with svc.db.session() as session:
        rows = (await session.execute(_protocol_rows(protocol_id))).scalars().all()
    idps = sorted(row.idp_id for row in rows if row.enabled)
    if not idps:
        raise errors.NotFound(f"No identity provider here speaks {protocol_id}.")
    links = [
        f"{svc.settings.issuer}/v3/auth/OS-FEDERATION/identity_providers/{idp}/protocols/"
        f"{protocol_id}/websso?{urlencode({'origin': origin})}"
        for idp in idps
    ]
    if len(idps) == 1:
        return RedirectResponse(links[0], 302)
    items = "".join(
        f'<li><a href="{html.escape(link)}">{html.escape(idp)}</a></li>'
        for idp, link in zip(idps, links, strict=True)
    )
    return HTMLResponse(f"<!doctype html><title>Sign in with</title><ul>{items}</ul>")


def _protocol_rows(protocol_id: str) -> Any:
    from sqlalchemy import select

    return select(FederationProtocol).where(FederationProtocol.id == protocol_id)


async def callback(request: Request, svc: IdentityService = Depends(service)) -> Response:
    flow = _unpack(request.cookies.get(COOKIE, ""))
    params = request.query_params
    if not flow or not secrets.compare_digest(params.get("state", ""), flow["state"]):
        raise errors.Unauthorized("This sign-in was not started here (state mismatch).")
    if "error" in params:
        raise errors.Unauthorized(f"The identity provider refused: {params['error']}.")
    origin = _trusted_origin(svc, flow["origin"])
    access_token = await _exchange_code(svc, flow, params.get("code", ""))
    async with svc.db.session() as session:
        idp, protocol = await live(session, flow["idp"], flow["protocol"])
        assertion = await trust.oidc_access_token(
            session, svc.remote_keys, idp, access_token, svc.settings.landlord
        )
        grant = await login(session, idp, protocol, assertion, svc.settings.token_ttl)
    token, _claims = svc.sign(grant)
    answer = _post_page(origin, token)
    answer.delete_cookie(COOKIE, path=CALLBACK)
    return answer


async def _discovery(issuer: str) -> dict[str, Any]:
    try:
        async with outbound.async_client(timeout=10.0) as client:
            found = await client.get(issuer + "/.well-known/openid-configuration")
        doc: dict[str, Any] = found.json()
        if found.status_code == 200 and doc.get("issuer") == issuer:
            return doc
    except (httpx.HTTPError, ValueError):
        pass
    raise errors.ServiceUnavailable(f"The identity provider at {issuer} did not answer.")


async def _exchange_code(svc: IdentityService, flow: dict[str, str], code: str) -> str:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": svc.settings.issuer + CALLBACK,
        "client_id": client_id(svc.settings.landlord),
        "code_verifier": flow["verifier"],
    }
    try:
        async with outbound.async_client(timeout=10.0) as client:
            answer = await client.post(flow["token_endpoint"], data=form)
    except httpx.HTTPError as exc:
        raise errors.ServiceUnavailable("The identity provider did not answer.") from exc
    if answer.status_code != 200:
        raise errors.Unauthorized(f"The identity provider refused the code: {answer.text[:200]}")
    return str(answer.json()["access_token"])


def _post_page(origin: str, token: str) -> HTMLResponse:
    """A page whose form POSTs the token to the dashboard (by itself, with a nonce'd script)."""
    nonce = secrets.token_urlsafe(16)
    page = (
        "<!doctype html><title>Signing in…</title>"
        f'<form method="post" action="{html.escape(origin)}" id="websso">'
        f'<input type="hidden" name="token" value="{html.escape(token)}">'
        '<noscript><button type="submit">Continue to the dashboard</button></noscript></form>'
        f'<script nonce="{nonce}">document.getElementById("websso").submit();</script>'
    )
    target = httpx.URL(origin)
    policy = (
        f"default-src 'none'; script-src 'nonce-{nonce}'; "
        f"form-action {target.scheme}://{target.netloc.decode()}; "
        "frame-ancestors 'none'; base-uri 'none'"
    )
    headers = {
        "Content-Security-Policy": policy,
        "Cache-Control": "no-store",
        "Referrer-Policy": "no-referrer",
    }
    return HTMLResponse(page, headers=headers)


def _challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _pack(flow: dict[str, str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(flow).encode()).decode()


def _unpack(value: str) -> dict[str, str] | None:
    try:
        doc = json.loads(base64.urlsafe_b64decode(value.encode()))
    except (ValueError, TypeError):
        return None
    return doc if isinstance(doc, dict) and "state" in doc else None
