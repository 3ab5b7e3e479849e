"""Image records: create, list, show, patch, delete, tags and (de)activation."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse

from ocx.common import errors
from ocx.image import listing, schemas, views
from ocx.image.api.deps import Caller, Service, json_body

PATCH_TYPES = (
    "application/openstack-images-v2.1-json-patch",
    "application/openstack-images-v2.0-json-patch",
)


async def create(request: Request, svc: Service, who: Caller) -> JSONResponse:
    doc = await json_body(request)
    if not isinstance(doc, dict):
        raise errors.BadRequest("An image is created from a JSON object.")
    image = await svc.store.create(who, doc)
    headers = {
        "Location": f"{svc.settings.public_url.rstrip('/')}/v2/images/{image.id}",
        "OpenStack-image-import-methods": "",
    }
    return JSONResponse(views.image(image), status_code=201, headers=headers)


async def index(request: Request, svc: Service, who: Caller) -> dict[str, Any]:
    params = list(request.query_params.multi_items())
    q = listing.parse(params, svc.settings.list_default, svc.settings.list_max)
    found, more = await svc.store.search(who, q)
    first = "/v2/images" + (f"?{request.url.query}" if request.url.query else "")
    body: dict[str, Any] = {
        "images": [views.image(i) for i in found],
        "first": first,
        "schema": "/v2/schemas/images",
    }
    if more and found:
        body["next"] = listing.next_link(params, found[-1].id)
    return body


async def show(image_id: str, svc: Service, who: Caller) -> dict[str, Any]:
    return views.image(await svc.store.get(who, image_id))


async def update(request: Request, image_id: str, svc: Service, who: Caller) -> dict[str, Any]:
    kind = request.headers.get("content-type", "").split(";")[0].strip()
    if kind not in PATCH_TYPES:
        raise errors.from_status(415, f"Unsupported Content-Type {kind!r}: send {PATCH_TYPES[0]}.")
    image = await svc.store.update(who, image_id, await json_body(request))
    return views.image(image)


async def delete(image_id: str, svc: Service, who: Caller) -> Response:
    await svc.delete(who, image_id)
    return Response(status_code=204)


async def add_tag(image_id: str, tag: str, svc: Service, who: Caller) -> Response:
    await svc.store.set_tag(who, image_id, tag, add=True)
    return Response(status_code=204)


async def remove_tag(image_id: str, tag: str, svc: Service, who: Caller) -> Response:
    await svc.store.set_tag(who, image_id, tag, add=False)
    return Response(status_code=204)


async def deactivate(image_id: str, svc: Service, who: Caller) -> Response:
    await svc.store.set_active(who, image_id, active=False)
    return Response(status_code=204)


async def reactivate(image_id: str, svc: Service, who: Caller) -> Response:
    await svc.store.set_active(who, image_id, active=True)
    return Response(status_code=204)


async def schema(name: str) -> dict[str, Any]:
    make = schemas.ALL.get(name)
    if make is None:
        raise errors.NotFound(f"There is no schema named {name!r}.")
    return make()
