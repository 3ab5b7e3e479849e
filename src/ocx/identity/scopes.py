"""What a token's user may scope to, and ending a token: the rules behind /v3/auth/*.

Plain functions on the landlord's identity, callable without HTTP.
"""

from __future__ import annotations

from sqlalchemy import select

from ocx.common import errors
from ocx.common.auth import Principal
from ocx.identity import assignments, revocation
from ocx.identity.assignments import Target
from ocx.identity.models import Domain, Project
from ocx.identity.service import IdentityService


async def projects(svc: IdentityService, who: Principal) -> list[Project]:
    async with svc.db.session() as session:
        return await assignments.projects_of(session, who.user_id)


async def domains(svc: IdentityService, who: Principal) -> list[Domain]:
    async with svc.db.session() as session:
        f = assignments.AssignmentFilter(user_id=who.user_id, effective=True)
        rows = await assignments.list_assignments(session, f)
        ids = {r.target_id for r in rows if r.target_type == assignments.DOMAIN}
        query = select(Domain).where(Domain.id.in_(ids), Domain.enabled.is_(True))
        return list(await session.scalars(query.order_by(Domain.name)))


async def system(svc: IdentityService, who: Principal) -> bool:
    async with svc.db.session() as session:
        return bool(await assignments.effective_role_ids(session, who.user_id, Target.system()))


async def revoke_token(svc: IdentityService, who: Principal, subject: Principal) -> None:
    """Logout: a user ends their own token; a landlord admin ends anyone's."""
    if subject.user_id != who.user_id and not svc.policy.is_admin(who):
        raise errors.Forbidden("You are not authorized to revoke another user's token.")
    async with svc.db.session() as session:
        await revocation.token(session, subject.audit_id)
    svc.revoked_something()
