"""OS-OAUTH1: consumers, request and access tokens, nonces seen

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 21:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def _fk(table: str, column: str, target: str) -> sa.ForeignKey:
    return sa.ForeignKey(f"{target}.id", name=f"fk_{table}_{column}_{target}", ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "oauth_consumers",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oauth_consumers")),
    )
    t = "oauth_request_tokens"
    op.create_table(
        t,
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column(
            "consumer_id", sa.String(64), _fk(t, "consumer_id", "oauth_consumers"), nullable=False
        ),
        sa.Column("project_id", sa.String(64), _fk(t, "project_id", "projects"), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column(
            "authorizing_user_id",
            sa.String(64),
            _fk(t, "authorizing_user_id", "users"),
            nullable=True,
        ),
        sa.Column("role_ids", sa.JSON(), nullable=False),
        sa.Column("verifier", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oauth_request_tokens")),
    )
    op.create_index("ix_oauth_request_tokens_consumer_id", t, ["consumer_id"])
    t = "oauth_access_tokens"
    op.create_table(
        t,
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column(
            "consumer_id", sa.String(64), _fk(t, "consumer_id", "oauth_consumers"), nullable=False
        ),
        sa.Column(
            "authorizing_user_id",
            sa.String(64),
            _fk(t, "authorizing_user_id", "users"),
            nullable=False,
        ),
        sa.Column("project_id", sa.String(64), _fk(t, "project_id", "projects"), nullable=False),
        sa.Column("role_ids", sa.JSON(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("audit_chain_id", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oauth_access_tokens")),
    )
    op.create_index("ix_oauth_access_tokens_consumer_id", t, ["consumer_id"])
    op.create_index("ix_oauth_access_tokens_authorizing_user_id", t, ["authorizing_user_id"])
    op.create_table(
        "oauth_nonces",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("consumer_id", sa.String(64), nullable=False),
        sa.Column("nonce", sa.String(128), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("token", sa.String(64), nullable=False),
        sa.Column("seen_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oauth_nonces")),
        sa.UniqueConstraint(
            "consumer_id", "nonce", "timestamp", "token", name=op.f("uq_oauth_nonces_consumer_id")
        ),
    )
    op.create_index("ix_oauth_nonces_seen_at", "oauth_nonces", ["seen_at"])


def downgrade() -> None:
    op.drop_table("oauth_nonces")
    op.drop_table("oauth_access_tokens")
    op.drop_table("oauth_request_tokens")
    op.drop_table("oauth_consumers")
