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
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
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


class PostgresCopies:
    """Copies of a PostgreSQL template database for one test each, made one ahead and dropped
    in a background thread: a test then waits for neither ``CREATE DATABASE`` nor ``DROP
    DATABASE`` (each a second or more on a busy server), which run while tests do."""

    def __init__(self, admin: Engine, template: str, prefix: str) -> None:
        self.admin = admin
        self.template = template
        self.prefix = prefix
        # One thread: copies and drops are never concurrent with each other, as before.
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="database-copies")
        self.ahead: deque[Future[str]] = deque([self.worker.submit(self._create)])
        self.dropping: list[Future[None]] = []

    def _create(self) -> str:
        name = f"{self.prefix}_{uuid.uuid4().hex[:12]}"
        with self.admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        return name

    def _drop(self, name: str) -> None:
        with self.admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    @contextmanager
    def copy(self) -> Iterator[str]:
        """The URL of a copy of the template of its own, dropped (later) afterwards."""
        name = self.ahead.popleft().result()
        self.ahead.append(self.worker.submit(self._create))  # the next test's, meanwhile
        try:
            yield self.admin.url.set(database=name).render_as_string(hide_password=False)
        finally:
            self.dropping.append(self.worker.submit(self._drop, name))

    def close(self) -> None:
        """Drop every copy, made and unused or given back, and stop the thread; a failure to
        make or drop one is raised here."""
        for made in self.ahead:
            self.dropping.append(self.worker.submit(self._drop, made.result()))
        self.worker.shutdown(wait=True)
        for dropped in self.dropping:
            dropped.result()
