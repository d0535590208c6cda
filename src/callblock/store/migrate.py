"""Schema migrations (Alembic), run programmatically: no alembic.ini to keep in step.

Alembic is imported only to migrate: every CLI command checks the schema on open, and that
check is one query against ``HEAD``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect, text

from callblock.store.engine import is_sqlite

if TYPE_CHECKING:
    from alembic.config import Config

SCRIPTS = Path(__file__).parent / "migrations"
# The newest revision in SCRIPTS (a test keeps the two equal).
HEAD = "0011"


def _config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(SCRIPTS))
    return config


def head_revision() -> str | None:
    """The newest revision, as the migration scripts say."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command

    config = _config()
    with engine.connect() as conn:
        if is_sqlite(engine):
            # Serialise concurrent first starts on one file.
            conn.execution_options(callblock_write=True)
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
        conn.commit()


def is_current(engine: Engine) -> bool:
    return current_revision(engine) == HEAD


def is_known(revision: str) -> bool:
    """Whether ``revision`` is one of this release's migrations (not a newer release's)."""
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    try:
        return ScriptDirectory.from_config(_config()).get_revision(revision) is not None
    except CommandError:
        return False


def refuse_newer(engine: Engine) -> None:
    """SchemaOutdated when the database was migrated by a newer callblock than this one."""
    current = current_revision(engine)
    if current is not None and current != HEAD and not is_known(current):
        raise SchemaOutdated(
            f"database schema is at {current}, newer than this callblock knows ({HEAD}): "
            "run a callblock at least as new as the one that migrated it"
        )


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
    refuse_newer(engine)
    if is_sqlite(engine):
        upgrade(engine)
        return
    raise SchemaOutdated(
        f"database schema is at {current_revision(engine) or 'nothing'}, "
        f"callblock needs {HEAD}: run `callblock db upgrade`"
    )
