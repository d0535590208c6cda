"""Racing writers: the database, not luck, decides who wins."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import func, select

from callblock.domain import GroupNotFound, Surface
from callblock.service import Service
from callblock.store import Store
from callblock.store import entries as entry_queries
from callblock.store.tables import entries
from tests.helpers import V2, Credentials, entry_rows, snapshot

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)

pytestmark = pytest.mark.anyio


async def test_twenty_concurrent_creates_of_one_name_give_one_group(
    client: httpx.AsyncClient, store: Store, main_account: Credentials
) -> None:
    async def create(i: int) -> int:
        response = await client.post(
            V2,
            json={
                "name": "Race" if i % 2 else "RACE",  # case differs: still one name
                "description": f"attempt {i}",
                "blockNumbers": [str(9100000000 + i)],
            },
            headers=main_account.basic,
        )
        return response.status_code

    statuses = Counter(await asyncio.gather(*(create(i) for i in range(20))))
    assert statuses == {200: 1, 409: 19}
    state = snapshot(store)
    assert len(state["groups"]) == 1
    assert len(state["entries"]) == 1  # the losers wrote nothing


async def test_forty_concurrent_adds_to_one_group_all_land(
    client: httpx.AsyncClient, store: Store, main_account: Credentials
) -> None:
    created = await client.post(
        V2,
        json={"name": "Busy group", "description": "many writers", "blockNumbers": "9000000000"},
        headers=main_account.basic,
    )
    group_id = created.json()["output"]["lastInsertId"]

    async def add(i: int) -> httpx.Response:
        return await client.put(
            V2,
            json={"Id": group_id, "blockNumbers": [str(9100000000 + i), str(9200000000 + i)]},
            headers=main_account.basic,
        )

    responses = await asyncio.gather(*(add(i) for i in range(40)))
    assert [r.status_code for r in responses] == [200] * 40
    assert all(r.json()["output"]["new"] == 2 for r in responses)
    assert len(entry_rows(store, group_id)) == 1 + 80


# --- entries and their group (no foreign key: the store keeps them together) ----------------


def test_a_group_deleted_while_entries_are_written_to_it_leaves_no_entry(
    store: Store, service: Service, main_account: Credentials
) -> None:
    actor = service.authenticate_key(main_account.key, Surface.V1)
    group = service.create_group(actor, "Doomed", "", [], None).group
    deleted = threading.Event()
    with store.write() as conn:  # the writer holds the group...
        entry_queries.write_entries(
            conn, group_id=group.id, keys=[919876543210], expiries=None, source="v1", now=NOW
        )
        deleter = threading.Thread(
            target=lambda: (service.delete_group(actor, group.id), deleted.set()), daemon=True
        )
        deleter.start()
        time.sleep(0.5)
        assert not deleted.is_set()  # ...so the delete waits for it
    deleter.join(timeout=30)
    assert deleted.is_set()
    with store.read() as conn:
        assert conn.execute(select(func.count()).select_from(entries)).scalar_one() == 0


def test_entries_for_a_group_deleted_meanwhile_are_refused(
    store: Store, service: Service, main_account: Credentials
) -> None:
    actor = service.authenticate_key(main_account.key, Surface.V1)
    group = service.create_group(actor, "Gone", "", [], None).group
    service.delete_group(actor, group.id)
    with pytest.raises(GroupNotFound), store.write() as conn:
        entry_queries.write_entries(
            conn, group_id=group.id, keys=[919876543210], expiries=None, source="v1", now=NOW
        )
    with store.read() as conn:
        assert conn.execute(select(func.count()).select_from(entries)).scalar_one() == 0
