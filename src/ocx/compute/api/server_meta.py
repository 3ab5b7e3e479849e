"""A server's metadata and tags."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response

from ocx.common import errors
from ocx.compute import boot
from ocx.compute.api.deps import Caller, Service, Ver, body


async def metadata(server_id: str, svc: Service, who: Caller) -> dict[str, Any]:
    return {"metadata": dict((await svc.servers.get(who, server_id)).meta)}


async def _items(request: Request, key: str) -> dict[str, str]:
    doc = await body(request)
    if not isinstance(doc, dict) or key not in doc:
        raise errors.BadRequest(f'Malformed request body: expected {{"{key}": {{...}}}}.')
    return boot.metadata(doc[key])


async def merge_metadata(
    request: Request, server_id: str, svc: Service, who: Caller
) -> dict[str, Any]:
    items = await _items(request, "metadata")
    return {"metadata": await svc.servers.set_meta(who, server_id, items, replace=False)}


async def replace_metadata(
    request: Request, server_id: str, svc: Service, who: Caller
) -> dict[str, Any]:
    items = await _items(request, "metadata")
    return {"metadata": await svc.servers.set_meta(who, server_id, items, replace=True)}


async def metadata_item(server_id: str, key: str, svc: Service, who: Caller) -> dict[str, Any]:
    found = (await svc.servers.get(who, server_id)).meta
    if key not in found:
        raise errors.NotFound("Metadata item was not found")
    return {"meta": {key: found[key]}}


async def set_metadata_item(
    request: Request, server_id: str, key: str, svc: Service, who: Caller
) -> dict[str, Any]:
    items = await _items(request, "meta")
    if list(items) != [key]:
        raise errors.BadRequest("Request body and URI mismatch")
    await svc.servers.set_meta(who, server_id, items, replace=False)
    return {"meta": items}


async def delete_metadata_item(server_id: str, key: str, svc: Service, who: Caller) -> Response:
    await svc.servers.unset_meta(who, server_id, key)
    return Response(status_code=204)


def _tags_allowed(v: Ver) -> None:
    if not v.at_least("2.26"):
        raise errors.NotFound("The resource could not be found.")


async def tags(server_id: str, svc: Service, who: Caller, v: Ver) -> dict[str, Any]:
    _tags_allowed(v)
    return {"tags": list((await svc.servers.get(who, server_id)).tags)}


async def replace_tags(
    request: Request, server_id: str, svc: Service, who: Caller, v: Ver
) -> dict[str, Any]:
    _tags_allowed(v)
    doc = await body(request)
    if not isinstance(doc, dict) or "tags" not in doc:
        raise errors.BadRequest('Malformed request body: expected {"tags": [...]}.')
    return {"tags": await svc.servers.set_tags(who, server_id, doc["tags"])}


async def clear_tags(server_id: str, svc: Service, who: Caller, v: Ver) -> Response:
    _tags_allowed(v)
    await svc.servers.set_tags(who, server_id, [])
    return Response(status_code=204)


async def has_tag(server_id: str, tag: str, svc: Service, who: Caller, v: Ver) -> Response:
    _tags_allowed(v)
    if tag not in (await svc.servers.get(who, server_id)).tags:
        raise errors.NotFound(f"Tag '{tag}' could not be found for server {server_id}.")
    return Response(status_code=204)


async def add_tag(server_id: str, tag: str, svc: Service, who: Caller, v: Ver) -> Response:
    _tags_allowed(v)
    current = list((await svc.servers.get(who, server_id)).tags)
    if tag in current:
        return Response(status_code=204)
    await svc.servers.set_tags(who, server_id, [*current, boot.check_tag(tag)])
    return Response(status_code=201)


async def remove_tag(server_id: str, tag: str, svc: Service, who: Caller, v: Ver) -> Response:
    _tags_allowed(v)
    current = list((await svc.servers.get(who, server_id)).tags)
    if tag not in current:
        raise errors.NotFound(f"Tag '{tag}' could not be found for server {server_id}.")
    await svc.servers.set_tags(who, server_id, [t for t in current if t != tag])
    return Response(status_code=204)
