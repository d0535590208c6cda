"""failed authentications, for the brute-force limit

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "auth_failures",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("subject", sa.String(length=320), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_failures")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_auth_failures_subject_at", "auth_failures", ["subject", "at"])


def downgrade() -> None:
    op.drop_index("ix_auth_failures_subject_at", table_name="auth_failures")
    op.drop_table("auth_failures")
