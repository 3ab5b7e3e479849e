"""Block storage: a landlord's Cinder v3 service whose volumes are served over NBD."""
