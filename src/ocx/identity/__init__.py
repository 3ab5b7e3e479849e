"""A landlord's identity service: Keystone v3 on the wire, EdDSA-signed audience-bound tokens."""
