"""Shared fixtures: a fresh store per test, a controllable clock, the app in-process."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from callblock.api.app import create_app
from callblock.service import Service
from callblock.settings import Settings
from callblock.store import Store
from callblock.store.migrate import upgrade


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass(frozen=True)
class Credentials:
    username: str
    key: str

    @property
    def basic(self) -> dict[str, str]:
        token = base64.b64encode(f"{self.username}:{self.key}".encode()).decode()
        return {"Authorization": f"Basic {token}"}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'callblock.db'}"


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    store = Store.from_url(database_url)
    upgrade(store.engine)
    yield store
    store.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC))


@pytest.fixture
def service(store: Store, clock: FakeClock) -> Service:
    return Service(store, clock=clock)


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
