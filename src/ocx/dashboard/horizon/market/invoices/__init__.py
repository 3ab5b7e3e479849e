"""The Invoices panel of the Market dashboard."""
