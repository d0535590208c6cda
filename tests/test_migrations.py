"""The migrations build exactly the tables the code declares, on every engine."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from click.testing import CliRunner

from callblock.cli import main
from callblock.store import Store
from callblock.store import entries as entry_queries
from callblock.store.migrate import (
    HEAD,
    SCRIPTS,
    SchemaOutdated,
    current_revision,
    ensure_current,
    head_revision,
    upgrade,
)
from callblock.store.tables import metadata


def test_migrated_schema_matches_the_tables(store: Store) -> None:
    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []


def test_head_constant_is_the_newest_migration() -> None:
    assert head_revision() == HEAD


def test_upgrade_is_idempotent(store: Store) -> None:
    upgrade(store.engine)
    assert current_revision(store.engine) == head_revision()


OLD_ENTRIES = sa.table(
    "entries",
    sa.column("group_id", sa.Integer),
    sa.column("account_id", sa.Integer),
    sa.column("number", sa.String),
    sa.column("expires_at", sa.DateTime),
    sa.column("note", sa.String),
    sa.column("source", sa.String),
    sa.column("created_at", sa.DateTime),
    sa.column("updated_at", sa.DateTime),
)
WRITTEN = datetime(2026, 3, 1, 9, 30, 15, 123456)
OLD_ROWS = [
    ("+919876543210", None, "a note"),
    ("+91140*", datetime(2027, 1, 2, 3, 4, 5, 6), None),
    ("+919876543210*", datetime(2030, 12, 31, 23, 59, 59), None),  # same digits as a prefix
    ("+14155550123", datetime(1999, 1, 1, 0, 0, 0, 999999), "expired long ago"),
]


def _old_database(store: Store) -> int:
    """A database at revision 0004 holding one group with OLD_ROWS; returns the group id."""
    upgrade(store.engine, "0004")
    with store.engine.begin() as conn:
        account_id = conn.execute(
            sa.text(
                "INSERT INTO accounts (username, region, timezone, auth_mode, created_at) "
                "VALUES ('old', 'IN', 'Asia/Kolkata', 'api_key', :at) RETURNING id"
            ),
            {"at": WRITTEN},
        ).scalar_one()
        group_id = conn.execute(
            sa.text(
                "INSERT INTO groups (account_id, name, name_key, description, direction, "
                "created_at, updated_at) VALUES (:a, 'Old', 'old', '', 'both', :at, :at) "
                "RETURNING id"
            ),
            {"a": account_id, "at": WRITTEN},
        ).scalar_one()
        conn.execute(
            OLD_ENTRIES.insert(),
            [
                {
                    "group_id": group_id,
                    "account_id": account_id,
                    "number": number,
                    "expires_at": expiry,
                    "note": note,
                    "source": "v1",
                    "created_at": WRITTEN,
                    "updated_at": WRITTEN,
                }
                for number, expiry, note in OLD_ROWS
            ],
        )
    return int(group_id)


@pytest.fixture
def bare_store(empty_database_url: str) -> Iterator[Store]:
    """A store on an empty database, not migrated."""
    store = Store.from_url(empty_database_url)
    yield store
    store.dispose()


def test_upgrade_keeps_every_entry_exactly(bare_store: Store) -> None:
    store = bare_store
    group_id = _old_database(store)
    upgrade(store.engine)
    with store.engine.connect() as conn:
        found = list(entry_queries.entries_of_group(conn, group_id))
    got = {(e.pattern, e.expires_at, e.note, e.source, e.created_at) for e in found}
    assert got == {
        (n, None if x is None else x.replace(tzinfo=UTC), note, "v1", WRITTEN.replace(tzinfo=UTC))
        for n, x, note in OLD_ROWS
    }
    # Listed in key order: prefixes first, then numbers ascending.
    assert [e.pattern for e in found] == [
        "+919876543210*",
        "+91140*",
        "+14155550123",
        "+919876543210",
    ]


def test_downgrade_restores_the_text_forms(bare_store: Store) -> None:
    store = bare_store
    group_id = _old_database(store)
    upgrade(store.engine)
    config = Config()
    config.set_main_option("script_location", str(SCRIPTS))
    with store.engine.connect() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0004")
        conn.commit()
    with store.engine.connect() as conn:
        rows = conn.execute(
            sa.select(
                OLD_ENTRIES.c.number,
                OLD_ENTRIES.c.expires_at,
                OLD_ENTRIES.c.note,
                OLD_ENTRIES.c.created_at,
            ).where(OLD_ENTRIES.c.group_id == group_id)
        ).all()
    assert {tuple(row) for row in rows} == {(n, x, note, WRITTEN) for n, x, note in OLD_ROWS}


def test_a_database_migrated_by_a_newer_callblock_is_refused_clearly(store: Store) -> None:
    """A rolling upgrade: an older node meets a schema it has no migration for. It must say
    so, not fail inside Alembic (nor migrate, nor serve on a schema it does not know)."""
    with store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(SchemaOutdated, match="9999, newer than this callblock knows"):
        ensure_current(store.engine)
    url = store.engine.url.render_as_string(hide_password=False)
    for command_line in (["account", "list"], ["db", "upgrade"]):
        result = CliRunner().invoke(main, [*command_line, "--database-url", url])
        assert result.exit_code == 1, result.output
        assert "newer than this callblock knows (" + HEAD + ")" in result.output
        assert "Traceback" not in result.output
    assert current_revision(store.engine) == "9999"  # nothing was migrated
