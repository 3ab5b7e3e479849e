"""Object-storage settings."""

from __future__ import annotations

from ocx.common.settings import ServiceSettings, VerifierSettings
from ocx.swift.limits import Limits


class ObjectSettings(ServiceSettings):
    verifier: VerifierSettings
    # The landlord's staff domain (by name): ResellerAdmin there is Swift's reseller admin.
    staff_domain: str | None = None
    limits: Limits = Limits()
    chunk_size: int = 1024 * 1024
    expirer_interval: float = 30.0
    # Orphaned data files (crashes between a file's rename and its row) are swept at start
    # and then this often.
    sweep_interval: float = 3600.0
    # A data file younger than this is never swept: another worker process (ocx serve
    # --workers N) may have published it and not yet committed its row.
    sweep_grace: float = 600.0
    # Longest silence while a request body is arriving before it is given up (408), as
    # Swift's client_timeout.
    body_timeout: float = 60.0
