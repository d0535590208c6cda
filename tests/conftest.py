"""Shared fixtures: a store of its own per test (a copy of a template migrated once a
session), a controllable clock, the app in-process."""

from __future__ import annotations

import os
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import settings
from sqlalchemy import Engine, create_engine

from callblock.http.app import create_app
from callblock.service import Service
from callblock.settings import Settings
from callblock.store import Store
from tests.databases import PostgresCopies, migrated_template, new_database
from tests.helpers import Credentials, FakeClock

# CI runs the property tests on a fixed seed (a red CI is then a real, repeatable failure);
# elsewhere each run explores new examples.
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


ENGINES = ["sqlite", "postgresql"]
POSTGRES_URL = os.environ.get(
    "CALLBLOCK_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _postgres_unreachable() -> str | None:
    """Why PostgreSQL tests cannot run here, or None when they can."""
    try:
        engine = create_engine(POSTGRES_URL)
        with engine.connect():
            pass
        engine.dispose()
    except Exception as exc:  # any failure to connect: driver missing, server down, auth
        return f"PostgreSQL at {POSTGRES_URL} unreachable: {exc.__class__.__name__}: {exc}"
    return None


def skip_unless_ci(reason: str, tests: str) -> None:
    """Skip, saying why; with CI set, fail instead: there ``tests`` must run."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set: {tests} must not skip)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_admin() -> Iterator[Engine]:
    reason = _postgres_unreachable()
    if reason is not None:
        skip_unless_ci(reason, "PostgreSQL tests")
    engine = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """This session's migrated SQLite file, which each test copies."""
    directory = tmp_path_factory.mktemp("template")
    with migrated_template("sqlite", directory, POSTGRES_URL, "callblock_test") as path:
        yield path


@pytest.fixture(scope="session")
def postgresql_template(postgres_admin: Engine) -> Iterator[str]:
    """This session's migrated PostgreSQL database (a name of its own, dropped at the end),
    which each test copies."""
    with migrated_template("postgresql", Path(), postgres_admin, "callblock_test") as name:
        yield name


@pytest.fixture(scope="session")
def postgresql_copies(postgres_admin: Engine, postgresql_template: str) -> Iterator[PostgresCopies]:
    """Copies of this session's PostgreSQL template, made ahead and dropped in the background."""
    copies = PostgresCopies(postgres_admin, postgresql_template, "callblock_test")
    try:
        yield copies
    finally:
        copies.close()


@contextmanager
def fresh_database(
    request: pytest.FixtureRequest, engine: str, directory: Path, *, empty: bool = False
) -> Iterator[str]:
    """The URL of a new database of its own on ``engine``, at the newest schema (a copy of the
    session's template) or, with ``empty``, without any; a PostgreSQL one is dropped after."""
    # Without PostgreSQL the fixtures skip (or, in CI, fail) the test.
    admin = request.getfixturevalue("postgres_admin") if engine == "postgresql" else POSTGRES_URL
    if engine == "postgresql" and not empty:
        copies: PostgresCopies = request.getfixturevalue("postgresql_copies")
        with copies.copy() as url:
            yield url
        return
    template = None if empty else request.getfixturevalue(f"{engine}_template")
    with new_database(engine, directory, admin, "callblock_test", template=template) as url:
        yield url


@pytest.fixture(params=ENGINES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of its own at the newest schema, on each engine; the PostgreSQL one is
    dropped afterwards."""
    with fresh_database(request, request.param, tmp_path) as url:
        yield url


@pytest.fixture(params=ENGINES)
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of its own with no schema at all, on each engine: for what migrates (or
    refuses to work on) a database that is not at the newest schema."""
    with fresh_database(request, request.param, tmp_path, empty=True) as url:
        yield url


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    store = Store.from_url(database_url)
    yield store
    store.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC))


@pytest.fixture
def service(store: Store, clock: FakeClock) -> Iterator[Service]:
    yield Service(store, clock=clock)
    wait_for_rechecks()


# For suites that send wrong credentials on purpose, many times (contract fuzzing, conformance
# vectors): the failed-authentication limit has tests of its own (tests/test_abuse.py).
UNLIMITED_FAILURES = 1_000_000


def wait_for_rechecks() -> None:
    """A credential re-checked in the background must finish before its store is disposed."""
    for thread in threading.enumerate():
        if thread.name == "key-recheck":
            thread.join(timeout=30)


@pytest.fixture
def main_account(service: Service) -> Credentials:
    return Credentials("main", service.create_account("main").key)


@pytest.fixture
def other_account(service: Service) -> Credentials:
    return Credentials("other", service.create_account("other").key)


@pytest.fixture
def app(service: Service, database_url: str) -> FastAPI:
    return create_app(Settings(database_url=database_url), service=service)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://callblock.test") as c:
        yield c
