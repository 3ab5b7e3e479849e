"""Federation: identity providers, mappings, protocols, service providers, OIDC and SAML."""
