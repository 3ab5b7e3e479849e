"""exchange: usage totals per invoice line, kept at ingest; an index to browse offerings;
room in budgets.warned_period for the over-the-cap mark

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 14:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "usage_totals",
        sa.Column("customer", sa.String(length=64), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("landlord", sa.String(length=64), nullable=False),
        sa.Column("offering_id", sa.String(length=64), nullable=False),
        sa.Column("metric", sa.String(length=128), nullable=False),
        sa.Column("unit", sa.String(length=32), nullable=False),
        sa.Column("unit_price_nanos", sa.BigInteger(), nullable=False),
        sa.Column("quantity_nanos", sa.BigInteger(), nullable=False),
        sa.Column("cost_nanos", sa.BigInteger(), nullable=False),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "customer",
            "period",
            "landlord",
            "offering_id",
            "metric",
            "unit",
            "unit_price_nanos",
            name=op.f("pk_usage_totals"),
        ),
    )
    op.create_index(
        "ix_usage_totals_landlord_period", "usage_totals", ["landlord", "period"], unique=False
    )
    op.create_index(
        "ix_offerings_browse", "offerings", ["status", "service_type", "sort_price_nanos", "id"]
    )

    with op.batch_alter_table("budgets") as batch:
        batch.alter_column(
            "warned_period", type_=sa.String(length=16), existing_type=sa.String(length=7)
        )


def downgrade() -> None:
    with op.batch_alter_table("budgets") as batch:
        batch.alter_column(
            "warned_period", type_=sa.String(length=7), existing_type=sa.String(length=16)
        )
    op.drop_index("ix_offerings_browse", table_name="offerings")
    op.drop_index("ix_usage_totals_landlord_period", table_name="usage_totals")
    op.drop_table("usage_totals")
