"""Federation tables: trusted identity providers, mappings, protocols, service providers,
federated (shadow) users, expiring group memberships, the replay cache and OIDC clients."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ocx.identity.models import NAME, Base


class IdentityProvider(Base):
    __tablename__ = "identity_providers"
    id: Mapped[str] = mapped_column(NAME, primary_key=True)
    domain_id: Mapped[str] = mapped_column(ForeignKey("domains.id"))
    description: Mapped[str] = mapped_column(Text, default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    authorization_ttl: Mapped[int | None] = mapped_column(nullable=True)
    # OCX: where this IdP's keys are. OIDC access tokens verify against its JWKS; SAML
    # assertions against its signing certificate. Nothing else is trusted.
    jwks_uri: Mapped[str | None] = mapped_column(Text, nullable=True)
    saml_certificate: Mapped[str | None] = mapped_column(Text, nullable=True)
    # OCX: admit SAML signatures with SHA-1 (Keystone's, hard-coded) from this IdP only.
    saml_accept_sha1: Mapped[bool] = mapped_column(Boolean, default=False)


class IdpRemoteId(Base):
    """An issuer (OIDC ``iss`` or SAML ``Issuer``) that belongs to exactly one IdP."""

    __tablename__ = "idp_remote_ids"
    remote_id: Mapped[str] = mapped_column(String(512), primary_key=True)
    idp_id: Mapped[str] = mapped_column(
        ForeignKey("identity_providers.id", ondelete="CASCADE"), index=True
    )


class Mapping(Base):
    __tablename__ = "mappings"
    id: Mapped[str] = mapped_column(NAME, primary_key=True)
    rules: Mapped[dict[str, Any]] = mapped_column(JSON)
    schema_version: Mapped[str] = mapped_column(String(8), default="1.0")


class FederationProtocol(Base):
    __tablename__ = "federation_protocols"
    idp_id: Mapped[str] = mapped_column(
        ForeignKey("identity_providers.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[str] = mapped_column(NAME, primary_key=True)
    mapping_id: Mapped[str] = mapped_column(ForeignKey("mappings.id"))
    remote_id_attribute: Mapped[str | None] = mapped_column(NAME, nullable=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)


class ServiceProvider(Base):
    __tablename__ = "service_providers"
    id: Mapped[str] = mapped_column(NAME, primary_key=True)
    auth_url: Mapped[str] = mapped_column(Text)
    sp_url: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    relay_state_prefix: Mapped[str] = mapped_column(Text, default="ss:mem:")
    # OCX: the audience the service provider checks (its landlord name); defaults to the id.
    audience: Mapped[str | None] = mapped_column(NAME, nullable=True)


class FederatedUser(Base):
    """The local shadow of a user another IdP vouches for."""

    __tablename__ = "federated_users"
    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    idp_id: Mapped[str] = mapped_column(
        ForeignKey("identity_providers.id", ondelete="CASCADE"), index=True
    )
    protocol_id: Mapped[str] = mapped_column(NAME)
    unique_id: Mapped[str] = mapped_column(String(512))
    display_name: Mapped[str] = mapped_column(NAME)
    last_login: Mapped[float] = mapped_column(Float)


class ExpiringMembership(Base):
    """A group membership a mapping granted at login; it lapses unless the user logs in again."""

    __tablename__ = "expiring_group_members"
    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    group_id: Mapped[str] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True
    )
    idp_id: Mapped[str] = mapped_column(
        ForeignKey("identity_providers.id", ondelete="CASCADE"), index=True
    )
    expires_at: Mapped[float] = mapped_column(Float)


class SeenAssertion(Base):
    """Replay cache: an assertion or token id accepted once is never accepted again."""

    __tablename__ = "seen_assertions"
    key: Mapped[str] = mapped_column(String(600), primary_key=True)
    expires_at: Mapped[float] = mapped_column(Float, index=True)


class OidcClient(Base):
    __tablename__ = "oidc_clients"
    client_id: Mapped[str] = mapped_column(NAME, primary_key=True)
    secret_hash: Mapped[str | None] = mapped_column(String(512), nullable=True)
    name: Mapped[str] = mapped_column(NAME, default="")
    redirect_uris: Mapped[list[str]] = mapped_column(JSON, default=list)
    grant_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The audience of the access tokens this client gets: the landlord that consumes them.
    audience: Mapped[str] = mapped_column(NAME)
    # For client_credentials: the local user the client acts as (None: grant refused).
    service_user_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=True
    )
    created_at: Mapped[float] = mapped_column(Float)


class OidcGrant(Base):
    """An authorization code or a refresh token (stored hashed), bound to client and user."""

    __tablename__ = "oidc_grants"
    token_hash: Mapped[str] = mapped_column(String(128), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    client_id: Mapped[str] = mapped_column(
        ForeignKey("oidc_clients.client_id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    scope: Mapped[str] = mapped_column(Text, default="openid")
    redirect_uri: Mapped[str | None] = mapped_column(Text, nullable=True)
    code_challenge: Mapped[str | None] = mapped_column(String(256), nullable=True)
    nonce: Mapped[str | None] = mapped_column(String(512), nullable=True)
    expires_at: Mapped[float] = mapped_column(Float)
    used: Mapped[bool] = mapped_column(Boolean, default=False)


class SamlKey(Base):
    """This landlord's SAML signing key and self-signed certificate (as identity provider)."""

    __tablename__ = "saml_keys"
    id: Mapped[int] = mapped_column(primary_key=True)
    private_pem: Mapped[str] = mapped_column(Text)
    cert_pem: Mapped[str] = mapped_column(Text)
    created_at: Mapped[float] = mapped_column(Float)
