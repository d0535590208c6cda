"""Databases of their own for tests and benchmarks: a SQLite file, or a PostgreSQL database
created for the purpose and dropped afterwards; empty, or a copy of a migrated template.

Running every migration for every test costs more than the test itself, so a test session
migrates one template per engine (``migrated_template``) and each test copies it
(``new_database(..., template=...)``): a SQLite file is copied, a PostgreSQL database is made
with ``CREATE DATABASE ... TEMPLATE``. A template is built afresh by each session from the
migration scripts as they are then, never kept between sessions: the head may have moved.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, make_url

from callblock.store import Store
from callblock.store.migrate import upgrade

SQLITE_NAME = "callblock.db"


@contextmanager
def _admin(postgres: str | Engine) -> Iterator[Engine]:
    """An AUTOCOMMIT engine on the server: ``postgres`` itself, or one made from its URL."""
    if isinstance(postgres, Engine):
        yield postgres
        return
    admin = create_engine(postgres, isolation_level="AUTOCOMMIT")
    try:
        yield admin
    finally:
        admin.dispose()


@contextmanager
def new_database(
    engine: str,
    directory: Path,
    postgres: str | Engine,
    prefix: str,
    *,
    template: str | None = None,
) -> Iterator[str]:
    """The URL of a new database on ``engine``: "sqlite", a file in ``directory``;
    "postgresql", a database made through ``postgres`` (a URL, or an AUTOCOMMIT engine to
    reuse), dropped afterwards. Empty, or a copy of ``template`` (from ``migrated_template``:
    a SQLite file's path, or a PostgreSQL database's name)."""
    if engine == "sqlite":
        path = directory / SQLITE_NAME
        if template is not None:
            shutil.copyfile(template, path)
        yield f"sqlite:///{path}"
        return
    with ExitStack() as owned:
        admin = owned.enter_context(_admin(postgres))
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        copying = f' TEMPLATE "{template}"' if template is not None else ""
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"{copying}')
        try:
            yield admin.url.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def migrated_template(
    engine: str, directory: Path, postgres: str | Engine, prefix: str
) -> Iterator[str]:
    """A database at the newest schema, to give as ``new_database``'s ``template``: a SQLite
    file's path, or a PostgreSQL database's name; dropped afterwards. Nothing is connected to
    it when it is handed over (PostgreSQL refuses to copy a database someone is connected to)."""
    with new_database(engine, directory, postgres, f"{prefix}_tmpl") as url:
        store = Store.from_url(url)
        try:
            upgrade(store.engine)
            if engine == "sqlite":
                # Everything into the main file, so that copying that one file copies it all.
                with store.engine.connect() as conn:
                    conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            store.dispose()
        if engine == "sqlite":
            path = directory / SQLITE_NAME
            wal = path.with_name(f"{SQLITE_NAME}-wal")
            if wal.exists() and wal.stat().st_size:
                raise RuntimeError(f"{wal} still holds pages after a checkpoint")
            yield str(path)
        else:
            yield str(make_url(url).database)
