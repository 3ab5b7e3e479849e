"""The OCX plugin for Horizon: the Market dashboard, talking to the exchange API."""
