"""Who may do what in identity, in the Keystone sense of admin, member and reader.

- The landlord's administrators hold ``admin`` on the system, or on the landlord's own admin
  project (the one ``ocx up`` bootstraps). They manage everything. An ``admin`` role on a
  customer's project does *not* make its holder a landlord administrator: Keystone's old
  "admin anywhere is admin everywhere" (bug 968696) is exactly what a shared cloud cannot have.
- A landlord may name an *operator domain* (``operator_domain`` in the topology) for its own
  staff: ``admin`` on any project of that domain is a landlord administrator too (a member
  or reader there is an ordinary user). Only
  landlord administrators (and admins of that domain, whom only they can appoint) can make
  projects or grants there, so no customer can enter it. Tempest's dynamic admins use it.
- ``reader`` (or ``member``) on the system or on the admin project reads everything.
- ``admin`` on a domain manages that domain's projects, users, groups and grants, except
  on the landlord's own domain (the one of the admin project, Default): its projects include
  the admin project and its users the landlord's administrators, so whoever managed it could
  grant themselves the landlord (or set its admin's password). Only landlord administrators
  manage it; a domain admin role there is no more than a reader's.
- Everyone else sees and changes only their own user, the projects they hold roles on, and
  their own application credentials.
"""

from __future__ import annotations

from dataclasses import dataclass

from ocx.common import errors
from ocx.common.auth import Principal


@dataclass(frozen=True)
class Policy:
    admin_project_id: str
    operator_domain_id: str | None = None
    landlord_domain_id: str | None = None

    def _landlord_scope(self, p: Principal) -> bool:
        return p.system or (p.project_id is not None and p.project_id == self.admin_project_id)

    def _staff_admin(self, p: Principal) -> bool:
        """Admin on a project of the operator domain (members there are plain members)."""
        operators = self.operator_domain_id
        return (
            operators is not None
            and p.project_id is not None
            and p.project_domain_id == operators
            and p.has_role("admin")
        )

    def is_admin(self, p: Principal) -> bool:
        return (self._landlord_scope(p) and p.has_role("admin")) or self._staff_admin(p)

    def is_reader(self, p: Principal) -> bool:
        landlord = self._landlord_scope(p) and p.has_role("admin", "member", "reader")
        return landlord or self._staff_admin(p)

    def is_domain_admin(self, p: Principal, domain_id: str | None) -> bool:
        return self.is_admin(p) or (
            p.domain_id is not None
            and p.domain_id == domain_id
            and domain_id != self.landlord_domain_id
            and p.has_role("admin")
        )

    def is_domain_reader(self, p: Principal, domain_id: str | None) -> bool:
        return self.is_reader(p) or (
            p.domain_id is not None
            and p.domain_id == domain_id
            and p.has_role("admin", "member", "reader")
        )

    def require_admin(self, p: Principal, action: str) -> None:
        if not self.is_admin(p):
            raise deny(action)

    def require_reader(self, p: Principal, action: str) -> None:
        if not self.is_reader(p):
            raise deny(action)

    def require_domain_admin(self, p: Principal, domain_id: str | None, action: str) -> None:
        if not self.is_domain_admin(p, domain_id):
            raise deny(action)

    def require_domain_reader(self, p: Principal, domain_id: str | None, action: str) -> None:
        if not self.is_domain_reader(p, domain_id):
            raise deny(action)

    def require_self_or_reader(
        self, p: Principal, user_id: str, domain_id: str | None, action: str
    ) -> None:
        if p.user_id != user_id and not self.is_domain_reader(p, domain_id):
            raise deny(action)

    def require_self_or_admin(
        self, p: Principal, user_id: str, domain_id: str | None, action: str
    ) -> None:
        if p.user_id != user_id and not self.is_domain_admin(p, domain_id):
            raise deny(action)


def deny(action: str) -> errors.Forbidden:
    return errors.Forbidden(f"You are not authorized to perform the requested action: {action}.")
