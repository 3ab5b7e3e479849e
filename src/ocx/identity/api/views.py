"""Rows rendered as Keystone's JSON documents."""

from __future__ import annotations

from typing import Any

from ocx.identity.models import (
    ApplicationCredential,
    Domain,
    Endpoint,
    Group,
    Project,
    Region,
    Role,
    Service,
    User,
)


def _links(base: str, path: str) -> dict[str, str]:
    return {"self": f"{base}/v3/{path}"}


def domain(base: str, row: Domain) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "description": row.description,
        "enabled": row.enabled,
        "tags": [],
        "options": {},
        "links": _links(base, f"domains/{row.id}"),
    }


def domain_as_project(base: str, row: Domain) -> dict[str, Any]:
    """A domain seen through ``/v3/projects`` (Keystone's project acting as a domain)."""
    return {
        "id": row.id,
        "name": row.name,
        "domain_id": None,
        "description": row.description,
        "enabled": row.enabled,
        "parent_id": None,
        "is_domain": True,
        "tags": [],
        "options": {},
        "links": _links(base, f"projects/{row.id}"),
    }


def project(base: str, row: Project) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "domain_id": row.domain_id,
        "description": row.description,
        "enabled": row.enabled,
        "parent_id": row.parent_id or row.domain_id,
        "is_domain": False,
        "tags": list(row.tags or []),
        "options": {},
        **(row.extra or {}),
        "links": _links(base, f"projects/{row.id}"),
    }


def user(base: str, row: User) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": row.id,
        "name": row.name,
        "domain_id": row.domain_id,
        "enabled": row.enabled,
        "password_expires_at": None,
        "options": {},
        "links": _links(base, f"users/{row.id}"),
    }
    if row.default_project_id:
        doc["default_project_id"] = row.default_project_id
    if row.description:
        doc["description"] = row.description
    if row.email:
        doc["email"] = row.email
    return {**(row.extra or {}), **doc}


def group(base: str, row: Group) -> dict[str, Any]:
    return {
        **(row.extra or {}),
        "id": row.id,
        "name": row.name,
        "domain_id": row.domain_id,
        "description": row.description,
        "links": _links(base, f"groups/{row.id}"),
    }


def role(base: str, row: Role) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "domain_id": row.domain_id,
        "description": row.description or None,
        "options": {},
        "links": _links(base, f"roles/{row.id}"),
    }


def region(base: str, row: Region) -> dict[str, Any]:
    return {
        "id": row.id,
        "description": row.description,
        "parent_region_id": row.parent_region_id,
        "links": _links(base, f"regions/{row.id}"),
    }


def service(base: str, row: Service) -> dict[str, Any]:
    return {
        "id": row.id,
        "type": row.type,
        "name": row.name,
        "description": row.description,
        "enabled": row.enabled,
        "links": _links(base, f"services/{row.id}"),
    }


def endpoint(base: str, row: Endpoint) -> dict[str, Any]:
    return {
        "id": row.id,
        "service_id": row.service_id,
        "interface": row.interface,
        "region_id": row.region_id,
        "region": row.region_id,
        "url": row.url,
        "enabled": row.enabled,
        "links": _links(base, f"endpoints/{row.id}"),
    }


def app_cred(
    base: str, row: ApplicationCredential, roles: list[Role], secret: str | None = None
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": row.id,
        "name": row.name,
        "description": row.description or None,
        "user_id": row.user_id,
        "project_id": row.project_id,
        # As Keystone: the naive UTC time the client sent, without a zone suffix.
        "expires_at": row.expires_at.isoformat() if row.expires_at else None,
        "unrestricted": row.unrestricted,
        "access_rules": [],
        "roles": [{"id": r.id, "name": r.name, "domain_id": r.domain_id} for r in roles],
        "links": _links(base, f"users/{row.user_id}/application_credentials/{row.id}"),
    }
    if secret is not None:
        doc["secret"] = secret
    return doc
