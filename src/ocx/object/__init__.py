"""Object storage: a landlord's Swift v1 service (accounts, containers, objects)."""
