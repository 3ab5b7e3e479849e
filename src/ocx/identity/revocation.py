"""Which tokens end when something changes: identity's revocation rules, in one place.

Each function records the revocation event(s) for one kind of change, in the caller's
transaction; the caller tells the service (``IdentityService.revoked_something``) once the
transaction is committed, so its own verifier refetches the list.

- a token revoked (logout) ends that token (its audit id);
- a user disabled, deleted, its password changed, or removed from a group ends all the user's
  tokens;
- a project disabled or deleted ends every token scoped to it;
- a domain disabled or deleted ends every token that depends on it: its users' tokens
  wherever scoped, and tokens scoped to it or to its projects;
- a grant removed ends the affected users' tokens on that target (all of their tokens when
  the grant was inherited, as its reach is wider than one target);
- an application credential deleted ends the tokens made from it;
- an OAuth1 access token revoked, or its consumer deleted, ends the tokens made from it (they
  share its audit chain);
- trust in an identity provider ended ends the tokens of every user who came through it.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from ocx.identity.assignments import DOMAIN, PROJECT, Target
from ocx.identity.tokens import record_revocation


async def token(session: AsyncSession, audit_id: str) -> None:
    await record_revocation(session, audit_id=audit_id)


async def user(session: AsyncSession, user_id: str) -> None:
    await record_revocation(session, user_id=user_id)


async def users(session: AsyncSession, user_ids: Iterable[str]) -> None:
    for user_id in user_ids:
        await record_revocation(session, user_id=user_id)


async def project(session: AsyncSession, project_id: str) -> None:
    await record_revocation(session, project_id=project_id)


async def domain(session: AsyncSession, domain_id: str) -> None:
    await record_revocation(session, domain_id=domain_id)


async def app_cred(session: AsyncSession, cred_id: str) -> None:
    await record_revocation(session, app_cred_id=cred_id)


async def oauth_access_token(session: AsyncSession, audit_chain_id: str) -> None:
    await record_revocation(session, audit_chain_id=audit_chain_id)


async def grant(
    session: AsyncSession, user_ids: Iterable[str], target: Target, inherited: bool
) -> None:
    scope: dict[str, str] = {}
    if not inherited and target.type == PROJECT:
        scope = {"project_id": target.id}
    elif not inherited and target.type == DOMAIN:
        scope = {"domain_id": target.id}
    for user_id in user_ids:
        await record_revocation(session, user_id=user_id, **scope)
