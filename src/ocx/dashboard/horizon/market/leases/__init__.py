"""The Leases panel of the Market dashboard."""
