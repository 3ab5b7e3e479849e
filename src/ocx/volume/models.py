"""Block-storage tables: volume types (and who may use private ones), volumes, snapshots,
attachments, quota limits and the per-project row that serialises quota checks.

A volume's data is a sparse file (see :mod:`ocx.volume.storage`); its row exists before the
file (status ``creating``) and outlives it while ``deleting``, so a restart can finish or
fail what a crash interrupted (:meth:`ocx.volume.service.VolumeService.recover`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, MetaData, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ocx.common.db import NAMING


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class VolumeType(Base):
    __tablename__ = "volume_types"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    is_public: Mapped[bool] = mapped_column(Boolean, default=True)
    extra_specs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[float] = mapped_column(Float)


class TypeAccess(Base):
    __tablename__ = "volume_type_access"

    type_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("volume_types.id", ondelete="CASCADE"), primary_key=True
    )
    project_id: Mapped[str] = mapped_column(String(64), primary_key=True)


class Volume(Base):
    __tablename__ = "volumes"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(64), index=True)
    user_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    size: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(32))
    type_id: Mapped[str] = mapped_column(String(36), ForeignKey("volume_types.id"))
    snapshot_id: Mapped[str | None] = mapped_column(String(36))
    source_volid: Mapped[str | None] = mapped_column(String(36))
    bootable: Mapped[bool] = mapped_column(Boolean, default=False)
    multiattach: Mapped[bool] = mapped_column(Boolean, default=False)
    read_only: Mapped[bool] = mapped_column(Boolean, default=False)
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    availability_zone: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[float] = mapped_column(Float, index=True)
    updated_at: Mapped[float | None] = mapped_column(Float)


class Snapshot(Base):
    __tablename__ = "snapshots"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(64), index=True)
    user_id: Mapped[str] = mapped_column(String(64))
    volume_id: Mapped[str] = mapped_column(String(36), ForeignKey("volumes.id"), index=True)
    name: Mapped[str | None] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    size: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(32))
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[float] = mapped_column(Float, index=True)
    updated_at: Mapped[float | None] = mapped_column(Float)


class Attachment(Base):
    """One consumer's use of a volume, and the NBD export (port, PSK) made for it alone."""

    __tablename__ = "attachments"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(64), index=True)
    volume_id: Mapped[str] = mapped_column(String(36), ForeignKey("volumes.id"), index=True)
    instance_uuid: Mapped[str | None] = mapped_column(String(36))
    status: Mapped[str] = mapped_column(String(32))
    mode: Mapped[str] = mapped_column(String(2), default="rw")
    connector: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    mountpoint: Mapped[str | None] = mapped_column(String(255))
    host_ip: Mapped[str | None] = mapped_column(String(64))
    nbd_port: Mapped[int | None] = mapped_column(Integer)
    psk_identity: Mapped[str | None] = mapped_column(String(64))
    psk_key: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[float] = mapped_column(Float, index=True)
    attached_at: Mapped[float | None] = mapped_column(Float)
    detached_at: Mapped[float | None] = mapped_column(Float)


class QuotaLimit(Base):
    __tablename__ = "quota_limits"

    project_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    resource: Mapped[str] = mapped_column(String(255), primary_key=True)
    hard_limit: Mapped[int] = mapped_column(Integer)


class QuotaLock(Base):
    """Updated first in every transaction that checks quota: checks of one project queue."""

    __tablename__ = "quota_locks"

    project_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    counter: Mapped[int] = mapped_column(Integer, default=0)
