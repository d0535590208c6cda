"""Opening the database and running transactions on it.

SQLite is opened so that concurrent writers wait for each other instead of failing: WAL
journal, a busy timeout, and write transactions that take the write lock up front
(``BEGIN IMMEDIATE``). A deferred transaction that reads first and writes later can fail at
once with "database is locked" however long the busy timeout; taking the lock at BEGIN makes
the busy timeout apply.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.pool import ConnectionPoolEntry

from callblock.domain import StoreUnavailable, WriteConflict

_WRITE = "callblock_write"
SQLITE_BUSY_TIMEOUT_S = 30.0
PG_CONNECT_TIMEOUT_S = 5
PG_STALL_MS = 10_000  # unacknowledged data for this long: the connection is dead
# PostgreSQL's deadlock_detected and serialization_failure: the write may simply run again.
_CONFLICTS = frozenset({"40P01", "40001"})


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


class DriverNotInstalled(ImportError):
    """The database's driver is missing: the message says which extra installs it. An
    ImportError, so that every caller refusing an unusable URL already reports it."""


POSTGRES_DRIVER_MISSING = (
    "the PostgreSQL driver (psycopg) is not installed; install it with: "
    "pip install 'callblock[postgres]'"
)


def create_store_engine(url: str, busy_timeout: float = SQLITE_BUSY_TIMEOUT_S) -> Engine:
    """An engine for ``url`` set up for callblock's transaction discipline; on SQLite, a
    write waits up to ``busy_timeout`` seconds for the write lock (then StoreUnavailable)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        if parsed.get_backend_name() == "postgresql" and "+" not in parsed.drivername:
            # psycopg (3) is the driver callblock ships and uses (COPY); SQLAlchemy's own
            # default for a bare postgresql:// URL is psycopg2.
            parsed = parsed.set(drivername="postgresql+psycopg")
        try:
            # A database that stops answering (a frozen host, a dropped route) must fail a
            # request within seconds, not hold it until TCP gives up minutes later.
            return create_engine(
                parsed,
                pool_pre_ping=True,
                connect_args={
                    "connect_timeout": PG_CONNECT_TIMEOUT_S,
                    "tcp_user_timeout": PG_STALL_MS,
                },
            )
        except ModuleNotFoundError as exc:
            if (exc.name or "").partition(".")[0] == "psycopg":
                raise DriverNotInstalled(POSTGRES_DRIVER_MISSING, name=exc.name) from exc
            raise
    if parsed.database in (None, "", ":memory:") or "mode=memory" in str(parsed.query):
        # Every pooled connection would see a different, empty database.
        raise ValueError("an in-memory SQLite database cannot be shared; give a file path")

    engine = create_engine(
        parsed,
        connect_args={"timeout": busy_timeout, "check_same_thread": False},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # Let SQLAlchemy's "begin" event below issue BEGIN, not the driver.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
            cursor.execute("PRAGMA foreign_keys=ON")
            # FULL: an acknowledged write survives a power cut, not only a crash (WAL with
            # NORMAL may lose the last commits). A block is a compliance record; about 1 ms
            # more per write transaction, nothing per check.
            cursor.execute("PRAGMA synchronous=FULL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        write = connection.get_execution_options().get(_WRITE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


class Store:
    """The database: engine plus the two kinds of transaction the service uses."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def from_url(cls, url: str, busy_timeout: float = SQLITE_BUSY_TIMEOUT_S) -> Store:
        return cls(create_store_engine(url, busy_timeout))

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with _translated_errors(), self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def snapshot(self) -> Iterator[Connection]:
        """A read transaction whose queries all see the same commits: for a read of several
        queries that must agree (a follower of the change log must not see a change's head
        and then find its keys pruned; an export's blocks are one version of the group).
        SQLite's read transactions already do; PostgreSQL's default (READ COMMITTED) gives
        each query its own, so this asks for REPEATABLE READ."""
        with _translated_errors(), self.engine.connect() as conn:
            if not is_sqlite(self.engine):
                conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A transaction that commits when the block ends and rolls back on any error."""
        with _translated_errors(), self.engine.connect() as conn:
            conn.execution_options(**{_WRITE: True})
            with conn.begin():
                yield conn

    def dispose(self) -> None:
        self.engine.dispose()


@contextmanager
def _translated_errors() -> Iterator[None]:
    try:
        yield
    except OperationalError as exc:
        if getattr(exc.orig, "sqlstate", None) in _CONFLICTS:
            raise WriteConflict(_one_line(exc.orig)) from exc
        raise StoreUnavailable(_one_line(exc.orig)) from exc
    except PoolTimeout as exc:  # every pooled connection busy for the whole pool timeout
        raise StoreUnavailable("no database connection came free in time") from exc
    except DBAPIError as exc:
        if exc.connection_invalidated:
            raise StoreUnavailable(_one_line(exc.orig)) from exc
        raise


def _one_line(error: BaseException | None) -> str:
    """The driver's message on one line (psycopg's span several), for logs and answers."""
    return " ".join(str(error).split())
