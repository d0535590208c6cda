"""groups: when an import from a file last refreshed the group, and the file's name

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # NULL for every existing group: nothing says when its file was imported. Plain ADD
    # COLUMN, not a batch copy of the table: a copy would lose SQLite's AUTOINCREMENT.
    op.add_column("groups", sa.Column("refreshed_at", sa.DateTime(), nullable=True))
    op.add_column("groups", sa.Column("refreshed_from", sa.String(length=255), nullable=True))


def downgrade() -> None:
    # DROP COLUMN (SQLite 3.35 and later) keeps the table, and so its AUTOINCREMENT.
    for column in ("refreshed_from", "refreshed_at"):
        op.drop_column("groups", column)
