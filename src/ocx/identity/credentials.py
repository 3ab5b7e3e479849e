"""Credentials (``/v3/credentials``): secrets of other systems kept for a user, encrypted.

A credential's blob (EC2 access and secret keys, a TOTP seed, …) is stored encrypted
(:mod:`ocx.identity.credential_keys`). EC2 credentials take their id from their access key
(its SHA-256, as in Keystone), so that a service holding the access key can find it.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ocx.common import errors
from ocx.common.auth import Principal
from ocx.identity import store
from ocx.identity.credential_keys import seal, unseal
from ocx.identity.models import Credential, User
from ocx.identity.policy import deny
from ocx.identity.service import IdentityService


def new_id(type_: str, blob: str, project_id: str | None) -> str:
    """Keystone's ids: ``sha256(access)`` for EC2 (which needs a project), else random."""
    if type_ != "ec2":
        return uuid.uuid4().hex
    access = ec2_access(blob)
    if not project_id:
        raise errors.ValidationError(
            "Invalid blob in credential: an EC2 credential needs a project_id."
        )
    return hashlib.sha256(access.encode()).hexdigest()


def ec2_access(blob: str) -> str:
    try:
        doc = json.loads(blob)
    except ValueError:
        doc = None
    if not isinstance(doc, dict) or not isinstance(doc.get("access"), str) or not doc["access"]:
        raise errors.ValidationError(
            "Invalid blob in credential: an EC2 blob is JSON with an access key."
        )
    return str(doc["access"])


class CredentialIn(BaseModel):
    model_config = ConfigDict(extra="allow")
    blob: str = Field(min_length=1)
    type: str = Field(min_length=1, max_length=255)
    user_id: str
    project_id: str | None = None


class CredentialPatch(BaseModel):
    model_config = ConfigDict(extra="allow")
    blob: str | None = Field(None, min_length=1)
    type: str | None = Field(None, min_length=1, max_length=255)
    user_id: str | None = None
    project_id: str | None = None


def extras(body: BaseModel, row_id: str | None = None) -> dict[str, object]:
    """What the body carries beyond Keystone's fields (kept, as Keystone keeps it)."""
    found = dict(body.model_extra or {})
    given = found.pop("id", None)
    if given is not None and given != row_id:
        raise errors.ValidationError("Cannot change the ID of a resource.")
    return found


@dataclass(frozen=True)
class Shown:
    """A credential as its owner sees it: the row and its decrypted blob."""

    row: Credential
    blob: str


def _require_owner_or_admin(
    svc: IdentityService, who: Principal, user_id: str, action: str
) -> None:
    if who.user_id != user_id and not svc.policy.is_admin(who):
        raise deny(f"identity:{action}_credential")


async def create(svc: IdentityService, who: Principal, given: CredentialIn) -> Shown:
    _require_owner_or_admin(svc, who, given.user_id, "create")
    row = Credential(
        id=new_id(given.type, given.blob, given.project_id),
        user_id=given.user_id,
        project_id=given.project_id,
        type=given.type,
        blob=seal(svc.credential_cipher, given.blob),
        extra=extras(given),
    )
    async with svc.db.session() as session:
        await store.get(session, User, given.user_id, "user")
        session.add(row)
        await store.flush_unique(session, f"credential {row.id}")
    return Shown(row, given.blob)


async def listing(
    svc: IdentityService, who: Principal, user_id: str | None = None, type: str | None = None
) -> list[Shown]:
    """The credentials the caller may see, of ``user_id`` and of ``type`` where given."""
    asked = {"user_id": user_id, "type": type}
    wanted = {name: value for name, value in asked.items() if value is not None}
    # Anyone but an admin sees only their own (another user's list is empty, as in Keystone).
    if (
        not svc.policy.is_admin(who)
        and wanted.setdefault("user_id", who.user_id or "") != who.user_id
    ):
        return []
    async with svc.db.session() as session:
        rows = (
            await session.scalars(select(Credential).filter_by(**wanted).order_by(Credential.id))
        ).all()
    return [Shown(row, unseal(svc.credential_cipher, row.blob)) for row in rows]


async def get(svc: IdentityService, who: Principal, credential_id: str) -> Shown:
    async with svc.db.session() as session:
        row = await _visible(session, svc, who, credential_id, "get")
    return Shown(row, unseal(svc.credential_cipher, row.blob))


async def update(
    svc: IdentityService, who: Principal, credential_id: str, patch: CredentialPatch
) -> Shown:
    async with svc.db.session() as session:
        row = await _visible(session, svc, who, credential_id, "update")
        blob = patch.blob if patch.blob is not None else unseal(svc.credential_cipher, row.blob)
        if patch.user_id is not None and patch.user_id != row.user_id:
            _require_owner_or_admin(svc, who, patch.user_id, "update")
            await store.get(session, User, patch.user_id, "user")
            row.user_id = patch.user_id
        row.type = patch.type or row.type
        row.project_id = patch.project_id if patch.project_id is not None else row.project_id
        if row.type == "ec2":
            ec2_access(blob)  # the id stays what it was (Keystone's rule: ids never change)
        row.blob = seal(svc.credential_cipher, blob)
        row.extra = {**row.extra, **extras(patch, credential_id)}
    return Shown(row, blob)


async def delete(svc: IdentityService, who: Principal, credential_id: str) -> None:
    async with svc.db.session() as session:
        await session.delete(await _visible(session, svc, who, credential_id, "delete"))


async def _visible(
    session: AsyncSession, svc: IdentityService, who: Principal, credential_id: str, action: str
) -> Credential:
    """The credential if the caller owns it or is an admin; otherwise it is not there (404),
    so ids (EC2 ones are hashes of access keys) cannot be probed."""
    row = await session.get(Credential, credential_id)
    if row is None or (who.user_id != row.user_id and not svc.policy.is_admin(who)):
        raise errors.NotFound(f"Could not find credential: {credential_id}.")
    return row
