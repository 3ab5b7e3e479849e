"""The landlord's OpenID Connect provider: discovery, token, authorize and userinfo endpoints."""
