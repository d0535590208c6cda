"""api_keys: a label naming who holds each key, the scopes it may act in, and when it was
last used

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-09
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Every existing key keeps the full rights it had: all four scopes. No label: listings
    # and the history name such a key by its id. Plain ADD COLUMN (see 0009).
    op.add_column(
        "api_keys", sa.Column("label", sa.String(length=64), nullable=False, server_default="")
    )
    op.add_column(
        "api_keys",
        sa.Column(
            "scopes",
            sa.String(length=32),
            nullable=False,
            server_default="admin,check,read,write",
        ),
    )
    op.add_column("api_keys", sa.Column("last_used_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    for column in ("last_used_at", "scopes", "label"):
        op.drop_column("api_keys", column)
