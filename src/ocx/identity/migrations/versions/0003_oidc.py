"""oidc sign-in sessions

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "oidc_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.String(length=255), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("auth_time", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["oidc_clients.client_id"],
            name=op.f("fk_oidc_sessions_client_id_oidc_clients"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_oidc_sessions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oidc_sessions")),
    )
    with op.batch_alter_table("oidc_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_oidc_sessions_client_id"), ["client_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_oidc_sessions_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("oidc_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oidc_sessions_user_id"))
        batch_op.drop_index(batch_op.f("ix_oidc_sessions_client_id"))
    op.drop_table("oidc_sessions")
