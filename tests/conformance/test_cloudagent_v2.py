"""The shared Cloud Agent V2 conformance vectors, replayed in-process."""

from __future__ import annotations

import filecmp
from pathlib import Path

import httpx
import pytest

from tests.conformance.runner import HERE, load, run_case
from tests.helpers import Credentials

VECTORS = "cloudagent-v2.json"
SHARED = Path(__file__).resolve().parents[3] / "shared" / "conformance" / VECTORS


@pytest.mark.anyio
async def test_every_v2_vector_passes_in_process(
    client: httpx.AsyncClient, main_account: Credentials, other_account: Credentials
) -> None:
    accounts = {"main": main_account, "other": other_account}
    saved: dict[str, object] = {}
    for case in load(VECTORS):
        await run_case(client, case, accounts, saved)
    assert "group_id" in saved
    assert "other_group_id" in saved


@pytest.mark.skipif(not SHARED.exists(), reason="no shared/ checkout beside this repository")
def test_vectors_are_identical_to_the_shared_copy() -> None:
    assert filecmp.cmp(HERE / VECTORS, SHARED, shallow=False)
