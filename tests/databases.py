"""New, empty databases for tests and benchmarks: a SQLite file, or a PostgreSQL database
created for the purpose and dropped afterwards."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine


@contextmanager
def new_database(
    engine: str, directory: Path, postgres: str | Engine, prefix: str
) -> Iterator[str]:
    """The URL of a new, empty database on ``engine``: "sqlite", a file in ``directory``;
    "postgresql", a database made through ``postgres`` (a URL, or an AUTOCOMMIT engine to
    reuse), dropped afterwards."""
    if engine == "sqlite":
        yield f"sqlite:///{directory / 'callblock.db'}"
        return
    with ExitStack() as owned:
        if isinstance(postgres, str):
            admin = create_engine(postgres, isolation_level="AUTOCOMMIT")
            owned.callback(admin.dispose)
        else:
            admin = postgres
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            yield admin.url.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
