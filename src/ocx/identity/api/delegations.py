"""Constrained delegations (``/v3/OS-OCX/delegations``): a customer's token for one volume
(attach, detach) or one image (download), usable only by the compute that holds the key it
names. Format and checks:
:mod:`ocx.common.delegation`. Parse, call (:mod:`ocx.identity.delegations`), render."""

from __future__ import annotations

from fastapi import Depends, Request, Response
from fastapi.responses import JSONResponse

from ocx.common import errors
from ocx.common.auth import Principal
from ocx.identity import delegations, tokens
from ocx.identity.api.deps import caller, service
from ocx.identity.service import IdentityService


async def issue(
    request: Request, svc: IdentityService = Depends(service), who: Principal = Depends(caller)
) -> JSONResponse:
    try:
        doc = await request.json()
        spec = doc["delegation"]
        jwk = spec["presenter_jwk"]
        ttl = int(spec.get("ttl", 300))
    except (ValueError, KeyError, TypeError) as exc:
        raise errors.BadRequest(
            'Expected {"delegation": {"volume_id" or "image_id": ..., "presenter_jwk": {...},'
            ' "ttl": s}}.'
        ) from exc
    volume_id, image_id = spec.get("volume_id"), spec.get("image_id")
    for name, value in (("volume_id", volume_id), ("image_id", image_id)):
        if value is not None and not isinstance(value, str):
            raise errors.BadRequest(f"{name} must be a {name[:-3]}'s id.")
    token, claims = delegations.issue(svc, who, jwk, ttl, volume_id, image_id)
    body = {
        "delegation": {
            "id": claims["jti"],
            "token": token,
            "audience": claims["aud"],
            **claims["ocx_constraints"],
            "expires_at": tokens.isotime(claims["exp"]),
        }
    }
    return JSONResponse(body, status_code=201, headers={"X-Subject-Token": token})


async def revoke(
    request: Request, svc: IdentityService = Depends(service), who: Principal = Depends(caller)
) -> Response:
    """Revoke the delegation in ``X-Subject-Token`` (its holder's or an admin's call)."""
    await delegations.revoke(svc, who, request.headers.get("x-subject-token", ""))
    return Response(status_code=204)
