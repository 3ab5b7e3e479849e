"""The plugin's Django app; also guards a Horizon page that assumes Neutron exists."""

from collections.abc import Callable
from typing import Any

from django.apps import AppConfig


class MarketConfig(AppConfig):
    name = "ocx.dashboard.horizon.market"
    label = "ocx_market"
    verbose_name = "OCX market"

    def ready(self) -> None:
        guard_network_charts()


def guard_network_charts() -> None:
    """Horizon's project overview asks Neutron for its quota extension without checking that
    a network service exists, and fails (500) in a cloud without one, as every OCX landlord
    is. Show the network charts only where the catalog has a network service."""
    from openstack_dashboard.usage import views

    for section in views.CHART_DEFS:
        allowed = section.get("allowed")
        if callable(allowed) and not getattr(allowed, "ocx_guarded", False):
            section["allowed"] = _only_with_network(allowed)


def _only_with_network(check: Callable[[Any], bool]) -> Callable[[Any], bool]:
    from openstack_dashboard.api import base

    def allowed(request: Any) -> bool:
        return bool(base.is_service_enabled(request, "network")) and bool(check(request))

    allowed.ocx_guarded = True  # type: ignore[attr-defined]
    return allowed
