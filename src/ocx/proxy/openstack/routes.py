"""The URL table of the proxy's Nova (``/compute``), Cinder (``/volume``) and Glance
(``/image``): each API's paths, under its prefix, to the handlers of the generic layer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ocx.common import errors
from ocx.common.app import error_response
from ocx.proxy.openstack import attach, create, handlers, listing, versions
from ocx.proxy.openstack.apis import APIS, COMPUTE, VOLUME, Api, Collection
from ocx.proxy.openstack.call import OsCall, begin

ALL = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]
Endpoint = Callable[[Request], Awaitable[Response]]
Handler = Callable[[OsCall], Awaitable[Response]]
VERSION_HEADERS = ("openstack-api-version", "x-openstack-nova-api-version")


def _faults(api: Api, run: Endpoint) -> Endpoint:
    """Faults in the API's own format (Nova's and Cinder's JSON, Glance's page)."""

    async def guarded(request: Request) -> Response:
        try:
            return await run(request)
        except errors.OCXError as exc:
            return error_response(exc, api.family)

    return guarded


def _call(api: Api, handler: Handler) -> Endpoint:
    async def run(request: Request) -> Response:
        call = await begin(request, api)
        await _pin_latest(request, api)
        return await handler(call)

    return _faults(api, run)


async def _pin_latest(request: Request, api: Api) -> None:
    """``latest`` means the newest microversion every landlord has, not each one's own."""
    if api.microversion_service is None:
        return
    wanted = {
        name.lower(): value.lower()
        for name, value in request.headers.items()
        if name.lower() in VERSION_HEADERS and "latest" in value.lower()
    }
    newest = await versions.maximum(request, api) if wanted else None
    if newest is not None:
        pinned = {name: value.replace("latest", newest) for name, value in wanted.items()}
        request.scope.setdefault("state", {})["ocx_version_headers"] = pinned


def _by_collection(api: Api, run: Callable[..., Awaitable[Response]], *names: str) -> Handler:
    """Run ``run`` on the collection the path names; an unknown one goes to the first landlord."""

    async def handler(call: OsCall) -> Response:
        params = call.request.path_params
        collection = api.collection(params["collection"])
        if collection is None:
            return await _first(call)
        return await run(call, collection, *(params[n] for n in names))

    return handler


async def _first(call: OsCall) -> Response:
    return await handlers.first_landlord(call, call.request.url.path[len(call.api.prefix) :])


def _listed(detail: bool) -> Callable[[OsCall, Collection], Awaitable[Response]]:
    async def run(call: OsCall, collection: Collection) -> Response:
        shown = detail or call.api is not COMPUTE  # Nova's plain list shows id, name, links
        if collection.gathered:
            return await listing.gathered(call, collection, shown)
        return await listing.listing(call, collection, shown)

    return run


def _versions(api: Api) -> Endpoint:
    async def run(request: Request) -> Response:
        return await versions.serve(request, api)

    return _faults(api, run)


def routes_for(api: Api) -> list[BaseRoute]:
    base = api.prefix + api.base
    top = [api.prefix, api.prefix + "/", base, base + "/"]
    if api is not COMPUTE:
        top.append(api.prefix + "/versions")

    def on(path: str, handler: Handler, *methods: str) -> Route:
        return Route(path, _call(api, handler), methods=list(methods))

    found: list[BaseRoute] = [Route(p, _versions(api), methods=["GET"]) for p in top]
    if api.zones:
        zones = base + "/os-availability-zone"
        found += [on(zones, handlers.zones, "GET"), on(zones + "/detail", handlers.zones, "GET")]
    if api is COMPUTE:
        found += attach.routes(base, on)
    if api is VOLUME:
        found.append(on(base + "/limits", handlers.summed_limits, "GET"))
        found.append(on(base + "/extensions", handlers.extensions, "GET"))
    member = base + "/{collection}/{rid}{rest:path}"
    return [
        *found,
        on(base + "/{collection}", _by_collection(api, _listed(False)), "GET"),
        on(base + "/{collection}", _by_collection(api, create.create), "POST"),
        on(base + "/{collection}/detail", _by_collection(api, _listed(True)), "GET"),
        on(member, _by_collection(api, handlers.member, "rid", "rest"), *ALL),
        on(base + "/{rest:path}", _first, *ALL),
    ]


def routes() -> list[BaseRoute]:
    return [route for api in APIS for route in routes_for(api)]
