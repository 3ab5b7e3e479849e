"""Who may see and change an image: Glance's default policy, as plain functions."""

from __future__ import annotations

from ocx.common import errors
from ocx.common.auth import Principal
from ocx.image.models import Image, Member


def project_of(who: Principal) -> str:
    if who.project_id is None:
        raise errors.Forbidden("Images belong to projects: use a project-scoped token.")
    return who.project_id


def can_see(who: Principal, image: Image, member: Member | None) -> bool:
    if who.is_admin or image.visibility in ("public", "community"):
        return True
    if image.owner is not None and image.owner == who.project_id:
        return True
    return image.visibility == "shared" and member is not None


def require_owner(who: Principal, image: Image, action: str) -> None:
    if who.is_admin:
        return
    if image.owner is None or image.owner != who.project_id:
        raise errors.Forbidden(f"You are not permitted to {action} this image.")


def require_visibility_allowed(who: Principal, visibility: str) -> None:
    if visibility == "public" and not who.is_admin:
        raise errors.Forbidden("Only an administrator may make an image public.")
