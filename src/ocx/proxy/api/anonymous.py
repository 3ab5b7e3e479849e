"""Requests without a token: temp URLs and public (``.r:*``) containers.

The home account has the very same path at the proxy and at the home landlord
(``/v1/AUTH_<home project>``), so such a request goes to the home landlord as it is, which
checks the signature or the ACL. A temp URL for a container at another landlord is found
and re-signed for that landlord's path when the proxy can (:mod:`ocx.proxy.api.tempurls`);
public containers elsewhere are reached at that landlord's own URL (``X-OCX-Storage-Url``).
"""

from __future__ import annotations

import math

from starlette.requests import Request
from starlette.responses import Response

from ocx.common import errors
from ocx.proxy.api import tempurls
from ocx.proxy.api.context import hops
from ocx.proxy.api.relay import Relay, upload_of
from ocx.proxy.errors import Unreachable, unavailable
from ocx.proxy.service import ProxyService
from ocx.proxy.tokens import Backend
from ocx.proxy.wire import parse_url
from ocx.swift.faults import fault


async def relay(request: Request) -> Response:
    svc: ProxyService = request.app.state.service
    passed = hops(request.headers, svc.settings)
    home = svc.settings.home_object_url
    if home is None:
        raise fault(errors.Unauthorized)
    away = await tempurls.elsewhere(svc, request, passed)
    if away is not None:
        backend, url = Backend(away.backend.landlord, 0, "", None, math.inf), away.url
    else:
        raw_path = bytes(request.scope.get("raw_path") or request.url.path.encode())
        query = bytes(request.scope.get("query_string", b""))
        path = (raw_path + (b"?" + query if query else b"")).decode("latin-1")
        url = parse_url(home).with_path(path)
        backend = Backend(svc.settings.landlord, 0, home, None, math.inf, home=True)
    upload = upload_of(request, svc.settings.read_timeout)
    body = upload.chunks() if upload is not None else None
    try:
        answer = await svc.upstream.open(
            backend, request.method, url, request.headers.items(), passed, body
        )
    except Unreachable as exc:
        raise unavailable(exc.landlord, exc.reason) from exc
    return Relay(answer, backend.landlord, head=request.method == "HEAD")
