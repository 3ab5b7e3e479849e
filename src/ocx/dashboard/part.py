"""The dashboard as a part of the exchange operator: Horizon behind the part's front."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from starlette.types import ASGIApp

from ocx.dashboard import front
from ocx.dashboard.horizon_process import HorizonProcess
from ocx.dashboard.settings import DashboardSettings, Region, WebSSOChoice
from ocx.landlord import Landlord


class DashboardPart:
    def __init__(self, settings: DashboardSettings, websso_origins: str = ""):
        self.settings = settings
        self.horizon = HorizonProcess(settings)
        self.relay = front.Relay(self.horizon)
        self.app: ASGIApp = front.build(self.horizon, self.relay, websso_origins)

    @classmethod
    def for_landlord(cls, landlord: Landlord) -> DashboardPart:
        data_dir = landlord.data_dir / "dashboard"
        settings = DashboardSettings(
            landlord=landlord.name,
            public_url=landlord.url("dashboard"),
            data_dir=data_dir,
            keystone_url=landlord.auth_url,
            regions=regions(landlord),
            websso=tuple(WebSSOChoice(idp=idp, label=idp) for idp in landlord.config.trusts),
            secret_key=secret_key(data_dir),
            exchange_url=landlord.base_urls.get("exchange"),
        )
        # Horizon's sign-in form redirects to this identity's WebSSO, which redirects on to
        # the user's home landlord: the form may lead to every landlord's identity.
        identities = sorted(
            {
                landlord.identity_url,
                *(u["identity"] for u in landlord.peers.values() if "identity" in u),
            }
        )
        return cls(settings, websso_origins=" ".join(identities))

    async def start(self) -> None:
        """Nothing yet: Horizon starts with the first page asked for (see horizon_process)."""

    async def stop(self) -> None:
        await self.relay.close()
        await self.horizon.stop()


def regions(landlord: Landlord) -> tuple[Region, ...]:
    """This landlord's identity first, then every other landlord's (the sign-in page's list).

    A session at the exchange reaches every landlord that trusts it through the exchange's
    proxy (region ``ocx``); a landlord's own user may also sign in at that landlord.
    """
    others = [
        Region(name=name, auth_url=urls["identity"] + "/v3")
        for name, urls in landlord.peers.items()
        if name != landlord.name and "identity" in urls
    ]
    if not others:
        return ()
    return (Region(name=landlord.name, auth_url=landlord.auth_url), *others)


def secret_key(data_dir: Path) -> str:
    """Django's signing key: made on first start, kept (mode 0600), the same in every worker."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "secret_key"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip()
