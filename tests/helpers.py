"""Small helpers shared by the tests (and by the benchmarks): credentials and their headers,
a clock that only moves when told to, what the store holds."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select

from callblock.store import Store
from callblock.store.tables import accounts, audit_events, entries, groups

V2 = "/CAServicesV3/blockNumberGroupV2.php"
PROBLEM = "application/problem+json"


@dataclass(frozen=True)
class Credentials:
    username: str
    key: str

    @property
    def basic(self) -> dict[str, str]:
        return basic(self.username, self.key)


def bearer(who: Credentials | str) -> dict[str, str]:
    """The headers that present an API key (or an account's) as a bearer token."""
    key = who.key if isinstance(who, Credentials) else who
    return {"Authorization": f"Bearer {key}"}


def basic(username: str, key: str) -> dict[str, str]:
    """The headers that present a username and an API key with HTTP Basic."""
    token = base64.b64encode(f"{username}:{key}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def snapshot(store: Store) -> dict[str, Any]:
    """Everything a write could change: row counts, entries and every change counter."""
    with store.read() as conn:
        return {
            "groups": conn.execute(select(groups).order_by(groups.c.id)).all(),
            "entries": conn.execute(
                select(entries).order_by(entries.c.group_id, entries.c.number)
            ).all(),
            "audit": conn.execute(select(func.count()).select_from(audit_events)).scalar(),
            "versions": conn.execute(select(accounts.c.data_version)).scalars().all(),
        }


def entry_rows(store: Store, group_id: int) -> dict[str, Any]:
    """The group's entries as {E.164: row}."""
    with store.read() as conn:
        rows = conn.execute(select(entries).where(entries.c.group_id == group_id)).all()
    return {row.number: row for row in rows}


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """The problem document of a refusal by the /v1 API (docs/api.md), once its status and
    its media type are asserted."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    return body


async def new_group(
    client: httpx.AsyncClient, who: Credentials, name: str = "Spam", **fields: Any
) -> dict[str, Any]:
    """A group of ``who``'s, made through ``POST /v1/groups``: its JSON."""
    response = await client.post("/v1/groups", json={"name": name, **fields}, headers=bearer(who))
    assert response.status_code == 201, response.text
    group: dict[str, Any] = response.json()
    return group


async def add_numbers(
    client: httpx.AsyncClient, who: Credentials, group_id: int, numbers: list[str], **fields: Any
) -> dict[str, Any]:
    """``numbers`` added to the group through ``POST /v1/groups/{id}/numbers``: its JSON."""
    response = await client.post(
        f"/v1/groups/{group_id}/numbers", json={"numbers": numbers, **fields}, headers=bearer(who)
    )
    assert response.status_code == 200, response.text
    added: dict[str, Any] = response.json()
    return added
