"""Temp URLs at the proxy's path for containers away from home.

A temp URL signed for ``<proxy>/v1/AUTH_<home project>/<container>/<object>`` is valid, as it
is, only at the home landlord (the same path). For a container at another landlord the
customer's account there has another path, so the signature would not hold there. The proxy
finds the container's landlord without a token: from its routing table (the container was
found or placed for a user of that project), else by asking every landlord where it holds a
live token of such a user (got when they came through the proxy). It reads the account's and
the container's temp-URL keys there with that token, checks the signature against them as the
landlord would, and, only if one matches, sends the request on with the same method, expiry
(and prefix) signed with that key for the landlord's own path. The landlord checks that
signature again, with its own rules (a container key's confinement included); the token is
only used to read the keys, never sent with the request.

Without such a token (the customer has not used the proxy while their current token lives,
or the proxy restarted since), the request goes home as before: sign the landlord's own URL
(``X-OCX-Storage-Url``) then.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

from starlette.requests import Request

from ocx.common import errors
from ocx.proxy import upstream
from ocx.proxy.errors import Unreachable
from ocx.proxy.landlords import OBJECT_STORE
from ocx.proxy.service import ProxyService
from ocx.proxy.tokens import Backend
from ocx.proxy.wire import Url, parse_url
from ocx.swift import tempurl


@dataclass(frozen=True)
class Resigned:
    backend: Backend
    url: Url


async def elsewhere(svc: ProxyService, request: Request, hops: Sequence[str]) -> Resigned | None:
    """Where a temp-URL request for a container away from home goes, re-signed; None to send
    it home unchanged (not a temp URL, or no landlord elsewhere holds the container)."""
    params = request.path_params
    account, container, obj = (params.get(k) for k in ("account", "container", "obj"))
    query = request.query_params
    if not (account and container and obj and "temp_url_sig" in query):
        return None
    if not str(account).startswith("AUTH_"):
        return None
    project = str(account)[len("AUTH_") :]
    try:
        temp = tempurl.TempUrl.from_query(query)
    except errors.OCXError:
        return None  # malformed: home answers it in its own words
    held = [(u, b) for u, b in svc.translator.held(project) if b.storage_url]
    routed = svc.routes.of_project(project, OBJECT_STORE, str(container))
    if routed and all(at == svc.settings.landlord for at in routed.values()):
        return None  # known to be at home
    known = [(u, b) for u, b in held if routed.get(u) == b.landlord]
    found = await _signed_for(
        svc, known or held, temp, request.method, account, container, obj, hops
    )
    if not found:
        return None
    if len({b.storage_url for b, _ in found}) > 1:
        raise errors.Conflict(
            "This temp URL is valid for containers at several landlords; sign the landlord's "
            "own URL (X-OCX-Storage-Url) instead."
        )
    backend, key = found[0]
    return Resigned(backend, _resigned_url(backend, request, temp, key, container, obj))


async def _signed_for(
    svc: ProxyService,
    held: Sequence[tuple[str, Backend]],
    temp: tempurl.TempUrl,
    method: str,
    account: str,
    container: str,
    obj: str,
    hops: Sequence[str],
) -> list[tuple[Backend, str]]:
    """The backends holding ``container`` whose temp-URL keys sign this request, each with
    the key that does."""

    async def one(backend: Backend) -> tuple[Backend, str] | None:
        try:
            async with asyncio.timeout(svc.settings.fanout_timeout):
                keys = await _keys(svc, backend, container, hops)
        except (TimeoutError, Unreachable):
            return None
        for key, scope in keys:
            try:
                tempurl.verify(temp, method, account, container, obj, [(key, scope)])
            except errors.OCXError:
                continue
            return backend, key
        return None

    outcomes = await asyncio.gather(*(one(b) for _, b in held))
    return [o for o in outcomes if o is not None]


async def _keys(
    svc: ProxyService, backend: Backend, container: str, hops: Sequence[str]
) -> list[tuple[str, str | None]]:
    """The account's and the container's temp-URL keys at the landlord; none if the
    container is not there."""
    base = backend.storage_url
    at_container = upstream.target(base, container)
    answers = await asyncio.gather(
        svc.upstream.call(backend, "HEAD", upstream.target(base), (), hops),
        svc.upstream.call(backend, "HEAD", at_container, (), hops),
    )
    account, found = answers
    if not 200 <= found.status_code < 300:
        return []
    keys: list[tuple[str, str | None]] = []
    for name in tempurl.KEY_NAMES:
        if value := account.headers.get(f"x-account-meta-{name}"):
            keys.append((value, None))
    for name in tempurl.KEY_NAMES:
        if value := found.headers.get(f"x-container-meta-{name}"):
            keys.append((value, container))
    return keys


def _resigned_url(
    backend: Backend, request: Request, temp: tempurl.TempUrl, key: str, container: str, obj: str
) -> Url:
    """The landlord's URL for the object, the query's signature made for its path."""
    remote = parse_url(backend.storage_url).path.split("?", 1)[0].rstrip("/")
    if temp.prefix is not None:
        path = f"prefix:{remote}/{container}/{temp.prefix}"
    else:
        path = f"{remote}/{container}/{obj}"
    signature = tempurl.sign(key, request.method, temp.expires, path)
    raw = bytes(request.scope.get("query_string", b"")).decode("latin-1")
    pairs = [
        (name, signature if name == "temp_url_sig" else value)
        for name, value in parse_qsl(raw, keep_blank_values=True)
    ]
    return upstream.target(backend.storage_url, container, obj, urlencode(pairs).encode())
