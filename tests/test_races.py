"""Racing writers: the database, not luck, decides who wins."""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx
import pytest

from callblock.store import Store
from tests.conftest import Credentials
from tests.helpers import V2, entry_rows, snapshot

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
