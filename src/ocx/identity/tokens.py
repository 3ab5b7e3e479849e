"""Token claims, issue and revocation.

A token is a compact JWS (EdDSA) whose claims say who, where and with which roles, so that
every service of this landlord can check it alone. Its audience is this landlord; its issuer
is this identity service's URL.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ocx.common.auth import REVOCATION_FIELDS
from ocx.identity.keys import KeyRing
from ocx.identity.models import ApplicationCredential, Domain, Project, RevocationEvent, Role, User


@dataclass
class Scope:
    project: Project | None = None
    project_domain: Domain | None = None
    domain: Domain | None = None
    system: bool = False

    @property
    def unscoped(self) -> bool:
        return self.project is None and self.domain is None and not self.system


@dataclass
class Grant:
    """What authentication established, ready to become a token."""

    user: User
    user_domain: Domain
    methods: list[str]
    scope: Scope
    roles: list[Role] = field(default_factory=list)
    app_cred: ApplicationCredential | None = None
    audit_chain_id: str | None = None
    expires_at: float | None = None
    extra_claims: dict[str, Any] = field(default_factory=dict)


def new_audit_id() -> str:
    return secrets.token_urlsafe(16)


def ref(row: Domain | Project | None, domain: Domain | None = None) -> dict[str, Any]:
    if row is None:
        return {}
    doc: dict[str, Any] = {"id": row.id, "name": row.name}
    if domain is not None:
        doc["domain"] = {"id": domain.id, "name": domain.name}
    return doc


def build_claims(grant: Grant, *, issuer: str, audience: str, ttl: int) -> dict[str, Any]:
    now = time.time()
    expires = now + ttl if grant.expires_at is None else min(now + ttl, grant.expires_at)
    if grant.app_cred is not None and grant.app_cred.expires_at is not None:
        expires = min(expires, grant.app_cred.expires_at.replace(tzinfo=UTC).timestamp())
    audit_id = new_audit_id()
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": audience,
        "sub": grant.user.id,
        "iat": round(now, 6),
        "exp": int(expires),
        "jti": audit_id,
        "chain": grant.audit_chain_id or audit_id,
        "methods": grant.methods,
        "user": {"name": grant.user.name, **{"domain": ref(grant.user_domain)}},
        "roles": [{"id": r.id, "name": r.name} for r in grant.roles],
    }
    scope = grant.scope
    if scope.project is not None:
        claims["project"] = ref(scope.project, scope.project_domain)
    elif scope.domain is not None:
        claims["domain"] = ref(scope.domain)
    elif scope.system:
        claims["system"] = True
    if grant.app_cred is not None:
        claims["app_cred"] = {
            "id": grant.app_cred.id,
            "name": grant.app_cred.name,
            "restricted": not grant.app_cred.unrestricted,
        }
    claims.update(grant.extra_claims)
    return claims


def issue(
    grant: Grant, keys: KeyRing, *, issuer: str, audience: str, ttl: int
) -> tuple[str, dict[str, Any]]:
    claims = build_claims(grant, issuer=issuer, audience=audience, ttl=ttl)
    return keys.sign(claims), claims


def isotime(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def token_body(claims: dict[str, Any], catalog: list[dict[str, Any]] | None) -> dict[str, Any]:
    """Keystone's token document, rendered from verified claims."""
    audit_ids = [claims["jti"]]
    if claims.get("chain") and claims["chain"] != claims["jti"]:
        audit_ids.append(claims["chain"])
    user = {"id": claims["sub"], **claims["user"], "password_expires_at": None}
    if "OS-FEDERATION" in claims:
        user["OS-FEDERATION"] = claims["OS-FEDERATION"]
    token: dict[str, Any] = {
        "methods": claims["methods"],
        "user": user,
        "audit_ids": audit_ids,
        "expires_at": isotime(claims["exp"]),
        "issued_at": isotime(claims["iat"]),
    }
    if "project" in claims:
        token["project"] = claims["project"]
        token["is_domain"] = False
    elif "domain" in claims:
        token["domain"] = claims["domain"]
    elif claims.get("system"):
        token["system"] = {"all": True}
    if "project" in claims or "domain" in claims or claims.get("system"):
        token["roles"] = claims["roles"]
    if "app_cred" in claims:
        token["application_credential"] = claims["app_cred"]
    if "OS-OAUTH1" in claims:
        token["OS-OAUTH1"] = claims["OS-OAUTH1"]
    if catalog is not None:
        token["catalog"] = catalog
    return {"token": token}


async def record_revocation(session: AsyncSession, **values: str | None) -> None:
    """Revoke every token issued until now whose claims match all of ``values``."""
    unknown = set(values) - set(REVOCATION_FIELDS)
    if unknown:
        raise ValueError(f"not revocation fields: {unknown}")
    now = time.time()
    session.add(RevocationEvent(issued_before=now, revoked_at=now, **values))
    await session.flush()


async def revocation_events(session: AsyncSession, since: float) -> list[dict[str, Any]]:
    rows = await session.scalars(
        select(RevocationEvent)
        .where(RevocationEvent.revoked_at >= since)
        .order_by(RevocationEvent.id)
    )
    events = []
    for row in rows:
        event: dict[str, Any] = {
            name: getattr(row, name) for name in REVOCATION_FIELDS if getattr(row, name)
        }
        event["issued_before"] = isotime(row.issued_before)
        events.append(event)
    return events
