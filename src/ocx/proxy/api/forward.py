"""Sending one request on to the landlord of its container, and correcting the routing cache.

When the request went by a cached route and drew a 404, the route is checked
(:func:`ocx.proxy.locate.after_404`); if the container has moved, the request is sent once
more to its new landlord, provided the proxy can still replay it: no body, or none of the
body read yet. Otherwise the landlord's 404 is passed on, and the next request finds the
container where it now is.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from starlette.responses import Response

from ocx.proxy import locate, upstream
from ocx.proxy.api.context import Call
from ocx.proxy.api.relay import Relay, Upload
from ocx.proxy.errors import Unreachable, unavailable
from ocx.proxy.locate import Located

Headers = Iterable[tuple[str, str]]


async def forward(
    call: Call,
    located: Located,
    obj: str | None,
    *,
    headers: Headers | None = None,
    upload: Upload | None = None,
    extra: Mapping[str, str] | None = None,
) -> Relay:
    sent = list(call.headers.items() if headers is None else headers)
    backend = located.backend
    url = upstream.target(backend.storage_url, located.bare, obj, call.raw_query)
    body = None if upload is None else upload.chunks()
    try:
        answer = await call.session.open(backend, call.method, url, sent, body)
    except Unreachable as exc:
        raise unavailable(exc.landlord, exc.reason, located.bare) from exc
    if answer.status_code == 404 and located.cached:
        try:
            moved = await _moved(call, located, obj is None)
        except BaseException:
            await answer.aclose()
            raise
        if moved is not None and (upload is None or not upload.started):
            await answer.aclose()
            return await forward(call, moved, obj, headers=sent, upload=upload, extra=extra)
    return Relay(answer, located.landlord, extra, head=call.method == "HEAD")


async def _moved(call: Call, located: Located, container_level: bool) -> Located | None:
    try:
        return await locate.after_404(call.session, located, container_level)
    except (Unreachable, TimeoutError):
        return None


def is_ok(response: Response) -> bool:
    return 200 <= response.status_code < 300
