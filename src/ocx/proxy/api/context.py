"""What every proxy handler starts from: loops refused, the caller verified, the account theirs.

The proxy serves each customer their own combined account only: ``/v1/AUTH_<project id of
the token>``. Any other account is 403, whatever ACLs the landlords hold (cross-account
access goes to the landlord directly). Requests without a token (temp URLs, public
containers) are relayed to the home landlord only (:mod:`ocx.proxy.api.anonymous`).
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.datastructures import Headers, QueryParams
from starlette.requests import Request

from ocx.common import errors
from ocx.common.auth import authenticate, token_of
from ocx.proxy import headers as h
from ocx.proxy.errors import LoopDetected
from ocx.proxy.service import ProxyService
from ocx.proxy.session import Session
from ocx.proxy.settings import ProxySettings
from ocx.swift.faults import fault
from ocx.swift.names import check_names


@dataclass
class Call:
    request: Request
    svc: ProxyService
    session: Session
    account: str

    @property
    def headers(self) -> Headers:
        return self.request.headers

    @property
    def query(self) -> QueryParams:
        return self.request.query_params

    @property
    def raw_query(self) -> bytes:
        return bytes(self.request.scope.get("query_string", b""))

    @property
    def method(self) -> str:
        return self.request.method


def hops(headers: Headers, settings: ProxySettings) -> list[str]:
    """The hops so far plus this proxy; 508 if this proxy is already among them."""
    seen = h.hops_of(headers.get(h.HOPS))
    if settings.proxy_id in seen:
        raise LoopDetected(f"This request has already passed through {settings.proxy_id}.")
    if len(seen) >= settings.max_hops:
        raise LoopDetected(f"This request has passed through {len(seen)} proxies already.")
    return [*seen, settings.proxy_id]


async def begin(request: Request) -> Call:
    svc: ProxyService = request.app.state.service
    check_names(request.path_params, request.scope.get("raw_path"))
    path = hops(request.headers, svc.settings)
    principal = await authenticate(request, svc)
    caller = await svc.caller(token_of(request) or "")  # remembered by the line above
    account = request.path_params["account"]
    if principal.project_id is None or account != f"AUTH_{principal.project_id}":
        raise fault(errors.Forbidden)
    return Call(request, svc, Session(svc, caller, path), account)
