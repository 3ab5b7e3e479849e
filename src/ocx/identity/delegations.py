"""Constrained delegations: a customer's token for one volume (attach, detach) or one image
(download), usable only by the compute that holds the key it names, without HTTP (format and
checks: :mod:`ocx.common.delegation`). ``api/delegations.py`` only parses, calls and renders."""

from __future__ import annotations

import time
from typing import Any

from ocx.common import delegation, errors, jws
from ocx.common.auth import Principal
from ocx.identity import revocation
from ocx.identity.service import IdentityService


def issue(
    svc: IdentityService,
    who: Principal,
    jwk: Any,
    ttl: int,
    volume_id: str | None = None,
    image_id: str | None = None,
) -> tuple[str, dict[str, Any]]:
    """The signed delegation of ``who``'s project token for one volume or image, and its
    claims."""
    if who.project_id is None:
        raise errors.Forbidden("A delegation is made from a project-scoped token.")
    for name, value in (("volume_id", volume_id), ("image_id", image_id)):
        if value is not None and not 0 < len(value) <= 64:
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
    return svc.keys.sign(claims, typ=delegation.TYP_DELEGATION), claims


async def revoke(svc: IdentityService, who: Principal, token: str) -> None:
    """Revoke a delegation of this landlord: its holder's or an admin's call."""
    assert svc.keys is not None
    try:
        claims = jws.verify(jws.split(token), svc.keys.public, delegation.TYP_DELEGATION)
    except jws.JWSError as exc:
        raise errors.NotFound(f"That is not a delegation of this landlord: {exc}.") from exc
    if claims.get("sub") != who.user_id and not svc.policy.is_admin(who):
        raise errors.Forbidden("You may revoke only your own delegations.")
    if float(claims.get("exp", 0)) > time.time():
        async with svc.db.session() as session:
            await revocation.token(session, str(claims["jti"]))
        svc.revoked_something()
