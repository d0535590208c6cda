"""campaigns: group kind, scope and consent override; campaigns and their groups

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    # Every existing group is what it was: a global block group nothing overrides. Plain
    # ADD COLUMN, not a batch copy of the table: a copy would lose SQLite's AUTOINCREMENT,
    # and a deleted group's id would be handed out again.
    op.add_column(
        "groups", sa.Column("kind", sa.String(length=8), nullable=False, server_default="block")
    )
    op.add_column(
        "groups",
        sa.Column("scope", sa.String(length=16), nullable=False, server_default="global"),
    )
    op.add_column(
        "groups",
        sa.Column("consent_overrides", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "campaigns",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("account_id", Id, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("name_key", sa.String(length=200), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("calling_window", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_campaigns_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
        sa.UniqueConstraint("account_id", "name_key", name="uq_campaigns_account_name"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "campaign_groups",
        sa.Column("campaign_id", Id, autoincrement=False, nullable=False),
        sa.Column("group_id", Id, autoincrement=False, nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_groups_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("campaign_id", "group_id", name=op.f("pk_campaign_groups")),
    )
    op.create_index("ix_campaign_groups_group_id", "campaign_groups", ["group_id"])


def downgrade() -> None:
    op.drop_index("ix_campaign_groups_group_id", table_name="campaign_groups")
    op.drop_table("campaign_groups")
    op.drop_table("campaigns")
    # DROP COLUMN (SQLite 3.35 and later) keeps the table, and so its AUTOINCREMENT.
    for column in ("consent_overrides", "scope", "kind"):
        op.drop_column("groups", column)
