"""Typed settings of the dashboard part, and the JSON document Horizon's settings read."""

from __future__ import annotations

import sys
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from ocx.parts import PROXY_REGION


def default_horizon_venv() -> Path:
    """``.venv-horizon`` beside the venv OCX runs from (the repository root in a checkout)."""
    return Path(sys.prefix).parent / ".venv-horizon"


class Region(BaseModel):
    """One Keystone a user may sign in to: Horizon's AVAILABLE_REGIONS entry."""

    model_config = ConfigDict(frozen=True)

    name: str
    auth_url: str


class WebSSOChoice(BaseModel):
    """One "sign in with your home landlord" entry: the IdP and protocol names at identity."""

    model_config = ConfigDict(frozen=True)

    idp: str
    protocol: str = "openid"
    label: str


class DashboardSettings(BaseModel):
    """What the dashboard part needs; ``horizon_config`` is the part Horizon itself reads."""

    model_config = ConfigDict(frozen=True)

    landlord: str
    public_url: str
    data_dir: Path
    # The exchange operator's identity: Horizon's OPENSTACK_KEYSTONE_URL (…/v3).
    keystone_url: str
    # The region a fresh session starts in: the mix-and-match proxy's.
    default_region: str = PROXY_REGION
    # Other Keystones a user may pick on the sign-in page (a landlord's own users).
    regions: tuple[Region, ...] = ()
    websso: tuple[WebSSOChoice, ...] = ()
    # The exchange API the Market panels browse for a user signed in at another landlord.
    exchange_url: str | None = None
    secret_key: str
    horizon_venv: Path = default_horizon_venv()
    workers: int = 2
    # A plain-HTTP exchange (the default topology) cannot use Secure cookies; behind TLS, set.
    secure_cookies: bool = False
    session_timeout: int = 3600

    @property
    def socket_path(self) -> Path:
        return self.data_dir / "horizon.sock"

    @property
    def static_root(self) -> Path:
        """Collected (and offline-compressed) static files, made by the install script."""
        return self.horizon_venv / "ocx-static"

    def horizon_config(self) -> dict[str, object]:
        """The document :mod:`ocx.dashboard.horizon.settings` loads inside Horizon's venv."""
        return {
            "keystone_url": self.keystone_url,
            "exchange_url": self.exchange_url,
            "default_region": self.default_region,
            "regions": [[r.auth_url, r.name] for r in self.regions],
            "websso": [[f"{c.idp}_{c.protocol}", c.label, c.idp, c.protocol] for c in self.websso],
            "secret_key": self.secret_key,
            "public_url": self.public_url,
            "static_root": str(self.static_root),
            "data_dir": str(self.data_dir),
            "secure_cookies": self.secure_cookies,
            "session_timeout": self.session_timeout,
        }
