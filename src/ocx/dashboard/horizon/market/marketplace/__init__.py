"""The Marketplace panel of the Market dashboard."""
