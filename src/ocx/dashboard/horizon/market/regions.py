"""Which services region a fresh dashboard session starts in (pure: tested without Django)."""

from __future__ import annotations

from typing import Any


def _region(endpoint: dict[str, Any]) -> str | None:
    """Keystone v3 names an endpoint's region ``region_id`` (``region`` is the old name)."""
    found = endpoint.get("region_id") or endpoint.get("region")
    return str(found) if found else None


def starting_region(
    catalog: list[dict[str, Any]],
    endpoint: str,
    found: str | None,
    chosen: str | None,
    wanted: str | None,
) -> str | None:
    """The services region a fresh session starts in.

    ``found`` is Horizon's pick (the first identity region at ``endpoint``); ``chosen`` the
    user's cookie; ``wanted`` the configured default. The cookie wins where the catalog has
    that region, then the default where the same identity is listed in it, else Horizon's pick.
    """
    services = {
        _region(e)
        for s in catalog or []
        if s.get("type") != "identity"
        for e in s.get("endpoints", [])
    }
    if chosen and chosen in services:
        return chosen
    identity_regions = {
        _region(e)
        for s in catalog or []
        if s.get("type") == "identity"
        for e in s.get("endpoints", [])
        if e.get("url", "").rstrip("/") == (endpoint or "").rstrip("/")
    }
    if wanted and wanted in services and wanted in identity_regions:
        return wanted
    return found
