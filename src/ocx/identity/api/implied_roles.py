"""Implied roles over HTTP: parse, call :mod:`ocx.identity.inferences`, render."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Request, Response

from ocx.common.auth import Principal
from ocx.identity import inferences
from ocx.identity.api.deps import base_url, caller, service
from ocx.identity.models import Role
from ocx.identity.service import IdentityService


def _ref(base: str, role: Role) -> dict[str, Any]:
    return {"id": role.id, "name": role.name, "links": {"self": f"{base}/v3/roles/{role.id}"}}


def _one(request: Request, prior: Role, implied: Role) -> dict[str, Any]:
    base = base_url(request)
    link = f"{base}/v3/roles/{prior.id}/implies/{implied.id}"
    return {
        "role_inference": {"prior_role": _ref(base, prior), "implies": _ref(base, implied)},
        "links": {"self": link},
    }


def _many(base: str, prior: Role, implied: list[Role]) -> dict[str, Any]:
    return {"prior_role": _ref(base, prior), "implies": [_ref(base, r) for r in implied]}


async def create(
    prior_role_id: str,
    implied_role_id: str,
    request: Request,
    response: Response,
    svc: IdentityService = Depends(service),
    who: Principal = Depends(caller),
) -> dict[str, Any]:
    prior, implied = await inferences.create(svc, who, prior_role_id, implied_role_id)
    response.status_code = 201
    return _one(request, prior, implied)


async def show(
    prior_role_id: str,
    implied_role_id: str,
    request: Request,
    svc: IdentityService = Depends(service),
    who: Principal = Depends(caller),
) -> dict[str, Any]:
    prior, implied = await inferences.show(svc, who, prior_role_id, implied_role_id)
    return _one(request, prior, implied)


async def check(
    prior_role_id: str,
    implied_role_id: str,
    svc: IdentityService = Depends(service),
    who: Principal = Depends(caller),
) -> Response:
    await inferences.show(svc, who, prior_role_id, implied_role_id)
    return Response(status_code=204)


async def delete(
    prior_role_id: str,
    implied_role_id: str,
    svc: IdentityService = Depends(service),
    who: Principal = Depends(caller),
) -> Response:
    await inferences.delete(svc, who, prior_role_id, implied_role_id)
    return Response(status_code=204)


async def list_for(
    prior_role_id: str,
    request: Request,
    svc: IdentityService = Depends(service),
    who: Principal = Depends(caller),
) -> dict[str, Any]:
    prior, implied = await inferences.list_for(svc, who, prior_role_id)
    base = base_url(request)
    link = f"{base}/v3/roles/{prior.id}/implies"
    return {"role_inference": _many(base, prior, implied), "links": {"self": link}}


async def list_all(
    request: Request, svc: IdentityService = Depends(service), who: Principal = Depends(caller)
) -> dict[str, Any]:
    rules = await inferences.list_all(svc, who)
    base = base_url(request)
    return {
        "role_inferences": [_many(base, prior, implied) for prior, implied in rules],
        "links": {"self": f"{base}/v3/role_inferences"},
    }
