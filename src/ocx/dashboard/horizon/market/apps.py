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
        merge_services_of_a_type()


def merge_services_of_a_type() -> None:
    """An OCX catalog may list two services of one type (a landlord's ``nova`` in RegionOne
    and the proxy's ``ocx-nova`` in region ``ocx``), as Keystone allows; Horizon looks only at
    the first service of a type, so the other region's endpoints were never found ("Invalid
    service catalog: compute"). Horizon sees one service per type with every endpoint."""
    from openstack_dashboard.api import base

    base.get_service_from_catalog = merged_service


def merged_service(catalog: Any, service_type: str) -> dict[str, Any] | None:
    found = [s for s in catalog or [] if s.get("type") == service_type]
    if not found:
        return None
    return {**found[0], "endpoints": [e for s in found for e in s.get("endpoints", [])]}


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
