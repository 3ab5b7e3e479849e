"""Compute tables: flavors (with access lists), keypairs, servers, volume attachments and
quota overrides.

A server row holds Nova's three states (``vm_state``, ``task_state``, ``power_state``) and
the host the scheduler chose; ``seq`` orders listings (newest first) even when a thousand
servers share one creation time.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ocx.common.db import NAMING


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Flavor(Base):
    __tablename__ = "flavors"
    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    vcpus: Mapped[int] = mapped_column(Integer)
    ram: Mapped[int] = mapped_column(Integer)
    disk: Mapped[int] = mapped_column(Integer)
    ephemeral: Mapped[int] = mapped_column(Integer, default=0)
    swap: Mapped[int] = mapped_column(Integer, default=0)
    rxtx_factor: Mapped[float] = mapped_column(Float, default=1.0)
    is_public: Mapped[bool] = mapped_column(Boolean, default=True)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    extra_specs: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    created_at: Mapped[float] = mapped_column(Float)


class FlavorAccess(Base):
    __tablename__ = "flavor_access"
    flavor_id: Mapped[str] = mapped_column(
        String(255), ForeignKey("flavors.id", ondelete="CASCADE"), primary_key=True
    )
    project_id: Mapped[str] = mapped_column(String(255), primary_key=True)


class Keypair(Base):
    __tablename__ = "keypairs"
    __table_args__ = (UniqueConstraint("user_id", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(String(255), index=True)
    name: Mapped[str] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(16))
    public_key: Mapped[str] = mapped_column(Text)
    fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[float] = mapped_column(Float)


class Server(Base):
    __tablename__ = "servers"
    # A project's page (newest first, after a marker) is read from this index alone: without
    # it each page of a project with 10,000 servers sorted all of them (42 ms, not 0.4 ms).
    __table_args__ = (Index("ix_servers_project_id_seq", "project_id", "seq"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True, index=True)
    name: Mapped[str] = mapped_column(String(255), index=True)
    project_id: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[str] = mapped_column(String(255))
    reservation_id: Mapped[str] = mapped_column(String(16), index=True)
    launch_index: Mapped[int] = mapped_column(Integer, default=0)
    image_id: Mapped[str] = mapped_column(String(36))
    image_properties: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    flavor: Mapped[dict[str, Any]] = mapped_column(JSON)
    vcpus: Mapped[int] = mapped_column(Integer)
    ram: Mapped[int] = mapped_column(Integer)
    host: Mapped[str | None] = mapped_column(String(255), nullable=True, index=True)
    vm_state: Mapped[str] = mapped_column(String(32), index=True)
    task_state: Mapped[str | None] = mapped_column(String(32), nullable=True)
    power_state: Mapped[int] = mapped_column(Integer, default=0)
    key_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    user_data: Mapped[str | None] = mapped_column(Text, nullable=True)
    meta: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    addresses: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    availability_zone: Mapped[str] = mapped_column(String(255))
    locked_by: Mapped[str | None] = mapped_column(String(16), nullable=True)
    locked_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    fault: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    scheduler_hints: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float, index=True)
    launched_at: Mapped[float | None] = mapped_column(Float, nullable=True)


class DeletedServer(Base):
    """Where a deleted server stood in the listing order: its id stays a valid ``marker``, as
    in Nova (which reads the marker with deleted rows), so a client, or the proxy, paging
    past a server that another client deleted goes on where it was instead of getting 400."""

    __tablename__ = "deleted_servers"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    project_id: Mapped[str] = mapped_column(String(255))
    deleted_at: Mapped[float] = mapped_column(Float)


class VolumeAttachment(Base):
    """A volume (here or at another landlord) attached to a server as ``device``."""

    __tablename__ = "volume_attachments"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    server_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("servers.id", ondelete="CASCADE"), index=True
    )
    volume_id: Mapped[str] = mapped_column(String(255), index=True)
    landlord: Mapped[str] = mapped_column(String(64))
    device: Mapped[str] = mapped_column(String(64))
    tag: Mapped[str | None] = mapped_column(String(60), nullable=True)
    delete_on_termination: Mapped[bool] = mapped_column(Boolean, default=False)
    attachment_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    connection: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[float] = mapped_column(Float)


class QuotaLimit(Base):
    """A project's limit for one resource, where an admin changed the default."""

    __tablename__ = "quota_limits"
    project_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    resource: Mapped[str] = mapped_column(String(64), primary_key=True)
    hard_limit: Mapped[int] = mapped_column(Integer)
