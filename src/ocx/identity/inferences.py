"""Implied roles ("role inferences"): holding the prior role gives the implied one too.

Landlord admins make and remove rules, readers read them. The session-level functions are
used by the transactions below (one per call), which the HTTP handlers and the CLI call.
Tokens carry roles already expanded, so a rule added or removed applies to tokens issued
after it.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ocx.common import errors
from ocx.common.auth import Principal
from ocx.identity import store
from ocx.identity.models import ImpliedRole, Role
from ocx.identity.service import IdentityService


async def pair(session: AsyncSession, prior_id: str, implied_id: str) -> tuple[Role, Role]:
    prior = await store.get(session, Role, prior_id, "role")
    implied = await store.get(session, Role, implied_id, "role")
    return prior, implied


async def add(session: AsyncSession, prior_id: str, implied_id: str) -> tuple[Role, Role]:
    prior, implied = await pair(session, prior_id, implied_id)
    if prior.id == implied.id:
        raise errors.ValidationError("A role cannot imply itself.")
    if prior.domain_id is None and implied.domain_id is not None:
        # A domain's own role names stay inside that domain's grants (as in Keystone).
        raise errors.Forbidden(
            f"Role {prior.name} is global: it cannot imply {implied.name}, a domain-specific role."
        )
    if prior.id in await closure(session, implied.id):
        raise errors.ValidationError(
            f"Role {implied.name} already implies {prior.name}: no cycles of implied roles."
        )
    if await session.get(ImpliedRole, (prior.id, implied.id)) is None:
        session.add(ImpliedRole(prior_role_id=prior.id, implied_role_id=implied.id))
        await session.flush()
    return prior, implied


async def get(session: AsyncSession, prior_id: str, implied_id: str) -> tuple[Role, Role]:
    prior, implied = await pair(session, prior_id, implied_id)
    if await session.get(ImpliedRole, (prior.id, implied.id)) is None:
        raise errors.NotFound(f"{prior.id} does not imply {implied.id}.")
    return prior, implied


async def remove(session: AsyncSession, prior_id: str, implied_id: str) -> None:
    prior, implied = await get(session, prior_id, implied_id)
    row = await session.get(ImpliedRole, (prior.id, implied.id))
    await session.delete(row)


async def implied_by(session: AsyncSession, prior_id: str) -> tuple[Role, list[Role]]:
    prior = await store.get(session, Role, prior_id, "role")
    query = (
        select(Role)
        .join(ImpliedRole, ImpliedRole.implied_role_id == Role.id)
        .where(ImpliedRole.prior_role_id == prior.id)
        .order_by(Role.name)
    )
    return prior, list(await session.scalars(query))


async def every(session: AsyncSession) -> list[tuple[Role, list[Role]]]:
    priors = select(ImpliedRole.prior_role_id).distinct()
    query = select(Role).where(Role.id.in_(priors)).order_by(Role.name)
    return [await implied_by(session, r.id) for r in await session.scalars(query)]


async def closure(session: AsyncSession, role_id: str) -> set[str]:
    """Every role ``role_id`` implies, directly or not."""
    rules = (await session.execute(select(ImpliedRole))).scalars().all()
    implies: dict[str, list[str]] = {}
    for rule in rules:
        implies.setdefault(rule.prior_role_id, []).append(rule.implied_role_id)
    found: set[str] = set()
    todo = [role_id]
    while todo:
        for nxt in implies.get(todo.pop(), ()):
            if nxt not in found:
                found.add(nxt)
                todo.append(nxt)
    return found


# --- one transaction each, with the policy ---------------------------------------------------


async def create(
    svc: IdentityService, who: Principal, prior_id: str, implied_id: str
) -> tuple[Role, Role]:
    svc.policy.require_admin(who, "identity:create_implied_role")
    async with svc.db.session() as session:
        return await add(session, prior_id, implied_id)


async def show(
    svc: IdentityService, who: Principal, prior_id: str, implied_id: str
) -> tuple[Role, Role]:
    svc.policy.require_reader(who, "identity:get_implied_role")
    async with svc.db.session() as session:
        return await get(session, prior_id, implied_id)


async def delete(svc: IdentityService, who: Principal, prior_id: str, implied_id: str) -> None:
    svc.policy.require_admin(who, "identity:delete_implied_role")
    async with svc.db.session() as session:
        await remove(session, prior_id, implied_id)


async def list_for(svc: IdentityService, who: Principal, prior_id: str) -> tuple[Role, list[Role]]:
    svc.policy.require_reader(who, "identity:list_implied_roles")
    async with svc.db.session() as session:
        return await implied_by(session, prior_id)


async def list_all(svc: IdentityService, who: Principal) -> list[tuple[Role, list[Role]]]:
    svc.policy.require_reader(who, "identity:list_role_inference_rules")
    async with svc.db.session() as session:
        return await every(session)
