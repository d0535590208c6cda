"""check_counts: checks counted per account, minute, hour and day, by outcome, group and
campaign; entry_hits: the days each entry matched a check

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-10
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "check_counts",
        sa.Column("account_id", Id, nullable=False, autoincrement=False),
        sa.Column("level", sa.String(length=1), nullable=False),
        sa.Column("start", sa.BigInteger(), nullable=False, autoincrement=False),
        sa.Column("group_id", Id, nullable=False, autoincrement=False),
        sa.Column("campaign_id", Id, nullable=False, autoincrement=False),
        sa.Column("checks", sa.BigInteger(), nullable=False),
        sa.Column("blocked", sa.BigInteger(), nullable=False),
        sa.Column("invalid", sa.BigInteger(), nullable=False),
        sa.Column("matched", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "account_id", "level", "start", "group_id", "campaign_id", name="pk_check_counts"
        ),
    )
    op.create_table(
        "entry_hits",
        sa.Column("group_id", Id, nullable=False, autoincrement=False),
        sa.Column("number", sa.BigInteger(), nullable=False, autoincrement=False),
        sa.Column("day", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("account_id", Id, nullable=False),
        sa.Column("hits", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("group_id", "number", "day", name="pk_entry_hits"),
    )
    op.create_index("ix_entry_hits_account_id_day", "entry_hits", ["account_id", "day"])


def downgrade() -> None:
    op.drop_index("ix_entry_hits_account_id_day", table_name="entry_hits")
    op.drop_table("entry_hits")
    op.drop_table("check_counts")
