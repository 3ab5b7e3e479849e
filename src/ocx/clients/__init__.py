"""Client-side helpers OCX ships for the unmodified OpenStack clients."""
