"""Object-storage tables: accounts, containers and objects.

Names sort as Swift sorts them, by UTF-8 bytes: SQLite's default collation does that, and on
PostgreSQL the name columns use the "C" collation. Object data lives in files (see
:mod:`ocx.object.storage`); a row points at its file, and a row only exists once its file
is complete, fsynced and renamed into place.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeEngine

from ocx.common.db import NAMING


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _name(length: int) -> TypeEngine[str]:
    return String(length).with_variant(String(length, collation="C"), "postgresql")


class Account(Base):
    """An account's own state; its counts are the sums over its containers."""

    __tablename__ = "accounts"
    name: Mapped[str] = mapped_column(String(256), primary_key=True)
    created_at: Mapped[float] = mapped_column(Float)
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Container(Base):
    __tablename__ = "containers"
    __table_args__ = (UniqueConstraint("account", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account: Mapped[str] = mapped_column(String(256))
    name: Mapped[str] = mapped_column(_name(256))
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)
    read_acl: Mapped[str] = mapped_column(Text, default="")
    write_acl: Mapped[str] = mapped_column(Text, default="")
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    object_count: Mapped[int] = mapped_column(BigInteger, default=0)
    bytes_used: Mapped[int] = mapped_column(BigInteger, default=0)


class Object(Base):
    """One object version: the newest complete PUT of a name.

    ``kind`` is "" for plain objects, "slo" (the file holds the manifest; ``size`` and
    ``etag`` are the whole object's) or "dlo" (``manifest`` is ``container/prefix``).
    """

    __tablename__ = "objects"
    __table_args__ = (UniqueConstraint("container_id", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    container_id: Mapped[int] = mapped_column(ForeignKey("containers.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(_name(1024))
    file_id: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    etag: Mapped[str] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[float] = mapped_column(Float)
    delete_at: Mapped[float | None] = mapped_column(Float, nullable=True, index=True)
    kind: Mapped[str] = mapped_column(String(8), default="")
    manifest: Mapped[str | None] = mapped_column(Text, nullable=True)
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    headers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
