"""Who is calling, as block storage sees it, and the small helpers every domain module uses."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ocx.common.auth import Principal


@dataclass(frozen=True)
class Caller:
    project_id: str
    user_id: str
    is_admin: bool = False
    # A service (another landlord's compute acting with a delegated token holds none of
    # these; it detaches through os-begin_detaching first).
    is_service: bool = False
    # The caller's own token, for asking the landlord's other services on its behalf.
    token: str | None = field(default=None, repr=False, compare=False)

    @classmethod
    def of(cls, principal: Principal, token: str | None = None) -> Caller:
        return cls(
            project_id=principal.project_id or "",
            user_id=principal.user_id,
            is_admin=principal.is_admin,
            is_service=principal.has_role("service"),
            token=token,
        )

    def sees(self, project_id: str) -> bool:
        return self.is_admin or project_id == self.project_id


def new_id() -> str:
    return str(uuid.uuid4())


def now() -> float:
    return time.time()


def iso(stamp: float | None) -> str | None:
    """Cinder's timestamp form: ``2026-11-26T13:45:12.123456``."""
    if stamp is None:
        return None
    return datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
