"""The migrations build exactly the tables the code declares, on every engine."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from callblock.store import Store
from callblock.store.migrate import current_revision, head_revision, upgrade
from callblock.store.tables import metadata


def test_migrated_schema_matches_the_tables(store: Store) -> None:
    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []


def test_upgrade_is_idempotent(store: Store) -> None:
    upgrade(store.engine)
    assert current_revision(store.engine) == head_revision()
