"""HTTP for the OIDC provider: discovery, token, authorize, userinfo, and the client admin API.

The OAuth endpoints answer errors the OAuth way, ``{"error", "error_description"}`` (RFC 6749
§5.2, RFC 6750 §3), because OAuth clients parse those: handlers raise :class:`OAuthError` and
:func:`on_oauth_error`, which the identity app installs next to the common error renderers,
renders it.
The admin API under ``/v3/OS-OCX/oidc/clients`` raises the usual OCX errors and so answers in
Keystone's format, like the rest of ``/v3``.
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape
from typing import Any
from urllib.parse import parse_qsl

from fastapi import Depends, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from pydantic import BaseModel, ConfigDict, Field

from ocx.common.auth import Principal
from ocx.identity.api.deps import base_url, caller, collection, service
from ocx.identity.federation.models import OidcClient
from ocx.identity.oidc import clients
from ocx.identity.oidc.errors import (
    InvalidToken,
    LoginFailed,
    OAuthError,
    Redirected,
    invalid_request,
)
from ocx.identity.oidc.provider import AUTHORIZE_PATH, Login, Provider
from ocx.identity.service import IdentityService
from ocx.identity.tokens import isotime

CLIENTS_PATH = "/v3/OS-OCX/oidc/clients"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
FORM = "application/x-www-form-urlencoded"
MAX_FORM_BYTES = 64 * 1024
MAX_FORM_FIELDS = 64


def provider(svc: IdentityService = Depends(service)) -> Provider:
    return Provider(svc)


def oauth_error(exc: OAuthError) -> JSONResponse:
    body = {"error": exc.error, "error_description": exc.description}
    return JSONResponse(body, status_code=exc.status, headers={**NO_STORE, **exc.headers})


async def on_oauth_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, OAuthError)
    return oauth_error(exc)


# --- OAuth 2.0 / OpenID Connect endpoints ----------------------------------------------------


async def discovery(p: Provider = Depends(provider)) -> dict[str, Any]:
    return p.discovery()


async def token(request: Request, p: Provider = Depends(provider)) -> Response:
    form = await read_form(request)
    auth = clients.credentials(request.headers.get("authorization"), form)
    return JSONResponse(await p.token(auth, form), headers=NO_STORE)


async def userinfo(request: Request, p: Provider = Depends(provider)) -> Response:
    found = await p.userinfo(bearer(request.headers.get("authorization")))
    return JSONResponse(found, headers=NO_STORE)


async def authorize(request: Request, p: Provider = Depends(provider)) -> Response:
    params: dict[str, str] = {}
    try:
        params = await read_form(request) if request.method == "POST" else query(request)
        return await _authorize(request, p, params)
    except Redirected as exc:
        return RedirectResponse(exc.location, _redirect_status(request), headers=NO_STORE)
    except LoginFailed as exc:
        if "x-auth-token" in request.headers:
            return oauth_error(exc)
        return login_page(p, params, exc.description, status=401)


async def _authorize(request: Request, p: Provider, params: dict[str, str]) -> Response:
    req = await p.authorization_request(params)
    login = await _login(request, p, params)
    if login is None:
        if req.prompt == "none":
            raise p.redirect_error(
                req.redirect_uri, req.state, "login_required", "The user is not signed in."
            )
        return login_page(p, params)
    location = await p.issue_code(req, login)
    return RedirectResponse(location, _redirect_status(request), headers=NO_STORE)


async def _login(request: Request, p: Provider, params: dict[str, str]) -> Login | None:
    """The user's sign-in: a landlord token in X-Auth-Token, or the login form's POST."""
    token = request.headers.get("x-auth-token")
    if token:
        return await p.login_with_token(token)
    if request.method == "POST" and "username" in params:
        return await p.login_with_password(params["username"], params.get("password", ""))
    return None


def _redirect_status(request: Request) -> int:
    # 303 turns the browser's form POST into a GET of the client's redirect_uri.
    return 303 if request.method == "POST" else 302


LOGIN_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in to {landlord}</title></head>
<body><h1>Sign in to {landlord}</h1><p>for the application <b>{client}</b></p>{note}
<form method="post" action="{action}">{hidden}
<p><label>User name <input name="username" autocomplete="username" required></label></p>
<p><label>Password <input name="password" type="password" autocomplete="current-password"
required></label></p>
<p><button type="submit">Sign in</button></p></form>
<p>Users outside the Default domain sign in as <code>name@domain</code>.</p></body></html>
"""
PAGE_HEADERS = {
    **NO_STORE,
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
}


def login_page(
    p: Provider, params: dict[str, str], message: str | None = None, status: int = 200
) -> HTMLResponse:
    hidden = "".join(
        f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">'
        for k, v in params.items()
        if k not in ("username", "password")
    )
    page = LOGIN_PAGE.format(
        landlord=escape(p.svc.settings.landlord),
        client=escape(params.get("client_id", "")),
        note=f'<p role="alert">{escape(message)}</p>' if message else "",
        action=AUTHORIZE_PATH,
        hidden=hidden,
    )
    return HTMLResponse(page, status_code=status, headers=PAGE_HEADERS)


async def read_form(request: Request) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` body, each parameter at most once."""
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type != FORM:
        raise invalid_request(f"The request body must be {FORM}.")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise invalid_request("The request body is too large.")
    try:
        text = body.decode()
        pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
    except ValueError:
        raise invalid_request("The request body is not a valid form.") from None
    return unique(pairs)


def query(request: Request) -> dict[str, str]:
    return unique(request.query_params.multi_items())


def unique(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    found: dict[str, str] = {}
    for name, value in pairs:
        if name in found:
            raise invalid_request(f"{name} is given more than once.")
        found[name] = value
    return found


def bearer(authorization: str | None) -> str:
    scheme, _, value = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise InvalidToken("An access token is required: Authorization: Bearer <token>.")
    return value.strip()


# --- the client admin API (Keystone style) ---------------------------------------------------


class ClientIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    client_id: str | None = Field(None, min_length=1, max_length=255)
    name: str = Field(min_length=1, max_length=255)
    redirect_uris: list[str] = Field(default_factory=list, max_length=32)
    grant_types: list[str] = Field(min_length=1, max_length=len(clients.GRANT_TYPES))
    audience: str = Field(min_length=1, max_length=255)
    public: bool = False
    service_user_id: str | None = None


class ClientBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    client: ClientIn


def client_view(base: str, row: OidcClient, secret: str | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": row.client_id,
        "client_id": row.client_id,
        "name": row.name,
        "redirect_uris": list(row.redirect_uris),
        "grant_types": list(row.grant_types),
        "audience": row.audience,
        "public": clients.is_public(row),
        "service_user_id": row.service_user_id,
        "created_at": isotime(row.created_at),
        "links": {"self": f"{base}{CLIENTS_PATH}/{row.client_id}"},
    }
    if secret is not None:
        doc["client_secret"] = secret  # shown this once; only its hash is kept
    return doc


async def create_client(
    body: ClientBody,
    request: Request,
    response: Response,
    svc: IdentityService = Depends(service),
    who: Principal = Depends(caller),
) -> dict[str, Any]:
    spec = clients.ClientSpec(**body.client.model_dump())
    row, secret = await clients.register(svc, who, spec)
    response.status_code = 201
    return {"client": client_view(base_url(request), row, secret)}


async def list_clients(
    request: Request, svc: IdentityService = Depends(service), who: Principal = Depends(caller)
) -> dict[str, Any]:
    docs = [client_view(base_url(request), row) for row in await clients.listed(svc, who)]
    return collection(request, "clients", docs)


async def get_client(
    client_id: str,
    request: Request,
    svc: IdentityService = Depends(service),
    who: Principal = Depends(caller),
) -> dict[str, Any]:
    row = await clients.get(svc, who, client_id)
    return {"client": client_view(base_url(request), row)}


async def delete_client(
    client_id: str, svc: IdentityService = Depends(service), who: Principal = Depends(caller)
) -> Response:
    await clients.delete(svc, who, client_id)
    return Response(status_code=204)
