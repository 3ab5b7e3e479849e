"""Container requests: placed (PUT) or found (the rest), then sent to that landlord.

Partial failure: the container's landlord unreachable → 503 naming it; a bare name that
cannot be found because some landlord is silent → 503 (it may be there); a new bare name
while some landlord reached before is silent → 503 unless the client names the landlord (a
provider never reached is left out and named in X-OCX-Missing-Landlords).
"""

from __future__ import annotations

from starlette.responses import Response

from ocx.proxy import headers as h
from ocx.proxy import locate
from ocx.proxy.api.context import Call
from ocx.proxy.api.forward import forward, is_ok
from ocx.proxy.api.relay import Upload, upload_of
from ocx.proxy.errors import described
from ocx.proxy.landlords import OBJECT_STORE


def _name(call: Call) -> str:
    return str(call.request.path_params["container"])


def _upload(call: Call) -> Upload | None:
    return upload_of(call.request, call.svc.settings.read_timeout)


async def put(call: Call) -> Response:
    raw = _name(call)
    located = await locate.place(
        call.session, raw, call.headers.get(h.LANDLORD), call.headers.get(h.PLACEMENT)
    )
    extra = {h.PLACEMENT: located.reason}
    if located.missing:
        extra[h.MISSING] = described(list(located.missing))
    answer = await forward(call, located, None, upload=_upload(call), extra=extra)
    if is_ok(answer) and located.reason != "explicit":
        call.svc.routes.put(call.session.account_key, OBJECT_STORE, located.bare, located.landlord)
    return answer


async def read(call: Call) -> Response:
    """GET (the object listing, from the landlord as it is) and HEAD."""
    located = await locate.locate(call.session, _name(call), call.headers.get(h.LANDLORD))
    extra = {"X-OCX-Storage-Url": located.backend.storage_url}
    return await forward(call, located, None, extra=extra)


async def post(call: Call) -> Response:
    located = await locate.locate(call.session, _name(call), call.headers.get(h.LANDLORD))
    return await forward(call, located, None, upload=_upload(call))


async def delete(call: Call) -> Response:
    located = await locate.locate(call.session, _name(call), call.headers.get(h.LANDLORD))
    answer = await forward(call, located, None)
    if is_ok(answer) or answer.status_code == 404:
        call.svc.routes.forget(call.session.account_key, OBJECT_STORE, located.bare)
    return answer
