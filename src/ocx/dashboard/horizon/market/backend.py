"""Horizon's Keystone sign-in, starting the session in the proxy's region where there is one.

Horizon's backend starts a session in "the region we just logged into": the region of the
first identity endpoint in the catalog whose URL is the one signed in at. An OCX landlord that
runs the proxy lists its identity twice, in its own region and in region ``ocx`` (clients look
identity up in the region they use), so that rule picked the landlord's own region and
``DEFAULT_SERVICE_REGIONS`` was never read. Here, when the region asked for is one of the
regions the user signed in at, it wins; a ``services_region`` cookie (the user's own last
choice, as Horizon keeps it) still comes first.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from openstack_auth import backend

from ocx.dashboard.horizon.market.regions import starting_region


class KeystoneBackend(backend.KeystoneBackend):
    def authenticate(self, request: Any, auth_url: str | None = None, **kwargs: Any) -> Any:
        user = super().authenticate(request, auth_url=auth_url, **kwargs)
        if user is not None:
            chosen = request.COOKIES.get("services_region") if request is not None else None
            user.services_region = starting_region(
                user.service_catalog,
                user.endpoint,
                user.services_region,
                chosen,
                settings.DEFAULT_SERVICE_REGIONS.get("*"),
            )
        return user
