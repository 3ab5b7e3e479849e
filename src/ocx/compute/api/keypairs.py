"""Keypairs: a user's SSH keys."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse

from ocx.common import errors
from ocx.compute import views
from ocx.compute.api.deps import Caller, Service, Ver, body


async def index(svc: Service, who: Caller, v: Ver) -> dict[str, Any]:
    return {"keypairs": [{"keypair": views.keypair(k, v)} for k in await svc.keypairs.list(who)]}


async def show(name: str, svc: Service, who: Caller, v: Ver) -> dict[str, Any]:
    return {"keypair": views.keypair(await svc.keypairs.get(who, name), v, full=True)}


async def create(request: Request, svc: Service, who: Caller, v: Ver) -> Response | dict[str, Any]:
    doc = await body(request)
    if not isinstance(doc, dict) or not isinstance(doc.get("keypair"), dict):
        raise errors.BadRequest('Invalid input: the body must be {"keypair": {...}}.')
    args = doc["keypair"]
    if args.get("public_key") is None and v.at_least("2.92"):
        raise errors.BadRequest("public_key is required from microversion 2.92.")
    pair, private = await svc.keypairs.create(
        who, args.get("name"), args.get("public_key"), args.get("type")
    )
    out = views.keypair(pair, v)
    out["user_id"] = pair.user_id
    if private is not None:
        out["private_key"] = private
    return JSONResponse({"keypair": out}, status_code=201 if v.at_least("2.2") else 200)


async def delete(name: str, svc: Service, who: Caller, v: Ver) -> Response:
    await svc.keypairs.delete(who, name)
    return Response(status_code=204 if v.at_least("2.2") else 202)
