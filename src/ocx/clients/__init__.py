"""Clients OCX ships: helpers for the unmodified OpenStack clients, and the typed clients one
part uses to call another landlord (K2K federation, the vault, attaching a remote volume)."""
