"""Nova's default policy for OCX: projects see their own things, admins see everything."""

from __future__ import annotations

from ocx.common import errors
from ocx.common.auth import Principal


def project_of(who: Principal) -> str:
    if who.project_id is None:
        raise errors.Forbidden("Compute resources belong to projects: use a project-scoped token.")
    return who.project_id


def require_admin(who: Principal, action: str) -> None:
    if not who.is_admin:
        raise errors.Forbidden(f"Policy doesn't allow {action} to be performed.")
