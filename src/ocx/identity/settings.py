"""Identity settings."""

from __future__ import annotations

from pydantic import BaseModel

from ocx.common.settings import ServiceSettings
from ocx.identity.passwords import HashCost


class CatalogEntry(BaseModel):
    """A service this landlord runs, registered in its catalog at bootstrap."""

    type: str
    name: str
    url: str
    region: str | None = None


class IdentitySettings(ServiceSettings):
    token_ttl: int = 3600
    key_rotation_days: float = 30.0
    admin_user: str = "admin"
    admin_password: str
    admin_project: str = "admin"
    operator_domain: str | None = None
    hash_cost: HashCost = HashCost()
    catalog: tuple[CatalogEntry, ...] = ()
    max_body_bytes: int = 1024 * 1024
    # Dashboards (their WebSSO endpoints, exactly) this identity sends federated tokens to.
    trusted_dashboards: tuple[str, ...] = ()

    @property
    def issuer(self) -> str:
        return self.public_url.rstrip("/")
