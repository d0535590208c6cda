"""v1: settings, auth version, audit numbers

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_numbers",
        sa.Column("event_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["audit_events.id"],
            name=op.f("fk_audit_numbers_event_id_audit_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("event_id", "number", name=op.f("pk_audit_numbers")),
    )
    with op.batch_alter_table("audit_numbers", schema=None) as batch_op:
        batch_op.create_index("ix_audit_numbers_number", ["number"], unique=False)

    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("block_anonymous", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("auth_version", sa.BigInteger(), server_default="0", nullable=False)
        )

    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("detail", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_column("detail")

    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("auth_version")
        batch_op.drop_column("block_anonymous")

    with op.batch_alter_table("audit_numbers", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_numbers_number")

    op.drop_table("audit_numbers")
