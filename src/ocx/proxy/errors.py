"""The proxy's faults, on the common error tree (rendered as Swift faults in one place).

    OCXError
    ├── Conflict            409  a bare name held by two landlords (say which one)
    ├── ServiceUnavailable  503  the landlord that holds the container is down, slow or garbled
    └── LoopDetected        508  the request has already passed through this proxy

:class:`Unreachable` and :class:`Absent` (from :mod:`ocx.clients.errors`, re-exported here)
are not HTTP faults: a landlord call raises them inside the proxy; each operation decides
what they become (a missing landlord in a listing, or a 503).
"""

from __future__ import annotations

from collections.abc import Sequence

from ocx.clients.errors import Absent as Absent
from ocx.clients.errors import Unreachable as Unreachable
from ocx.common import errors


class LoopDetected(errors.OCXError):
    status, title, nova_name = 508, "Loop Detected", "loopDetected"


def unavailable(landlord: str, reason: str, container: str | None = None) -> errors.OCXError:
    where = f"Container {container!r} is at landlord {landlord}, which" if container else landlord
    return errors.ServiceUnavailable(
        f"{where} cannot be reached through the proxy right now ({reason}); try again later."
    )


def described(failures: Sequence[Unreachable]) -> str:
    """``mit (timed out after 5s), stor (connection refused)``: for headers and messages."""
    return ", ".join(f"{f.landlord} ({f.reason})" for f in failures)
