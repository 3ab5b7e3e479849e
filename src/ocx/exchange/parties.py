"""Parties: landlords enrol with a self-description signed by their identity's key.

The exchange operator approves an enrolment (its admin sends it); the statement itself must
verify against the JWKS of the identity it names, so the keys the exchange will trust for
that landlord from then on are the landlord's own, fetched from the landlord.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ocx.common import errors
from ocx.exchange import signing
from ocx.exchange.models import Landlord

NAME = re.compile(r"[a-z][a-z0-9-]{0,63}")


@dataclass(frozen=True)
class Enrolment:
    name: str
    identity_url: str
    owner: str
    description: dict[str, Any]


def parse_enrolment(claims: dict[str, Any], audience: str) -> Enrolment:
    check_audience(claims, audience)
    name, issuer = claims.get("landlord"), claims.get("iss")
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise errors.BadRequest("The enrolment names no valid landlord.")
    if not isinstance(issuer, str) or not issuer.startswith(("http://", "https://")):
        raise errors.BadRequest("The enrolment's issuer must be the landlord's identity URL.")
    owner = claims.get("owner", name)
    description = claims.get("description", {})
    if not isinstance(owner, str) or not 0 < len(owner) <= 128:
        raise errors.BadRequest("owner must be a string of 1 to 128 characters.")
    if not isinstance(description, dict) or len(str(description)) > 8192:
        raise errors.BadRequest("description must be a JSON object under 8 KiB.")
    return Enrolment(name, issuer.rstrip("/"), owner, description)


def check_audience(claims: dict[str, Any], audience: str) -> None:
    if claims.get("aud") != audience:
        raise errors.Forbidden(
            f"The statement is addressed to {claims.get('aud')!r}, not to this exchange "
            f"({audience!r})."
        )


async def enrol(session: AsyncSession, enrolment: Enrolment, statement: str) -> Landlord:
    row = await session.get(Landlord, enrolment.name)
    if row is not None and row.identity_url != enrolment.identity_url:
        raise errors.Conflict(
            f"Landlord {enrolment.name!r} is enrolled with another identity "
            f"({row.identity_url}); it must re-enrol from there."
        )
    if row is None:
        row = Landlord(name=enrolment.name, identity_url=enrolment.identity_url)
        session.add(row)
    row.owner = enrolment.owner
    row.description = enrolment.description
    row.statement = statement
    row.enrolled_at = time.time()
    return row


async def get(session: AsyncSession, name: str) -> Landlord:
    row = await session.get(Landlord, name)
    if row is None:
        raise errors.NotFound(f"Landlord {name!r} is not enrolled at this exchange.")
    return row


async def all_landlords(session: AsyncSession) -> list[Landlord]:
    return list(await session.scalars(select(Landlord).order_by(Landlord.name)))


def view(row: Landlord) -> dict[str, Any]:
    return {
        "name": row.name,
        "identity_url": row.identity_url,
        "jwks_uri": row.identity_url + signing.JWKS_PATH,
        "owner": row.owner,
        "description": row.description,
        "enrolled_at": row.enrolled_at,
        "statement": row.statement,
        "probe_credential": None
        if row.probe_credential is None
        else {"id": row.probe_credential["id"]},
    }
