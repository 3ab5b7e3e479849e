"""The Usage panel of the Market dashboard."""
