"""The Subscriptions panel of the Market dashboard."""
