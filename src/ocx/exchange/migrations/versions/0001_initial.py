"""exchange: landlords, offerings, prices, subscriptions, feed, usage, invoices, budgets,
events, offers and leases

Revision ID: 0001
Revises:
Create Date: 2026-11-26 14:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "budgets",
        sa.Column("customer", sa.String(length=64), nullable=False),
        sa.Column("monthly_cap_nanos", sa.BigInteger(), nullable=False),
        sa.Column("refuse_over", sa.Boolean(), nullable=False),
        sa.Column("warned_period", sa.String(length=7), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("customer", name=op.f("pk_budgets")),
    )
    op.create_table(
        "events",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("customer", sa.String(length=64), nullable=False),
        sa.Column("landlord", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_events")),
    )
    op.create_index(op.f("ix_events_customer"), "events", ["customer"], unique=False)
    op.create_table(
        "feed",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("landlord", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("ref_id", sa.String(length=64), nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_feed")),
    )
    op.create_index(op.f("ix_feed_landlord"), "feed", ["landlord"], unique=False)
    op.create_table(
        "invoices",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("customer", sa.String(length=64), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("total_nanos", sa.BigInteger(), nullable=False),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column("issued_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoices")),
        sa.UniqueConstraint("customer", "period", name=op.f("uq_invoices_customer")),
    )
    op.create_table(
        "landlords",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("identity_url", sa.String(length=512), nullable=False),
        sa.Column("owner", sa.String(length=128), nullable=False),
        sa.Column("description", sa.JSON(), nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("enrolled_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_landlords")),
    )
    op.create_table(
        "leases",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("offer_id", sa.String(length=64), nullable=False),
        sa.Column("landlord", sa.String(length=64), nullable=False),
        sa.Column("customer", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("amounts", sa.JSON(), nullable=False),
        sa.Column("start", sa.Float(), nullable=False),
        sa.Column("end", sa.Float(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("warned", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leases")),
    )
    op.create_index(op.f("ix_leases_customer"), "leases", ["customer"], unique=False)
    op.create_index(op.f("ix_leases_offer_id"), "leases", ["offer_id"], unique=False)
    op.create_index(op.f("ix_leases_status"), "leases", ["status"], unique=False)
    op.create_table(
        "market_keys",
        sa.Column("kid", sa.String(length=32), nullable=False),
        sa.Column("private_pem", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("kid", name=op.f("pk_market_keys")),
    )
    op.create_table(
        "offerings",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("landlord", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("service_type", sa.String(length=64), nullable=False),
        sa.Column("owner", sa.String(length=128), nullable=False),
        sa.Column("region", sa.String(length=64), nullable=False),
        sa.Column("endpoint", sa.String(length=512), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("sla", sa.JSON(), nullable=False),
        sa.Column("capabilities", sa.JSON(), nullable=False),
        sa.Column("capability_tags", sa.String(length=512), nullable=False),
        sa.Column("capabilities_checked", sa.JSON(), nullable=False),
        sa.Column("plans", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=False),
        sa.Column("sort_price_nanos", sa.BigInteger(), nullable=False),
        sa.Column("probes_ok", sa.Integer(), nullable=False),
        sa.Column("probes_total", sa.Integer(), nullable=False),
        sa.Column("checked_at", sa.Float(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offerings")),
        sa.UniqueConstraint("landlord", "name", name=op.f("uq_offerings_landlord")),
    )
    op.create_index(op.f("ix_offerings_landlord"), "offerings", ["landlord"], unique=False)
    op.create_index(op.f("ix_offerings_service_type"), "offerings", ["service_type"], unique=False)
    op.create_index(
        op.f("ix_offerings_sort_price_nanos"), "offerings", ["sort_price_nanos"], unique=False
    )
    op.create_index(op.f("ix_offerings_status"), "offerings", ["status"], unique=False)
    op.create_table(
        "offers",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("landlord", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("resource_type", sa.String(length=64), nullable=False),
        sa.Column("region", sa.String(length=64), nullable=False),
        sa.Column("capacity", sa.JSON(), nullable=False),
        sa.Column("prices", sa.JSON(), nullable=False),
        sa.Column("start", sa.Float(), nullable=False),
        sa.Column("end", sa.Float(), nullable=False),
        sa.Column("grace_seconds", sa.Integer(), nullable=False),
        sa.Column("expiry_action", sa.String(length=16), nullable=False),
        sa.Column("parent_lease_id", sa.String(length=64), nullable=True),
        sa.Column("lessor", sa.String(length=64), nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offers")),
    )
    op.create_index(op.f("ix_offers_landlord"), "offers", ["landlord"], unique=False)
    op.create_table(
        "prices",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("offering_id", sa.String(length=64), nullable=False),
        sa.Column("metric", sa.String(length=128), nullable=False),
        sa.Column("unit", sa.String(length=32), nullable=False),
        sa.Column("unit_price_nanos", sa.BigInteger(), nullable=False),
        sa.Column("valid_from", sa.Float(), nullable=False),
        sa.Column("valid_until", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prices")),
    )
    op.create_index(
        "ix_prices_lookup", "prices", ["offering_id", "metric", "valid_from"], unique=False
    )
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("offering_id", sa.String(length=64), nullable=False),
        sa.Column("landlord", sa.String(length=64), nullable=False),
        sa.Column("customer", sa.String(length=64), nullable=False),
        sa.Column("customer_name", sa.String(length=128), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("plan", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("cancelled_at", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscriptions")),
    )
    op.create_index(op.f("ix_subscriptions_customer"), "subscriptions", ["customer"], unique=False)
    op.create_index(op.f("ix_subscriptions_landlord"), "subscriptions", ["landlord"], unique=False)
    op.create_index(
        op.f("ix_subscriptions_offering_id"), "subscriptions", ["offering_id"], unique=False
    )
    op.create_table(
        "usage_records",
        sa.Column("landlord", sa.String(length=64), nullable=False),
        sa.Column("record_id", sa.String(length=128), nullable=False),
        sa.Column("contract_id", sa.String(length=64), nullable=False),
        sa.Column("offering_id", sa.String(length=64), nullable=False),
        sa.Column("customer", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("resource_id", sa.String(length=128), nullable=False),
        sa.Column("metric", sa.String(length=128), nullable=False),
        sa.Column("start", sa.Float(), nullable=False),
        sa.Column("end", sa.Float(), nullable=False),
        sa.Column("quantity_nanos", sa.BigInteger(), nullable=False),
        sa.Column("unit", sa.String(length=32), nullable=False),
        sa.Column("unit_price_nanos", sa.BigInteger(), nullable=False),
        sa.Column("cost_nanos", sa.BigInteger(), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("ingested_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("landlord", "record_id", name=op.f("pk_usage_records")),
        sa.UniqueConstraint(
            "landlord",
            "contract_id",
            "resource_id",
            "metric",
            "start",
            name=op.f("uq_usage_records_landlord"),
        ),
    )
    op.create_index(
        "ix_usage_customer_period", "usage_records", ["customer", "period"], unique=False
    )
    op.create_index(
        "ix_usage_landlord_period", "usage_records", ["landlord", "period"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_usage_landlord_period", table_name="usage_records")
    op.drop_index("ix_usage_customer_period", table_name="usage_records")
    op.drop_table("usage_records")
    op.drop_index(op.f("ix_subscriptions_offering_id"), table_name="subscriptions")
    op.drop_index(op.f("ix_subscriptions_landlord"), table_name="subscriptions")
    op.drop_index(op.f("ix_subscriptions_customer"), table_name="subscriptions")
    op.drop_table("subscriptions")
    op.drop_index("ix_prices_lookup", table_name="prices")
    op.drop_table("prices")
    op.drop_index(op.f("ix_offers_landlord"), table_name="offers")
    op.drop_table("offers")
    op.drop_index(op.f("ix_offerings_status"), table_name="offerings")
    op.drop_index(op.f("ix_offerings_sort_price_nanos"), table_name="offerings")
    op.drop_index(op.f("ix_offerings_service_type"), table_name="offerings")
    op.drop_index(op.f("ix_offerings_landlord"), table_name="offerings")
    op.drop_table("offerings")
    op.drop_table("market_keys")
    op.drop_index(op.f("ix_leases_status"), table_name="leases")
    op.drop_index(op.f("ix_leases_offer_id"), table_name="leases")
    op.drop_index(op.f("ix_leases_customer"), table_name="leases")
    op.drop_table("leases")
    op.drop_table("landlords")
    op.drop_table("invoices")
    op.drop_index(op.f("ix_feed_landlord"), table_name="feed")
    op.drop_table("feed")
    op.drop_index(op.f("ix_events_customer"), table_name="events")
    op.drop_table("events")
    op.drop_table("budgets")
