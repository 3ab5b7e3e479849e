"""One request to the proxy's Nova, Cinder or Glance: the verified caller's session for that
service, calls to a landlord's endpoint, and answers rendered back with the proxy's URLs.

A landlord's JSON answers are passed on with every URL under that landlord's service rewritten
to the proxy's (links, ``Location``), the landlord named in ``X-OCX-Landlord``, and the
landlord shown as the availability zone of its servers and volumes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ocx.common import errors
from ocx.common.auth import token_of
from ocx.proxy import headers as h
from ocx.proxy.api.context import hops
from ocx.proxy.errors import Unreachable, unavailable
from ocx.proxy.openstack.apis import Api
from ocx.proxy.openstack.merge import rewrite_urls
from ocx.proxy.service import ProxyService
from ocx.proxy.session import Session
from ocx.proxy.tokens import Backend
from ocx.proxy.wire import Response as Answer
from ocx.proxy.wire import parse_url

JSON = "application/json"
# Headers of the client's that do not describe the body the proxy sends on (it re-encodes it).
NOT_SENT = frozenset({"content-length", "accept-encoding"})
READS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass
class OsCall:
    request: Request
    svc: ProxyService
    api: Api
    session: Session

    @property
    def proxy_root(self) -> str:
        return self.svc.settings.public_url.rstrip("/") + self.api.prefix

    @property
    def query(self) -> str:
        return bytes(self.request.scope.get("query_string", b"")).decode("latin-1")

    def session_for(self, api: Api) -> Session:
        """The same caller's session for another of the APIs (a server's volume, its image)."""
        return Session(self.svc, self.session.caller, self.session.hops, api.catalog_type)

    async def body(self) -> dict[str, Any]:
        try:
            doc = json.loads(await self.request.body())
        except ValueError:
            raise errors.BadRequest("The request body is not valid JSON.") from None
        if not isinstance(doc, dict):
            raise errors.BadRequest("The request body must be a JSON object.")
        return doc


async def begin(request: Request, api: Api) -> OsCall:
    svc: ProxyService = request.app.state.service
    path = hops(request.headers, svc.settings)
    token = token_of(request)
    if not token:
        raise errors.Unauthorized("The request you have made requires authentication.")
    caller = await svc.caller(token)
    return OsCall(request, svc, api, Session(svc, caller, path, api.catalog_type))


def landlord_root(api: Api, endpoint: str) -> str:
    """``http://mit:8774/v2.1`` → ``http://mit:8774``: what the API's paths are under."""
    base = endpoint.rstrip("/")
    if api.version_path and api.version_path in base:
        base = base[: base.rindex(api.version_path)]
    return base


def root_of(api: Api, backend: Backend) -> str:
    endpoint = backend.url(api.catalog_type)
    if endpoint is None:
        raise errors.NotFound(f"{backend.landlord} runs no {api.catalog_type} service.")
    return landlord_root(api, endpoint)


def sent_headers(call: OsCall, extra: Mapping[str, str] | None = None) -> list[tuple[str, str]]:
    """The client's headers for a landlord (its microversion header passed on as it is,
    ``latest`` pinned to the proxy's maximum by :mod:`ocx.proxy.openstack.versions`)."""
    pinned = call.request.scope.get("state", {}).get("ocx_version_headers", {})
    out = [
        (name, pinned.get(name.lower(), value))
        for name, value in call.request.headers.items()
        if name.lower() not in NOT_SENT
    ]
    return [*out, *(extra or {}).items()]


async def send(
    call: OsCall,
    backend: Backend,
    method: str,
    path: str,
    *,
    query: str | None = None,
    body: bytes | None = None,
    headers: Iterable[tuple[str, str]] | None = None,
) -> Answer:
    """One whole (small) request at a landlord; raises Unreachable.

    A write drops the customer's listing pages kept at that landlord, before it is sent and
    once it is answered; a landlord that fails drops everyone's (:mod:`ocx.proxy.pages`)."""
    text = call.query if query is None else query
    url = parse_url(root_of(call.api, backend) + path + (f"?{text}" if text else ""))
    sent = list(sent_headers(call) if headers is None else headers)
    if body is not None:
        sent.append(("content-type", JSON))
    writes = method not in READS
    if writes:
        changed(call, backend.landlord)
    try:
        async with call.svc.lanes.turn(url.origin, backend.landlord):
            answer = await call.svc.upstream.call(
                backend, method, url, sent, call.session.hops, body
            )
    except Unreachable:
        call.svc.pages.unreachable(backend.landlord)
        raise
    finally:
        if writes:
            changed(call, backend.landlord)
    if answer.status_code >= 500:
        call.svc.pages.unreachable(backend.landlord)
    return answer


def changed(call: OsCall, landlord: str) -> None:
    """The customer's resources at ``landlord`` change: their next listing asks it again."""
    call.svc.pages.changed(call.session.account_key, landlord)


async def send_or_503(call: OsCall, backend: Backend, method: str, path: str, **kw: Any) -> Answer:
    try:
        return await send(call, backend, method, path, **kw)
    except Unreachable as exc:
        raise unavailable(exc.landlord, exc.reason) from exc


def localize(call: OsCall, doc: Any, landlord: str) -> Any:
    """A landlord's document as the proxy shows it: its URLs and its zones the proxy's."""
    backend_root = call.request.scope.get("state", {}).get("ocx_roots", {}).get(landlord)
    if backend_root:
        doc = rewrite_urls(doc, backend_root, call.proxy_root)
    for collection in call.api.collections:
        if collection.zone_field is None or not isinstance(doc, dict):
            continue
        for item in _members(doc, collection.member, collection.key):
            if collection.zone_field in item:
                item[collection.zone_field] = landlord
    return doc


def _members(doc: dict[str, Any], member: str, key: str) -> list[dict[str, Any]]:
    found = doc.get(member)
    items = [found] if isinstance(found, dict) else []
    listed = doc.get(key)
    items += [i for i in listed if isinstance(i, dict)] if isinstance(listed, list) else []
    return items


def remember_root(call: OsCall, backend: Backend) -> None:
    """Note the landlord's root for this request, so its URLs can be rewritten."""
    state = call.request.scope.setdefault("state", {})
    state.setdefault("ocx_roots", {})[backend.landlord] = root_of(call.api, backend)


def reply(call: OsCall, backend: Backend, answer: Answer) -> Response:
    """The landlord's answer for the client: JSON localized, headers passed on."""
    remember_root(call, backend)
    body = answer.content
    kind = answer.headers.get("content-type") or ""
    if body and "json" in kind:
        try:
            doc = localize(call, json.loads(body), backend.landlord)
            body = json.dumps(doc).encode()
        except ValueError:
            pass  # not JSON after all: passed on as it came
    out = [(n, v) for n, v in h.incoming(answer.headers.items()) if n != "content-length"]
    roots = call.request.scope["state"]["ocx_roots"]
    out = [(n, rewrite_urls(v, roots[backend.landlord], call.proxy_root)) for n, v in out]
    out.append((h.LANDLORD, backend.landlord))
    response = Response(body, status_code=answer.status_code)
    response.raw_headers = [*h.encode(out), (b"content-length", str(len(body)).encode())]
    return response


ECHOED = ("openstack-api-version", "x-openstack-nova-api-version", "vary")


def note_version(call: OsCall, answer: Answer) -> None:
    """Keep the microversion a landlord answered with, for a merged answer to echo."""
    state = call.request.scope.setdefault("state", {})
    if "ocx_echo" not in state:
        state["ocx_echo"] = {k: v for k in ECHOED if (v := answer.headers.get(k)) is not None}


def composed(
    doc: Any, status: int = 200, extra: Mapping[str, str] | None = None, call: OsCall | None = None
) -> Response:
    """An answer the proxy writes itself (a merged listing, zones, a version document)."""
    echo = call.request.scope.get("state", {}).get("ocx_echo", {}) if call else {}
    headers = {"Content-Type": JSON, **echo, **(extra or {})}
    return Response(json.dumps(doc).encode(), status_code=status, headers=headers)
