"""Servers: create (one or many), list, show, update, delete, actions and console output."""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from fastapi import Request, Response
from fastapi.responses import JSONResponse

from ocx.common import errors
from ocx.compute import boot, views
from ocx.compute.api.deps import Base, Caller, Service, Ver, body, limit, next_links


async def create(request: Request, svc: Service, who: Caller, v: Ver, url: Base) -> JSONResponse:
    settings = svc.settings
    req = boot.parse(await body(request), v, settings.max_count, settings.user_data_max)
    image = None
    if req.image_landlord is not None and req.image_delegation is not None:
        image = await svc.remote_images.get(req.image_landlord, req.image_ref, req.image_delegation)
    elif req.image_ref:
        image = await svc.images.get(request.headers.get("x-auth-token", ""), req.image_ref)
    made = await svc.create_servers(who, req, image, request.headers.get("x-auth-token", ""))
    if req.return_reservation_id:
        return JSONResponse({"reservation_id": made.reservation_id}, status_code=202)
    server = {
        "id": made.first.id,
        "links": views.server_summary(made.first, url)["links"],
        "OS-DCF:diskConfig": "MANUAL",
        "adminPass": made.admin_pass,
    }
    if made.first.addresses:
        server["security_groups"] = [{"name": "default"}]
    headers = {"Location": f"{url}/servers/{made.first.id}"}
    return JSONResponse({"server": server}, status_code=202, headers=headers)


# The listing and show views are plain JSON types: rendered as they are, not through FastAPI's
# jsonable_encoder (about a fifth of a list page's CPU at a landlord; docs/proxy.md, "Scale").


async def index(request: Request, svc: Service, who: Caller, url: Base) -> JSONResponse:
    size = limit(request, svc.settings.max_limit)
    found = await svc.servers.search(who, _params(request), size)
    body: dict[str, Any] = {"servers": [views.server_summary(s, url) for s in found]}
    links = next_links(request, "servers", found, size)
    if links:
        body["servers_links"] = links
    return JSONResponse(body)


async def detail(request: Request, svc: Service, who: Caller, v: Ver, url: Base) -> JSONResponse:
    size = limit(request, svc.settings.max_limit)
    found = await svc.servers.search(who, _params(request), size)
    attached = await svc.servers.attachments([s.id for s in found])
    body: dict[str, Any] = {
        "servers": [views.server(s, v, who, url, attached[s.id]) for s in found]
    }
    links = next_links(request, "servers/detail", found, size)
    if links:
        body["servers_links"] = links
    return JSONResponse(body)


def _params(request: Request) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        found.setdefault(key, []).append(value)
    return found


async def show(server_id: str, svc: Service, who: Caller, v: Ver, url: Base) -> JSONResponse:
    found = await svc.servers.get(who, server_id)
    attached = await svc.servers.attachments([found.id])
    return JSONResponse({"server": views.server(found, v, who, url, attached[found.id])})


async def update(
    request: Request, server_id: str, svc: Service, who: Caller, v: Ver, url: Base
) -> dict[str, Any]:
    found = await svc.servers.update(who, server_id, await body(request))
    attached = await svc.servers.attachments([found.id])
    return {"server": views.server(found, v, who, url, attached[found.id])}


async def delete(request: Request, server_id: str, svc: Service, who: Caller) -> Response:
    await svc.delete_server(who, server_id, request.headers.get("x-auth-token", ""))
    return Response(status_code=204)


SIMPLE = {
    "os-stop": "stop",
    "os-start": "start",
    "pause": "pause",
    "unpause": "unpause",
    "suspend": "suspend",
    "resume": "resume",
}


async def action(
    request: Request, server_id: str, svc: Service, who: Caller, v: Ver, url: Base
) -> Response:
    doc = await body(request)
    if not isinstance(doc, dict) or len(doc) != 1:
        raise errors.BadRequest("An action body is one object with one key: the action's name.")
    name, args = next(iter(doc.items()))
    if name in SIMPLE:
        await svc.servers.act(who, server_id, SIMPLE[name])
    elif name == "reboot":
        kind = (args or {}).get("type") if isinstance(args, dict) else None
        if kind not in ("SOFT", "HARD", "soft", "hard"):
            raise errors.BadRequest("Invalid input for field/attribute type: SOFT or HARD.")
        await svc.servers.act(who, server_id, "reboot" if kind.upper() == "SOFT" else "reboot_hard")
    elif name in ("lock", "unlock"):
        reason = (
            args.get("locked_reason") if isinstance(args, dict) and v.at_least("2.73") else None
        )
        await svc.servers.lock(who, server_id, name == "lock", reason)
    elif name == "forceDelete":
        await svc.delete_server(who, server_id, request.headers.get("x-auth-token", ""))
    elif name == "rebuild":
        return await _rebuild(request, server_id, args, svc, who, v, url)
    elif name == "os-getConsoleOutput":
        return JSONResponse({"output": await _console(server_id, args, svc, who)})
    else:
        raise errors.BadRequest(f"There is no such action: {name}")
    return Response(status_code=202)


async def _rebuild(
    request: Request, server_id: str, args: Any, svc: Service, who: Caller, v: Ver, url: Base
) -> JSONResponse:
    if not isinstance(args, dict) or not isinstance(args.get("imageRef"), str):
        raise errors.BadRequest("Invalid input for field/attribute imageRef.")
    image_ref = args["imageRef"].rstrip("/").rsplit("/", 1)[-1]
    await svc.images.get(request.headers.get("x-auth-token", ""), image_ref)
    found = await svc.servers.act(who, server_id, "rebuild", image_ref=image_ref)
    attached = await svc.servers.attachments([found.id])
    return JSONResponse(
        {"server": views.server(found, v, who, url, attached[found.id])}, status_code=202
    )


async def _console(server_id: str, args: Any, svc: Service, who: Caller) -> str:
    await svc.servers.get(who, server_id)
    length = args.get("length") if isinstance(args, dict) else None
    if isinstance(length, str) and length.lstrip("-").isdigit():
        length = int(length)
    if length is not None and (not isinstance(length, int) or length < -1):
        raise errors.BadRequest("Invalid input for field/attribute length: an integer >= -1.")
    if length == -1:
        length = None
    return await anyio.to_thread.run_sync(svc.consoles.read, server_id, length)
