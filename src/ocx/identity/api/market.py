"""Marketplace statements signed with the landlord's identity key.

The exchange knows a landlord by the JWKS of its identity, so what the landlord says to the
market (its self-description, offerings, offers, usage batches) is signed here, for its
administrators only, and only with a marketplace media type: this endpoint can never mint a
token that any service would accept.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import Depends
from pydantic import BaseModel, ConfigDict, Field

from ocx.common import errors, jws
from ocx.common.auth import Principal
from ocx.identity.api.deps import caller, service
from ocx.identity.service import IdentityService

MAX_STATEMENT_BYTES = 4 * 1024 * 1024


class SignRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    typ: str = Field(max_length=64)
    claims: dict[str, Any]


async def sign_statement(
    body: SignRequest,
    svc: IdentityService = Depends(service),
    who: Principal = Depends(caller),
) -> dict[str, Any]:
    svc.policy.require_admin(who, "sign marketplace statements")
    if not jws.is_market_typ(body.typ):
        raise errors.BadRequest(
            f"Only marketplace statements ({jws.TYP_MARKET_PREFIX}<kind>+jwt) are signed here."
        )
    claims = {**body.claims, "iss": svc.settings.issuer, "landlord": svc.settings.landlord}
    claims.setdefault("iat", int(time.time()))
    assert svc.keys is not None
    statement = svc.keys.sign(claims, body.typ)
    if len(statement) > MAX_STATEMENT_BYTES:
        raise errors.RequestEntityTooLarge("The statement is larger than 4 MiB.")
    return {"statement": statement, "kid": svc.keys.primary_kid}
