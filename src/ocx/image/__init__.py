"""Glance v2 image service of one landlord."""
