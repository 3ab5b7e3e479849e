"""Horizon plugin registration: the Market dashboard (marketplace, contracts, bills)."""

DASHBOARD = "market"
ADD_INSTALLED_APPS = ["ocx.dashboard.horizon.market"]
DEFAULT = True
