"""The Settlements panel of the Market dashboard."""
