"""the change log: every write in full, numbered per account

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "changes",
        sa.Column("account_id", Id, autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("key_id", Id, nullable=True),
        sa.Column("surface", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("group_id", Id, nullable=True),
        sa.Column("added", sa.BigInteger(), nullable=False),
        sa.Column("dropped", sa.BigInteger(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_changes_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", "version", name=op.f("pk_changes")),
    )
    op.create_index("ix_changes_at", "changes", ["at"])
    op.create_table(
        "change_keys",
        sa.Column("account_id", Id, autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("block", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("keys", sa.LargeBinary(), nullable=False),
        sa.Column("expiries", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id", "version"],
            ["changes.account_id", "changes.version"],
            name="fk_change_keys_changes",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", "version", "block", name=op.f("pk_change_keys")),
    )
    if op.get_bind().dialect.name == "postgresql":
        # The blocks come compressed (store/changes.py): compressing them again (pglz, the
        # default) cost 0.65 s a million keys, inside the write's transaction.
        op.execute(
            "ALTER TABLE change_keys ALTER COLUMN keys SET STORAGE EXTERNAL, "
            "ALTER COLUMN expiries SET STORAGE EXTERNAL"
        )


def downgrade() -> None:
    op.drop_table("change_keys")
    op.drop_index("ix_changes_at", table_name="changes")
    op.drop_table("changes")
