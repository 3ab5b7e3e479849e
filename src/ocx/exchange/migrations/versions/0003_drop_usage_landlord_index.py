"""exchange: settlements read usage_totals, so usage records need no landlord index

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 15:10:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_usage_landlord_period", table_name="usage_records")


def downgrade() -> None:
    op.create_index("ix_usage_landlord_period", "usage_records", ["landlord", "period"])
