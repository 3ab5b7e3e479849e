"""The dashboard's front: static files, security headers, and Horizon behind them.

Every answer carries the site's security headers, whatever Horizon set: a content security
policy (no other origin may script, style, frame or receive a form from these pages), no
framing, no MIME sniffing, and no referrer beyond this site. Static files are served here from
the collected root, so Horizon's workers only render pages.
"""

from __future__ import annotations

import html
import logging

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ocx.dashboard.horizon_process import HorizonMissing, HorizonProcess

log = logging.getLogger("ocx.dashboard")

# Horizon's own pages use inline scripts and Angular's eval, so scripts are 'self' plus
# 'unsafe-inline'/'unsafe-eval'; every other kind of content, and where forms may go, is
# this site only (WebSSO's form posts to the identity service: ``form_action``).
CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'; "
    "form-action 'self' {form_action}"
)
# Horizon's slowest pages call several services in turn; gunicorn's own limit is 120 s.
TIMEOUTS = {"connect": 5.0, "read": 120.0, "write": 60.0, "pool": 10.0}
HOP_BY_HOP = {
    b"connection",
    b"keep-alive",
    b"transfer-encoding",
    b"te",
    b"trailer",
    b"upgrade",
    b"proxy-authenticate",
    b"proxy-authorization",
    b"content-length",
}


class SecurityHeaders:
    """Adds the site's security headers to every answer (replacing any of the same name)."""

    def __init__(self, app: ASGIApp, csp: str):
        self.app = app
        self.headers = [
            (b"content-security-policy", csp.encode()),
            (b"x-frame-options", b"DENY"),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"same-origin"),
        ]
        self.names = {name for name, _ in self.headers}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers", []) if k not in self.names]
                message["headers"] = kept + self.headers
            await send(message)

        await self.app(scope, receive, with_headers)


class Relay:
    """Sends each request to Horizon over its Unix socket and its answer back, unchanged.

    It speaks through the bare transport, never an ``httpx.AsyncClient``: a client keeps a
    cookie jar, which would hand one visitor's session cookie to every other visitor.
    """

    def __init__(self, horizon: HorizonProcess):
        self.horizon = horizon
        self.transport: httpx.AsyncHTTPTransport | None = None

    def _transport(self) -> httpx.AsyncHTTPTransport:
        if self.transport is None:
            socket = str(self.horizon.settings.socket_path)
            self.transport = httpx.AsyncHTTPTransport(uds=socket)
        return self.transport

    async def handle(self, request: Request) -> Response:
        try:
            await self.horizon.ensure_started()
        except HorizonMissing as exc:
            return _unavailable(str(exc))
        except RuntimeError as exc:
            log.error("dashboard unavailable: %s", exc)
            return _unavailable("Horizon could not be started; the landlord's log says why.")
        headers = [(k, v) for k, v in request.headers.raw if k.lower() not in HOP_BY_HOP]
        upstream = httpx.Request(
            request.method,
            _target(request),
            headers=headers,
            content=await request.body(),
            extensions={"timeout": TIMEOUTS},
        )
        answer = await self._transport().handle_async_request(upstream)
        try:
            body = b"".join([chunk async for chunk in answer.aiter_raw()])
        finally:
            await answer.aclose()
        response = Response(body, status_code=answer.status_code)
        response.raw_headers = [
            (k.lower(), v) for k, v in answer.headers.raw if k.lower() not in HOP_BY_HOP
        ] + [(b"content-length", str(len(body)).encode())]
        return response

    async def close(self) -> None:
        if self.transport is not None:
            await self.transport.aclose()
            self.transport = None


def _target(request: Request) -> str:
    query = request.url.query
    return "http://horizon" + request.url.path + (f"?{query}" if query else "")


def _unavailable(reason: str) -> Response:
    page = f"<!doctype html><title>Dashboard unavailable</title><p>{html.escape(reason)}</p>"
    return HTMLResponse(page, status_code=503, headers={"Retry-After": "5"})


async def healthz(_request: Request) -> Response:
    return JSONResponse({"status": "ok", "service": "dashboard"})


def build(horizon: HorizonProcess, relay: Relay, form_action: str) -> ASGIApp:
    """The part's ASGI app: ``/healthz``, ``/static``, and Horizon for the rest."""
    methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
    static = StaticFiles(directory=horizon.settings.static_root, check_dir=False)
    app = Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Mount("/static", app=static),
            Route("/{path:path}", relay.handle, methods=methods),
        ]
    )
    return SecurityHeaders(app, CSP.format(form_action=form_action))
