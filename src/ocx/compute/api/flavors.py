"""Flavors, their extra specs and their access lists."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response

from ocx.common import errors
from ocx.compute import views
from ocx.compute.api.deps import Base, Caller, Service, Ver, body, limit, next_links


async def _search(request: Request, svc: Service, who: Caller) -> tuple[list[Any], int]:
    size = limit(request, svc.settings.max_limit)
    params = dict(request.query_params)
    found = await svc.flavors.search(who, params, size, params.get("marker"))
    return found, size


async def index(request: Request, svc: Service, who: Caller, v: Ver, url: Base) -> dict[str, Any]:
    found, size = await _search(request, svc, who)
    out: dict[str, Any] = {"flavors": [views.flavor(f, v, url, detail=False) for f in found]}
    if links := next_links(request, "flavors", found, size):
        out["flavors_links"] = links
    return out


async def detail(request: Request, svc: Service, who: Caller, v: Ver, url: Base) -> dict[str, Any]:
    found, size = await _search(request, svc, who)
    out: dict[str, Any] = {"flavors": [views.flavor(f, v, url) for f in found]}
    if links := next_links(request, "flavors/detail", found, size):
        out["flavors_links"] = links
    return out


async def show(flavor_id: str, svc: Service, who: Caller, v: Ver, url: Base) -> dict[str, Any]:
    return {"flavor": views.flavor(await svc.flavors.get(who, flavor_id), v, url)}


def _flavor_body(doc: Any) -> dict[str, Any]:
    if not isinstance(doc, dict) or not isinstance(doc.get("flavor"), dict):
        raise errors.BadRequest('Invalid input: the body must be {"flavor": {...}}.')
    return dict(doc["flavor"])


async def create(request: Request, svc: Service, who: Caller, v: Ver, url: Base) -> dict[str, Any]:
    made = await svc.flavors.create(who, _flavor_body(await body(request)))
    return {"flavor": views.flavor(made, v, url)}


async def update(
    request: Request, flavor_id: str, svc: Service, who: Caller, v: Ver, url: Base
) -> dict[str, Any]:
    if not v.at_least("2.55"):
        raise errors.MethodNotAllowed("Updating a flavor needs microversion 2.55 or later.")
    doc = _flavor_body(await body(request))
    if set(doc) != {"description"}:
        raise errors.BadRequest("Only a flavor's description may be changed.")
    changed = await svc.flavors.update(who, flavor_id, doc["description"])
    return {"flavor": views.flavor(changed, v, url)}


async def delete(flavor_id: str, svc: Service, who: Caller) -> Response:
    await svc.flavors.delete(who, flavor_id)
    return Response(status_code=202)


async def extra_specs(flavor_id: str, svc: Service, who: Caller) -> dict[str, Any]:
    return {"extra_specs": dict((await svc.flavors.get(who, flavor_id)).extra_specs)}


async def set_extra_specs(
    request: Request, flavor_id: str, svc: Service, who: Caller
) -> dict[str, Any]:
    doc = await body(request)
    if not isinstance(doc, dict) or "extra_specs" not in doc:
        raise errors.BadRequest('Malformed request body: expected {"extra_specs": {...}}.')
    return {"extra_specs": await svc.flavors.set_specs(who, flavor_id, doc["extra_specs"])}


async def extra_spec(flavor_id: str, key: str, svc: Service, who: Caller) -> dict[str, Any]:
    specs = (await svc.flavors.get(who, flavor_id)).extra_specs
    if key not in specs:
        raise errors.NotFound(f"Flavor {flavor_id} has no extra specs with key {key}.")
    return {key: specs[key]}


async def set_extra_spec(
    request: Request, flavor_id: str, key: str, svc: Service, who: Caller
) -> dict[str, Any]:
    doc = await body(request)
    if not isinstance(doc, dict) or list(doc) != [key]:
        raise errors.BadRequest("Request body and URI mismatch")
    return await svc.flavors.set_specs(who, flavor_id, doc)


async def delete_extra_spec(flavor_id: str, key: str, svc: Service, who: Caller) -> Response:
    await svc.flavors.unset_spec(who, flavor_id, key)
    return Response(status_code=202)


def _access(flavor_id: str, projects: list[str]) -> dict[str, Any]:
    return {"flavor_access": [{"flavor_id": flavor_id, "tenant_id": p} for p in projects]}


async def access_list(flavor_id: str, svc: Service, who: Caller) -> dict[str, Any]:
    return _access(flavor_id, await svc.flavors.projects(who, flavor_id))


async def action(request: Request, flavor_id: str, svc: Service, who: Caller) -> dict[str, Any]:
    doc = await body(request)
    if not isinstance(doc, dict) or len(doc) != 1:
        raise errors.BadRequest("A flavor action is one object with one key.")
    name, args = next(iter(doc.items()))
    if name not in ("addTenantAccess", "removeTenantAccess"):
        raise errors.BadRequest(f"There is no such action: {name}")
    project = args.get("tenant") if isinstance(args, dict) else None
    projects = await svc.flavors.grant(who, flavor_id, project, name == "addTenantAccess")
    return _access(flavor_id, projects)
