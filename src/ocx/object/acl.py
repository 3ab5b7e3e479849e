"""Who may do what to an account, in Swift's keystoneauth terms, as pure functions.

- The account ``AUTH_<project_id>`` belongs to that project. A token for it with ``member``
  (or ``admin``, which implies it) is the owner: everything in the account. ``reader`` only
  reads (HEAD, GET, listings), never writes.
- The reseller admin (:func:`is_reseller`) has every account of this landlord: a
  system-scoped ``admin``, or a holder of ``ResellerAdmin`` on a project of the landlord's
  staff (operator) domain. Only the reseller sets account quotas.
- Everyone else, and anonymous callers, get only what a container's ACLs grant:
  ``X-Container-Read`` (``project:user`` entries, ids or, for the default domain only,
  names; ``*`` wildcards, ``.r:*`` public read of
  objects, ``.rlistings`` public listing) and ``X-Container-Write`` (``project:user``).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from urllib.parse import urlsplit

from ocx.common import errors
from ocx.common.auth import Principal
from ocx.swift.faults import bad_request, fault


class Level(enum.IntEnum):
    NONE = 0
    READER = 1
    OWNER = 2


RESELLER_ROLE = "ResellerAdmin"


def is_reseller(principal: Principal | None, staff_domain: str | None) -> bool:
    """Swift's reseller admin. ``ResellerAdmin`` counts only on a project of the landlord's
    staff domain: on a customer's project any of the customer's domain admins could have
    granted it, and a customer must never reach other customers' accounts."""
    if principal is None:
        return False
    if principal.system and principal.is_admin:
        return True
    if staff_domain is None or not principal.has_role(RESELLER_ROLE):
        return False
    project = principal.claims.get("project") or {}
    return bool((project.get("domain") or {}).get("name") == staff_domain)


def level(principal: Principal | None, project_id: str) -> Level:
    if principal is None:
        return Level.NONE
    if principal.system and principal.is_admin:
        return Level.OWNER
    if principal.project_id != project_id:
        return Level.NONE
    if principal.has_role("admin", "member"):
        return Level.OWNER
    return Level.READER if principal.has_role("reader") else Level.NONE


@dataclass(frozen=True)
class Acl:
    """A parsed container ACL."""

    users: tuple[tuple[str, str], ...] = ()
    referrers: tuple[str, ...] = ()
    listings: bool = False

    def grants_user(self, principal: Principal | None) -> bool:
        if principal is None:
            return False
        return any(_matches(principal, project, user) for project, user in self.users)

    def grants_referrer(self, referer: str | None) -> bool:
        """Swift's referrer rules: the last matching ``.r:`` entry decides (``-`` denies)."""
        host = urlsplit(referer).hostname or "" if referer else ""
        allowed = False
        for entry in self.referrers:
            deny = entry.startswith("-")
            pattern = entry[1:] if deny else entry
            if (
                pattern == "*"
                or host == pattern
                or (pattern.startswith(".") and host.endswith(pattern))
            ):
                allowed = not deny
        return allowed


def parse(value: str, *, write: bool) -> Acl:
    users: list[tuple[str, str]] = []
    referrers: list[str] = []
    listings = False
    for item in (part.strip() for part in value.split(",")):
        if not item:
            continue
        if item.startswith(".r:") and not write:
            referrers.append(item[3:])
        elif item == ".rlistings" and not write:
            listings = True
        elif item.startswith("."):
            raise bad_request(f"Referrers not allowed in write ACL: {item!r}")
        else:
            project, _, user = item.partition(":")
            users.append((project, user or "*"))
    return Acl(tuple(users), tuple(referrers), listings)


DEFAULT_DOMAIN = "default"


def _matches(principal: Principal, project: str, user: str) -> bool:
    # Names are unique only within a domain: as in Swift, an ACL entry matches by name only
    # users and projects of the default domain, and by id everyone.
    names = (
        principal.user_domain_id == DEFAULT_DOMAIN and principal.project_domain_id == DEFAULT_DOMAIN
    )
    return _is(project, principal.project_id, principal.project_name if names else None) and _is(
        user, principal.user_id, principal.user_name if names else None
    )


def _is(pattern: str, ident: str | None, name: str | None) -> bool:
    return pattern == "*" or (pattern != "" and pattern in (ident, name))


def deny(principal: Principal | None) -> errors.OCXError:
    """401 when nobody is known (a token would help), 403 when the caller is known."""
    if principal is None:
        return fault(errors.Unauthorized)
    return fault(errors.Forbidden)


@dataclass(frozen=True)
class Grants:
    """What one caller may do in one container, from its level and the container's ACLs."""

    owner: bool
    read: bool
    listing: bool
    write: bool


def grants(
    principal: Principal | None,
    project_id: str,
    read_acl: str,
    write_acl: str,
    referer: str | None = None,
) -> Grants:
    at = level(principal, project_id)
    if at is Level.OWNER:
        return Grants(owner=True, read=True, listing=True, write=True)
    if at is Level.READER:
        return Grants(owner=False, read=True, listing=True, write=False)
    reads = parse(read_acl, write=False)
    user_read = reads.grants_user(principal)
    public = reads.grants_referrer(referer)
    return Grants(
        owner=False,
        read=user_read or public,
        listing=user_read or (public and reads.listings),
        write=parse(write_acl, write=True).grants_user(principal),
    )
