"""The proxy's version documents for Nova, Cinder and Glance.

Each landlord's own document is read (cached for a minute per landlord URL) and the proxy
answers with the first one's shape, its links pointing at the proxy, and for microversioned
APIs the range every landlord accepts: the highest minimum and the **lowest maximum**. A
request for ``latest`` is sent on as that maximum, so every landlord answers alike.
"""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ocx.common import errors
from ocx.common.auth import token_of
from ocx.proxy.openstack.apis import Api
from ocx.proxy.openstack.call import landlord_root
from ocx.proxy.openstack.merge import rewrite_urls, version_range
from ocx.proxy.service import ProxyService
from ocx.proxy.session import Session
from ocx.proxy.wire import WireError, parse_url

TTL = 60.0


Document = tuple[int, dict[str, Any]]  # the landlord's status (200, or 300 at a root) and body


async def _document(svc: ProxyService, url: str) -> Document | None:
    cached = svc.version_docs.get(url)
    if cached is not None:
        return cached
    try:
        async with asyncio.timeout(svc.settings.fanout_timeout):
            answer = await svc.data.request("GET", parse_url(url), [("accept", "application/json")])
            body = await answer.aread()
        doc = json.loads(body)
    except (WireError, TimeoutError, ValueError):
        return None
    if not isinstance(doc, dict) or answer.status_code not in (200, 300):
        return None
    svc.version_docs.put(url, (answer.status_code, doc), svc.version_docs.clock() + TTL)
    return answer.status_code, doc


def _entries(doc: dict[str, Any]) -> list[dict[str, Any]]:
    if isinstance(doc.get("version"), dict):
        return [doc["version"]]
    versions = doc.get("versions")
    if isinstance(versions, dict):  # Keystone-style {"versions": {"values": [...]}}
        versions = versions.get("values")
    return [v for v in versions or [] if isinstance(v, dict)]


async def endpoints_for(request: Request, api: Api) -> list[str]:
    """The API's endpoint at each of the caller's landlords (without a token: at home, at the
    landlords that admit home's users, and at those the proxy last saw running it).

    Without a token and with no such landlord (none of those runs such a service, and no
    customer has used it through the proxy yet), the answer depends on whose landlords they
    are: 401, which keystoneauth's discovery (openstacksdk, the CLI) takes as "ask again with
    the token". A 503 made it give up discovery and use the catalog URL knowing no
    microversion, so calls that need one went out at 3.0 and failed (volume attachments,
    3.27: 404). cinderclient cannot take either (it reads ``versions`` from any answer), so
    the admitting landlords come first."""
    svc: ProxyService = request.app.state.service
    token = token_of(request)
    if token:
        caller = await svc.caller(token)
        session = Session(svc, caller, [], api.catalog_type)
        results = await session.fan_out(lambda b: _url(b, api), "version documents")
        return [url for _, url in sorted(results.answers, key=lambda a: a[0].rank)]
    home = svc.settings.home_endpoints.get(api.catalog_type)
    known = [home] if home else []
    for url in [
        *svc.settings.peer_endpoints.get(api.catalog_type, []),
        *svc.known_endpoints.get(api.catalog_type, []),
    ]:
        if url not in known:
            known.append(url)
    if not known:
        raise errors.Unauthorized(
            f"The {api.name} versions here are those of your landlords: send your token."
        )
    return known


async def _url(backend: Any, api: Api) -> str:
    return str(backend.url(api.catalog_type))


async def documents(request: Request, api: Api) -> list[tuple[str, Document]]:
    svc: ProxyService = request.app.state.service
    urls = await endpoints_for(request, api)
    if not urls:
        raise errors.ServiceUnavailable(f"None of your landlords runs a {api.name} service.")
    svc.known_endpoints[api.catalog_type] = urls[:100]
    found = await asyncio.gather(*(_document(svc, _doc_url(api, request, u)) for u in urls))
    return [(u, d) for u, d in zip(urls, found, strict=True) if d is not None]


def _doc_url(api: Api, request: Request, endpoint: str) -> str:
    """The landlord's document for the path the client asked (the root, or the version)."""
    under = request.url.path[len(api.prefix) :]
    return landlord_root(api, endpoint) + (under or "/")


def combined(api: Api, proxy_root: str, found: Sequence[tuple[str, dict[str, Any]]]) -> Any:
    """The first landlord's document, links at the proxy, microversions every landlord has."""
    endpoint, first = found[0]
    doc = rewrite_urls(copy.deepcopy(first), landlord_root(api, endpoint), proxy_root)
    if api.microversion_service is None:
        return doc
    for entry in _entries(doc):
        same = [e for _, d in found for e in _entries(d) if e.get("id") == entry.get("id")]
        span = version_range(same)
        if span is not None and entry.get("version"):
            entry["min_version"], entry["version"] = span
    return doc


async def serve(request: Request, api: Api) -> Response:
    found = await documents(request, api)
    if not found:
        raise errors.ServiceUnavailable(f"No landlord's {api.name} service answered.")
    svc: ProxyService = request.app.state.service
    proxy_root = svc.settings.public_url.rstrip("/") + api.prefix
    doc = combined(api, proxy_root, [(url, body) for url, (_, body) in found])
    status = found[0][1][0]
    return Response(json.dumps(doc).encode(), status, media_type="application/json")


async def maximum(request: Request, api: Api) -> str | None:
    """The highest microversion every one of the caller's landlords accepts."""
    found = await documents(request, api)
    spans = [version_range(_entries(doc)) for _, (_, doc) in found]
    highs = [s[1] for s in spans if s is not None]
    return min(highs, key=lambda v: tuple(int(p) for p in v.split("."))) if highs else None
