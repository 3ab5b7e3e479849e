"""Constrained delegations (``/v3/OS-OCX/delegations``): a customer's token for one volume
(attach, detach) or one image (download), usable only by the compute that holds the key it
names. Format and checks:
:mod:`ocx.common.delegation`."""

from __future__ import annotations

import time

from fastapi import Depends, Request, Response
from fastapi.responses import JSONResponse

from ocx.common import delegation, errors, jws
from ocx.common.auth import Principal
from ocx.identity import tokens
from ocx.identity.api.deps import caller, service
from ocx.identity.service import IdentityService


async def issue(
    request: Request, svc: IdentityService = Depends(service), who: Principal = Depends(caller)
) -> JSONResponse:
    if who.project_id is None:
        raise errors.Forbidden("A delegation is made from a project-scoped token.")
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
        if value is not None and (not isinstance(value, str) or not 0 < len(value) <= 64):
            raise errors.BadRequest(f"{name} must be a {name[:-3]}'s id.")
    if ttl < 1:
        raise errors.BadRequest("ttl must be at least one second.")
    claims = delegation.constrain(
        who.claims,
        landlord=svc.settings.landlord,
        volume_id=volume_id,
        image_id=image_id,
        jkt=delegation.thumbprint(jwk),
        ttl=ttl,
    )
    assert svc.keys is not None
    token = svc.keys.sign(claims, typ=delegation.TYP_DELEGATION)
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
    assert svc.keys is not None
    try:
        claims = jws.verify(
            jws.split(request.headers.get("x-subject-token", "")),
            svc.keys.public,
            delegation.TYP_DELEGATION,
        )
    except jws.JWSError as exc:
        raise errors.NotFound(f"That is not a delegation of this landlord: {exc}.") from exc
    if claims.get("sub") != who.user_id and not svc.policy.is_admin(who):
        raise errors.Forbidden("You may revoke only your own delegations.")
    if float(claims.get("exp", 0)) > time.time():
        async with svc.db.session() as session:
            await tokens.record_revocation(session, audit_id=str(claims["jti"]))
        svc.revoked_something()
    return Response(status_code=204)
