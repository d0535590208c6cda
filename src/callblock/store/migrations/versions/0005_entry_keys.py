"""entries keyed by (group, number as integer), times as microseconds

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27

The entry table is most of the database and what bulk imports write: it becomes one B-tree
keyed by (group_id, number) (WITHOUT ROWID on SQLite), the number stored as its E.164 digits
(negated for a prefix) and its times as POSIX microseconds. Entries no longer carry the
account (their group does) nor an id, and no foreign key: PostgreSQL checks one per row,
which more than doubled a bulk write; the store keeps entries to existing groups itself
(``queries.write_entries`` locks the group row, ``queries.delete_group`` deletes the group
first, then its entries).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _sqlite_micros(column: str) -> str:
    # SQLAlchemy's SQLite text form: 'YYYY-MM-DD HH:MM:SS.ffffff' (naive UTC).
    return (
        f"(CAST(strftime('%s', substr({column}, 1, 19)) AS INTEGER) * 1000000"
        f" + CAST(substr({column} || '.000000', 21, 6) AS INTEGER))"
    )


def _sqlite_text(column: str) -> str:
    return (
        f"(strftime('%Y-%m-%d %H:%M:%S', {column} / 1000000, 'unixepoch')"
        f" || '.' || printf('%06d', {column} % 1000000))"
    )


def _postgresql_micros(column: str) -> str:
    return f"CAST(extract(epoch FROM {column}) * 1000000 AS BIGINT)"


def _postgresql_text(column: str) -> str:
    return f"(to_timestamp(0) AT TIME ZONE 'UTC') + {column} * interval '1 microsecond'"


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.rename_table("entries", "entries_old")
    if not sqlite:  # constraint names are schema-wide there
        op.execute("ALTER TABLE entries_old RENAME CONSTRAINT pk_entries TO pk_entries_old")
    op.create_table(
        "entries",
        sa.Column("group_id", _ID, autoincrement=False, nullable=False),
        sa.Column("number", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("group_id", "number", name=op.f("pk_entries")),
        sqlite_with_rowid=False,
    )
    stamp = _sqlite_micros if sqlite else _postgresql_micros
    digits = "substr(number, 2, length(number) - 2)"
    op.execute(
        "INSERT INTO entries (group_id, number, expires_at, note, source, created_at, updated_at) "
        f"SELECT group_id, CASE WHEN number LIKE '%*' THEN -CAST({digits} AS BIGINT) "
        "ELSE CAST(substr(number, 2) AS BIGINT) END, "
        f"{stamp('expires_at')}, note, source, {stamp('created_at')}, {stamp('updated_at')} "
        "FROM entries_old"
    )
    op.drop_table("entries_old")


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.rename_table("entries", "entries_new")
    if not sqlite:
        op.execute("ALTER TABLE entries_new RENAME CONSTRAINT pk_entries TO pk_entries_new")
    op.create_table(
        "entries",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("group_id", _ID, nullable=False),
        sa.Column("account_id", _ID, nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_entries_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name=op.f("fk_entries_group_id_groups"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_entries")),
        sa.UniqueConstraint("group_id", "number", name="uq_entries_group_number"),
        sqlite_autoincrement=True,
    )
    text = _sqlite_text if sqlite else _postgresql_text
    digits = "CAST(abs(e.number) AS TEXT)"
    op.execute(
        "INSERT INTO entries (group_id, account_id, number, expires_at, note, source, "
        "created_at, updated_at) "
        f"SELECT e.group_id, g.account_id, '+' || {digits} || "
        "CASE WHEN e.number < 0 THEN '*' ELSE '' END, "
        f"{text('e.expires_at')}, e.note, e.source, {text('e.created_at')}, "
        f"{text('e.updated_at')} FROM entries_new e JOIN groups g ON g.id = e.group_id "
        "ORDER BY e.group_id, e.number"
    )
    op.drop_table("entries_new")
    with op.batch_alter_table("entries", schema=None) as batch_op:
        batch_op.create_index("ix_entries_account_number", ["account_id", "number"], unique=False)
