"""Object requests: sent to the landlord of their container, streamed both ways.

Everything the landlord understands passes through as it is: ranges, conditional requests,
metadata, ``X-Delete-At``, static and dynamic large-object manifests (their segment
containers live with the manifest's container: see :mod:`ocx.proxy.names`), temp-URL keys
and ACL headers. Copies are in :mod:`ocx.proxy.api.copying`.

Partial failure: the container's landlord unreachable before the answer → 503 naming it; it
breaking off mid-body → the client's connection is dropped short (never a short object that
looks whole); an upload it breaks off is never committed there (landlords store on commit).
"""

from __future__ import annotations

from starlette.responses import Response

from ocx.proxy import headers as h
from ocx.proxy import locate
from ocx.proxy.api import copying
from ocx.proxy.api.context import Call
from ocx.proxy.api.forward import forward
from ocx.proxy.api.relay import upload_of


async def handle(call: Call) -> Response:
    """HEAD, GET, PUT, POST and DELETE of an object; COPY and PUT with X-Copy-From copy."""
    if call.method == "COPY":
        return await copying.copy(call)
    if call.method == "PUT" and "x-copy-from" in call.headers:
        return await copying.copy_from(call)
    container = str(call.request.path_params["container"])
    located = await locate.locate(call.session, container, call.headers.get(h.LANDLORD))
    upload = upload_of(call.request, call.svc.settings.read_timeout)
    return await forward(call, located, object_name(call), upload=upload)


def object_name(call: Call) -> str:
    return str(call.request.path_params["obj"])
