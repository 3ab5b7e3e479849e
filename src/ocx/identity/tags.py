"""Project tags (Keystone's ``/v3/projects/{id}/tags``): the rules, without HTTP.

Tags are short labels a project's domain admin sets; anyone who may read the project may
read them. As in Keystone: at most 80 tags, each 1 to 255 characters, no ``/`` or ``,``.
"""

from __future__ import annotations

from ocx.common import errors
from ocx.common.auth import Principal
from ocx.identity import assignments, store
from ocx.identity.assignments import Target
from ocx.identity.models import Project
from ocx.identity.service import IdentityService

MAX_TAGS = 80
MAX_TAG = 255


def checked(tag: str) -> str:
    if not 1 <= len(tag) <= MAX_TAG or "/" in tag or "," in tag:
        raise errors.ValidationError(
            f"A tag is 1 to {MAX_TAG} characters without '/' or ',': {tag[:40]!r}."
        )
    return tag


def _bounded(tags: list[str]) -> list[str]:
    unique = list(dict.fromkeys(checked(t) for t in tags))
    if len(unique) > MAX_TAGS:
        raise errors.ValidationError(f"A project has at most {MAX_TAGS} tags.")
    return unique


async def read(svc: IdentityService, who: Principal, project_id: str) -> list[str]:
    async with svc.db.session() as session:
        row = await store.get(session, Project, project_id, "project")
        if not (svc.policy.is_domain_reader(who, row.domain_id) or who.project_id == row.id):
            held = await assignments.effective_role_ids(
                session, who.user_id, Target.project(row.id)
            )
            if not held:
                raise errors.Forbidden("You are not authorized to read this project.")
        return list(row.tags or [])


async def has(svc: IdentityService, who: Principal, project_id: str, tag: str) -> None:
    if tag not in await read(svc, who, project_id):
        raise errors.NotFound(f"Tag {tag!r} not found for project {project_id}.")


async def replace(
    svc: IdentityService, who: Principal, project_id: str, tags: list[str]
) -> list[str]:
    new = _bounded(tags)
    async with svc.db.session() as session:
        row = await store.get(session, Project, project_id, "project")
        svc.policy.require_domain_admin(who, row.domain_id, "identity:update_project_tags")
        row.tags = new
    return new


async def add(svc: IdentityService, who: Principal, project_id: str, tag: str) -> None:
    async with svc.db.session() as session:
        row = await store.get(session, Project, project_id, "project")
        svc.policy.require_domain_admin(who, row.domain_id, "identity:create_project_tag")
        row.tags = _bounded([*(row.tags or []), tag])


async def remove(svc: IdentityService, who: Principal, project_id: str, tag: str | None) -> None:
    """Remove ``tag``, or every tag when ``tag`` is None."""
    async with svc.db.session() as session:
        row = await store.get(session, Project, project_id, "project")
        svc.policy.require_domain_admin(who, row.domain_id, "identity:delete_project_tag")
        current = list(row.tags or [])
        if tag is not None and tag not in current:
            raise errors.NotFound(f"Tag {tag!r} not found for project {project_id}.")
        row.tags = [] if tag is None else [t for t in current if t != tag]
