"""Schema migrations (Alembic), run programmatically: no alembic.ini to keep in step."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from callblock.store.engine import is_sqlite

SCRIPTS = Path(__file__).parent / "migrations"


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(SCRIPTS))
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    config = _config()
    with engine.connect() as conn:
        if is_sqlite(engine):
            # Serialise concurrent first starts on one file.
            conn.execution_options(callblock_write=True)
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
        conn.commit()


def is_current(engine: Engine) -> bool:
    return current_revision(engine) == head_revision()


class SchemaOutdated(RuntimeError):
    """The database is not at the newest schema and is not ours to migrate silently."""


def ensure_current(engine: Engine) -> None:
    """Bring an embedded SQLite database to the newest schema; refuse to touch others.

    A SQLite file belongs to this one installation, so a fresh or older file is migrated on
    open (``callblock account create`` works in an empty directory). A shared server database
    is migrated on purpose by an operator with ``callblock db upgrade``.
    """
    if is_current(engine):
        return
    if is_sqlite(engine):
        upgrade(engine)
        return
    raise SchemaOutdated(
        f"database schema is at {current_revision(engine) or 'nothing'}, "
        f"callblock needs {head_revision()}: run `callblock db upgrade`"
    )
