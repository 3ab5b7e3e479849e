"""Application credentials: a user's secret bound to one project and a subset of roles.

The rules, without HTTP: only the owner makes or lists their own (readers may list and read
others'); a credential delegates only roles the user holds on the project now; a restricted
credential cannot make or delete another one; deleting one ends the tokens made from it.
``api/appcreds.py`` only parses, calls and renders.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from ocx.common import errors
from ocx.common.auth import Principal
from ocx.identity import assignments, revocation, store
from ocx.identity.assignments import Target
from ocx.identity.models import ApplicationCredential, Role, User
from ocx.identity.service import IdentityService


class RoleRef(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str | None = None
    name: str | None = None
    domain_id: str | None = None


class AppCredIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=255)
    description: str | None = None
    secret: str | None = Field(None, min_length=1, max_length=4096)
    expires_at: datetime | None = None
    roles: list[RoleRef] | None = None
    unrestricted: bool = False
    access_rules: list[dict[str, Any]] | None = None


@dataclass
class Made:
    """A new credential, its roles, and its secret (shown once)."""

    row: ApplicationCredential
    roles: list[Role]
    secret: str


def _naive_utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


async def _owner(
    svc: IdentityService, session: Any, who: Principal, user_id: str, action: str, *, write: bool
) -> User:
    user = await store.get(session, User, user_id, "user")
    if write:
        if who.user_id != user.id:
            raise errors.Forbidden(f"You may {action} only your own application credentials.")
    else:
        svc.policy.require_self_or_reader(who, user.id, user.domain_id, f"identity:{action}")
    return user


async def _pick_roles(session: Any, who: Principal, wanted: list[RoleRef] | None) -> list[Role]:
    # What the user holds on the project now (a role granted after the token was issued
    # counts); a token from an application credential never delegates beyond its own roles.
    assert who.project_id is not None
    now = await assignments.effective_role_ids(session, who.user_id, Target.project(who.project_id))
    if who.app_cred_id is not None:
        now &= set(who.role_ids)
    held = await assignments.roles_by_id(session, now)
    if not wanted:
        return held
    by_id = {r.id: r for r in held}
    by_name = {r.name: r for r in held}
    picked = []
    for ref in wanted:
        role = by_id.get(ref.id or "") or by_name.get(ref.name or "")
        if role is None:
            raise errors.Forbidden(
                f"You cannot delegate role {ref.id or ref.name}: you do not hold it on the project."
            )
        picked.append(role)
    return list({r.id: r for r in picked}.values())


async def create(svc: IdentityService, who: Principal, user_id: str, a: AppCredIn) -> Made:
    if who.project_id is None:
        raise errors.Forbidden("An application credential needs a project-scoped token.")
    if "OS-OAUTH1" in who.claims:
        # The token a consumer holds must not mint a credential with the user's other roles.
        raise errors.Forbidden(
            "Cannot create an application credential with a token issued via OAuth1 delegation."
        )
    if who.app_cred_id is not None and (who.claims.get("app_cred") or {}).get("restricted", True):
        raise errors.Forbidden("A restricted application credential cannot create another one.")
    if a.access_rules:
        raise errors.NotImplementedYet("Access rules are not supported by OCX yet.")
    expires = _naive_utc(a.expires_at)
    if expires is not None and expires <= datetime.now(UTC).replace(tzinfo=None):
        raise errors.ValidationError("expires_at is in the past.")
    secret = a.secret or secrets.token_urlsafe(48)
    hashed = await svc.hasher.hash(secret)
    async with svc.db.session() as session:
        await _owner(svc, session, who, user_id, "create_application_credential", write=True)
        roles = await _pick_roles(session, who, a.roles)
        row = ApplicationCredential(
            id=store.new_id(),
            name=a.name,
            user_id=user_id,
            project_id=who.project_id,
            secret_hash=hashed,
            description=a.description or "",
            expires_at=expires,
            unrestricted=a.unrestricted,
            role_ids=[r.id for r in roles],
            created_at=datetime.now(UTC).replace(tzinfo=None),
        )
        await store.add_unique(session, row, f"application credential {a.name}")
    return Made(row, roles, secret)


async def listing(
    svc: IdentityService, who: Principal, user_id: str, name: str | None = None
) -> list[tuple[ApplicationCredential, list[Role]]]:
    async with svc.db.session() as session:
        await _owner(svc, session, who, user_id, "list_application_credentials", write=False)
        query = select(ApplicationCredential).filter_by(user_id=user_id)
        if name is not None:
            query = query.filter_by(name=name)
        rows = list(await session.scalars(query.order_by(ApplicationCredential.name)))
        return [(r, await assignments.roles_by_id(session, r.role_ids)) for r in rows]


async def get(
    svc: IdentityService, who: Principal, user_id: str, cred_id: str
) -> tuple[ApplicationCredential, list[Role]]:
    async with svc.db.session() as session:
        await _owner(svc, session, who, user_id, "get_application_credential", write=False)
        row = await store.get(session, ApplicationCredential, cred_id, "application credential")
        if row.user_id != user_id:
            raise errors.NotFound(f"Could not find application credential: {cred_id}.")
        return row, await assignments.roles_by_id(session, row.role_ids)


async def delete(svc: IdentityService, who: Principal, user_id: str, cred_id: str) -> None:
    async with svc.db.session() as session:
        user = await store.get(session, User, user_id, "user")
        if who.user_id != user.id:
            svc.policy.require_domain_admin(
                who, user.domain_id, "identity:delete_application_credential"
            )
        row = await store.get(session, ApplicationCredential, cred_id, "application credential")
        if row.user_id != user_id:
            raise errors.NotFound(f"Could not find application credential: {cred_id}.")
        if (
            who.app_cred_id is not None
            and who.app_cred_id != row.id
            and (who.claims.get("app_cred") or {}).get("restricted", True)
        ):
            raise errors.Forbidden("A restricted application credential cannot delete another one.")
        await session.delete(row)
        await revocation.app_cred(session, row.id)
    svc.revoked_something()
