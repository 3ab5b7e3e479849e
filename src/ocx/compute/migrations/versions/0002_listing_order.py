"""listing order: deleted servers stay valid markers; a project's page read from one index

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 00:10:00
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
        "deleted_servers",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.String(length=255), nullable=False),
        sa.Column("deleted_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deleted_servers")),
    )
    op.drop_index(op.f("ix_servers_project_id"), table_name="servers")
    op.create_index("ix_servers_project_id_seq", "servers", ["project_id", "seq"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_servers_project_id_seq", table_name="servers")
    op.create_index(op.f("ix_servers_project_id"), "servers", ["project_id"], unique=False)
    op.drop_table("deleted_servers")
