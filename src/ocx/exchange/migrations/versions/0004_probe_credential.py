"""exchange: a landlord's probe credential (an application credential at its identity), so
the conformance gate can check what needs a token

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 18:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("landlords", sa.Column("probe_credential", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("landlords", "probe_credential")
