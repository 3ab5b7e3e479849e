"""Exchange tables.

Money is stored as integer *nanos* (10⁻⁹ of the currency unit) so sums in SQL are exact;
quantities as decimal strings. Every statement a party signed is kept as it arrived (the
compact JWS), so anyone can check again later what was signed and by whom.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
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


class MarketKey(Base):
    """The exchange's own signing key(s): grants and the feed are signed with the newest."""

    __tablename__ = "market_keys"
    kid: Mapped[str] = mapped_column(String(32), primary_key=True)
    private_pem: Mapped[str] = mapped_column(Text)
    created_at: Mapped[float] = mapped_column(Float)


class Landlord(Base):
    __tablename__ = "landlords"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    identity_url: Mapped[str] = mapped_column(String(512))
    owner: Mapped[str] = mapped_column(String(128))
    description: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    statement: Mapped[str] = mapped_column(Text)
    enrolled_at: Mapped[float] = mapped_column(Float)
    # An application credential at the landlord's identity (id, secret), given by the
    # landlord for the conformance gate's checks that need a token; never shown.
    probe_credential: Mapped[dict[str, str] | None] = mapped_column(JSON, nullable=True)


class Offering(Base):
    __tablename__ = "offerings"
    # Browsing walks one type's listed offerings in price order and stops at a page's end.
    __table_args__ = (
        UniqueConstraint("landlord", "name"),
        Index("ix_offerings_browse", "status", "service_type", "sort_price_nanos", "id"),
    )
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    landlord: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(128))
    service_type: Mapped[str] = mapped_column(String(64), index=True)
    owner: Mapped[str] = mapped_column(String(128))
    region: Mapped[str] = mapped_column(String(64))
    endpoint: Mapped[str] = mapped_column(String(512))
    description: Mapped[str] = mapped_column(Text, default="")
    sla: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    capabilities: Mapped[list[str]] = mapped_column(JSON, default=list)
    # "|ssd|fpga|": capability filters are one indexed-free LIKE instead of JSON functions.
    capability_tags: Mapped[str] = mapped_column(String(512), default="|")
    capabilities_checked: Mapped[list[str]] = mapped_column(JSON, default=list)
    plans: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    version: Mapped[int] = mapped_column(Integer)
    statement: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), index=True)
    status_reason: Mapped[str] = mapped_column(Text, default="")
    # The cheapest price of the offering's first dimension, for sorting listings in SQL.
    sort_price_nanos: Mapped[int] = mapped_column(BigInteger, default=0, index=True)
    probes_ok: Mapped[int] = mapped_column(Integer, default=0)
    probes_total: Mapped[int] = mapped_column(Integer, default=0)
    checked_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)


class Price(Base):
    """One dimension's unit price over a time range; a change closes the old row."""

    __tablename__ = "prices"
    __table_args__ = (Index("ix_prices_lookup", "offering_id", "metric", "valid_from"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    offering_id: Mapped[str] = mapped_column(String(64))
    metric: Mapped[str] = mapped_column(String(128))
    unit: Mapped[str] = mapped_column(String(32))
    unit_price_nanos: Mapped[int] = mapped_column(BigInteger)
    valid_from: Mapped[float] = mapped_column(Float)
    valid_until: Mapped[float | None] = mapped_column(Float, nullable=True)


class Subscription(Base):
    __tablename__ = "subscriptions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    offering_id: Mapped[str] = mapped_column(String(64), index=True)
    landlord: Mapped[str] = mapped_column(String(64), index=True)
    customer: Mapped[str] = mapped_column(String(64), index=True)
    customer_name: Mapped[str] = mapped_column(String(128))
    user_id: Mapped[str] = mapped_column(String(64))
    plan: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[float] = mapped_column(Float)
    cancelled_at: Mapped[float | None] = mapped_column(Float, nullable=True)


class FeedEntry(Base):
    """The grant feed: every change of a subscription or lease, signed, in order."""

    __tablename__ = "feed"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    landlord: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    ref_id: Mapped[str] = mapped_column(String(64))
    statement: Mapped[str] = mapped_column(Text)
    created_at: Mapped[float] = mapped_column(Float)


class UsageRecord(Base):
    """A landlord's signed usage record, rated at ingest with the price in force at ``start``."""

    __tablename__ = "usage_records"
    __table_args__ = (
        Index("ix_usage_customer_period", "customer", "period"),
        UniqueConstraint("landlord", "contract_id", "resource_id", "metric", "start"),
    )
    landlord: Mapped[str] = mapped_column(String(64), primary_key=True)
    record_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    contract_id: Mapped[str] = mapped_column(String(64))
    offering_id: Mapped[str] = mapped_column(String(64))
    customer: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str] = mapped_column(String(64), default="")
    resource_id: Mapped[str] = mapped_column(String(128))
    metric: Mapped[str] = mapped_column(String(128))
    start: Mapped[float] = mapped_column(Float)
    end: Mapped[float] = mapped_column(Float)
    quantity_nanos: Mapped[int] = mapped_column(BigInteger)
    unit: Mapped[str] = mapped_column(String(32))
    unit_price_nanos: Mapped[int] = mapped_column(BigInteger)
    cost_nanos: Mapped[int] = mapped_column(BigInteger)
    period: Mapped[str] = mapped_column(String(7))
    ingested_at: Mapped[float] = mapped_column(Float)


class UsageTotal(Base):
    """Rated usage summed per invoice line, kept in step with ``usage_records`` at ingest (in
    the same transaction), so an invoice or a settlement reads lines, not every record."""

    __tablename__ = "usage_totals"
    __table_args__ = (Index("ix_usage_totals_landlord_period", "landlord", "period"),)
    customer: Mapped[str] = mapped_column(String(64), primary_key=True)
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    landlord: Mapped[str] = mapped_column(String(64), primary_key=True)
    offering_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    metric: Mapped[str] = mapped_column(String(128), primary_key=True)
    unit: Mapped[str] = mapped_column(String(32), primary_key=True)
    unit_price_nanos: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    quantity_nanos: Mapped[int] = mapped_column(BigInteger)
    cost_nanos: Mapped[int] = mapped_column(BigInteger)
    records: Mapped[int] = mapped_column(Integer)


class Invoice(Base):
    """An issued invoice: its total is frozen; later records show up as an amendment."""

    __tablename__ = "invoices"
    __table_args__ = (UniqueConstraint("customer", "period"),)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(7))
    total_nanos: Mapped[int] = mapped_column(BigInteger)
    records: Mapped[int] = mapped_column(Integer)
    issued_at: Mapped[float] = mapped_column(Float)


class Budget(Base):
    __tablename__ = "budgets"
    customer: Mapped[str] = mapped_column(String(64), primary_key=True)
    monthly_cap_nanos: Mapped[int] = mapped_column(BigInteger)
    refuse_over: Mapped[bool] = mapped_column(Boolean, default=False)
    # The month last warned about: "2026-11" at 80 %, "2026-11!" once over the cap.
    warned_period: Mapped[str] = mapped_column(String(16), default="")
    updated_at: Mapped[float] = mapped_column(Float)


class Event(Base):
    __tablename__ = "events"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer: Mapped[str] = mapped_column(String(64), default="", index=True)
    landlord: Mapped[str] = mapped_column(String(64), default="")
    kind: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(64), default="")
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[float] = mapped_column(Float)


class Offer(Base):
    """Time-bounded capacity at a price: by a landlord (signed), or a sub-lease by a lessee."""

    __tablename__ = "offers"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    landlord: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(128))
    resource_type: Mapped[str] = mapped_column(String(64))
    region: Mapped[str] = mapped_column(String(64))
    capacity: Mapped[dict[str, int]] = mapped_column(JSON)
    prices: Mapped[dict[str, str]] = mapped_column(JSON)
    start: Mapped[float] = mapped_column(Float)
    end: Mapped[float] = mapped_column(Float)
    grace_seconds: Mapped[int] = mapped_column(Integer)
    expiry_action: Mapped[str] = mapped_column(String(16))
    parent_lease_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lessor: Mapped[str] = mapped_column(String(64), default="")
    statement: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[float] = mapped_column(Float)


class Lease(Base):
    __tablename__ = "leases"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    offer_id: Mapped[str] = mapped_column(String(64), index=True)
    landlord: Mapped[str] = mapped_column(String(64))
    customer: Mapped[str] = mapped_column(String(64), index=True)
    user_id: Mapped[str] = mapped_column(String(64))
    amounts: Mapped[dict[str, int]] = mapped_column(JSON)
    start: Mapped[float] = mapped_column(Float)
    end: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16), index=True)
    warned: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[float] = mapped_column(Float)
