"""Identity tables."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ocx.common.db import NAMING


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


ID = String(64)
NAME = String(255)


class Domain(Base):
    __tablename__ = "domains"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(NAME, unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Project(Base):
    __tablename__ = "projects"
    __table_args__ = (UniqueConstraint("domain_id", "name"),)
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(NAME)
    domain_id: Mapped[str] = mapped_column(ForeignKey("domains.id"), index=True)
    parent_id: Mapped[str | None] = mapped_column(ID, nullable=True)
    description: Mapped[str] = mapped_column(Text, default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("domain_id", "name"),)
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(NAME)
    domain_id: Mapped[str] = mapped_column(ForeignKey("domains.id"), index=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    password_hash: Mapped[str | None] = mapped_column(String(512), nullable=True)
    password_expires_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    default_project_id: Mapped[str | None] = mapped_column(ID, nullable=True)
    description: Mapped[str] = mapped_column(Text, default="")
    email: Mapped[str | None] = mapped_column(String(255), nullable=True)
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class Group(Base):
    __tablename__ = "groups"
    __table_args__ = (UniqueConstraint("domain_id", "name"),)
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(NAME)
    domain_id: Mapped[str] = mapped_column(ForeignKey("domains.id"), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    extra: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True, default=dict)


class Membership(Base):
    __tablename__ = "group_members"
    group_id: Mapped[str] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class Role(Base):
    __tablename__ = "roles"
    __table_args__ = (UniqueConstraint("domain_id", "name"),)
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(NAME)
    domain_id: Mapped[str | None] = mapped_column(ID, nullable=True)
    description: Mapped[str] = mapped_column(Text, default="")


class ImpliedRole(Base):
    __tablename__ = "implied_roles"
    prior_role_id: Mapped[str] = mapped_column(
        ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True
    )
    implied_role_id: Mapped[str] = mapped_column(
        ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True
    )


class Assignment(Base):
    """A role grant: actor (user or group) has role on target (project, domain or system)."""

    __tablename__ = "assignments"
    __table_args__ = (Index("ix_assignments_target", "target_type", "target_id"),)
    actor_type: Mapped[str] = mapped_column(String(16), primary_key=True)
    actor_id: Mapped[str] = mapped_column(ID, primary_key=True, index=True)
    target_type: Mapped[str] = mapped_column(String(16), primary_key=True)
    target_id: Mapped[str] = mapped_column(ID, primary_key=True)
    role_id: Mapped[str] = mapped_column(
        ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True
    )
    inherited: Mapped[bool] = mapped_column(Boolean, primary_key=True, default=False)


class Region(Base):
    __tablename__ = "regions"
    id: Mapped[str] = mapped_column(NAME, primary_key=True)
    description: Mapped[str] = mapped_column(Text, default="")
    parent_region_id: Mapped[str | None] = mapped_column(NAME, nullable=True)


class Service(Base):
    __tablename__ = "services"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    type: Mapped[str] = mapped_column(NAME)
    name: Mapped[str] = mapped_column(NAME, default="")
    description: Mapped[str] = mapped_column(Text, default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)


class Endpoint(Base):
    __tablename__ = "endpoints"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    service_id: Mapped[str] = mapped_column(
        ForeignKey("services.id", ondelete="CASCADE"), index=True
    )
    interface: Mapped[str] = mapped_column(String(16))
    region_id: Mapped[str | None] = mapped_column(ForeignKey("regions.id"), nullable=True)
    url: Mapped[str] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)


class ApplicationCredential(Base):
    __tablename__ = "application_credentials"
    __table_args__ = (UniqueConstraint("user_id", "name"),)
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(NAME)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    secret_hash: Mapped[str] = mapped_column(String(512))
    description: Mapped[str] = mapped_column(Text, default="")
    expires_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    unrestricted: Mapped[bool] = mapped_column(Boolean, default=False)
    role_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class Credential(Base):
    """A user's secret for another system (``/v3/credentials``); ``blob`` is ciphertext."""

    __tablename__ = "credentials"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    project_id: Mapped[str | None] = mapped_column(ID, nullable=True)
    type: Mapped[str] = mapped_column(NAME)
    blob: Mapped[str] = mapped_column(Text)
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class EndpointGroup(Base):
    """A named filter over the catalog's endpoints (``/v3/OS-EP-FILTER/endpoint_groups``)."""

    __tablename__ = "endpoint_groups"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(NAME)
    description: Mapped[str] = mapped_column(Text, default="")
    filters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class PolicyBlob(Base):
    """An opaque policy document stored for other services (``/v3/policies``)."""

    __tablename__ = "policies"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    type: Mapped[str] = mapped_column(NAME)
    blob: Mapped[str] = mapped_column(Text)
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class OAuthConsumer(Base):
    """A third party that may act for users who authorise it (OS-OAUTH1); ``secret`` is
    ciphertext, as signatures need the secret itself."""

    __tablename__ = "oauth_consumers"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    secret: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class OAuthRequestToken(Base):
    """A consumer's request for a user's roles on one project, authorised or not yet."""

    __tablename__ = "oauth_request_tokens"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    secret: Mapped[str] = mapped_column(Text)
    consumer_id: Mapped[str] = mapped_column(
        ForeignKey("oauth_consumers.id", ondelete="CASCADE"), index=True
    )
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    authorizing_user_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=True
    )
    role_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    verifier: Mapped[str | None] = mapped_column(String(64), nullable=True)


class OAuthAccessToken(Base):
    """What a consumer holds after a user's authorisation: those roles on that project."""

    __tablename__ = "oauth_access_tokens"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    secret: Mapped[str] = mapped_column(Text)
    consumer_id: Mapped[str] = mapped_column(
        ForeignKey("oauth_consumers.id", ondelete="CASCADE"), index=True
    )
    authorizing_user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    role_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    # The audit chain of every identity token made from it, so revoking it ends them.
    audit_chain_id: Mapped[str] = mapped_column(ID)


class OAuthNonce(Base):
    """A signed request already seen: the same nonce and timestamp again is a replay."""

    __tablename__ = "oauth_nonces"
    __table_args__ = (UniqueConstraint("consumer_id", "nonce", "timestamp", "token"),)
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    consumer_id: Mapped[str] = mapped_column(ID)
    nonce: Mapped[str] = mapped_column(String(128))
    timestamp: Mapped[int] = mapped_column(BigInteger)
    token: Mapped[str] = mapped_column(ID, default="")
    seen_at: Mapped[float] = mapped_column(Float, index=True)


class RevocationEvent(Base):
    """Keystone-style revocation: tokens matching every set field, issued before, are dead."""

    __tablename__ = "revocation_events"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    audit_id: Mapped[str | None] = mapped_column(ID, nullable=True)
    audit_chain_id: Mapped[str | None] = mapped_column(ID, nullable=True)
    user_id: Mapped[str | None] = mapped_column(ID, nullable=True)
    project_id: Mapped[str | None] = mapped_column(ID, nullable=True)
    domain_id: Mapped[str | None] = mapped_column(ID, nullable=True)
    app_cred_id: Mapped[str | None] = mapped_column(ID, nullable=True)
    issued_before: Mapped[float] = mapped_column(Float)
    revoked_at: Mapped[float] = mapped_column(Float, index=True)


class SigningKey(Base):
    """The landlord's token keys: staged (not yet activated), primary, retired (see keys.py)."""

    __tablename__ = "signing_keys"
    kid: Mapped[str] = mapped_column(ID, primary_key=True)
    private_pem: Mapped[str] = mapped_column(Text)
    created_at: Mapped[float] = mapped_column(Float)
    activated_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    retired_at: Mapped[float | None] = mapped_column(Float, nullable=True)
