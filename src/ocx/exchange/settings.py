"""Exchange settings, built once from the topology and passed in."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from ocx.common.settings import VerifierSettings


class ExchangeSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    landlord: str
    public_url: str
    database_url: str
    verifier: VerifierSettings
    # How often the conformance gate re-checks every offering (and probes availability).
    probe_interval: float = 60.0
    # How often leases are fulfilled, warned about and expired.
    lease_interval: float = 10.0
    # Warn a lessee this long before the lease ends.
    lease_warning: float = 86400.0
    # How long a landlord's signed request to read its feed stays good.
    request_ttl: float = 300.0
