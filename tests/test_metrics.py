"""`GET /metrics`: Prometheus text, counting requests, checks and imports as they happen."""

from __future__ import annotations

import anyio
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from callblock.http.app import IndexRefresher
from callblock.service import Service
from tests.helpers import Credentials, add_numbers, bearer, new_group

pytestmark = pytest.mark.anyio


Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def scrape(client: httpx.AsyncClient) -> Samples:
    answer = await client.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def grown(before: Samples, after: Samples, name: str, **labels: str) -> float:
    """How much a sample grew between two scrapes."""
    return value(after, name, **labels) - value(before, name, **labels)


async def group_with(client: httpx.AsyncClient, who: Credentials, numbers: list[str]) -> None:
    group = await new_group(client, who)
    await add_numbers(client, who, group["id"], numbers)


async def test_requests_are_counted_by_route_template_method_and_status(
    client: httpx.AsyncClient, main_account: Credentials
) -> None:
    before = await scrape(client)
    for number in ("9876543210", "9123456780"):
        assert (
            await client.get(f"/v1/check/{number}", headers=bearer(main_account))
        ).status_code == 200
    assert (await client.get("/no/such/place")).status_code == 404
    assert (await client.request("BREW", "/v1/groups")).status_code == 405
    after = await scrape(client)
    check = {"route": "/v1/check/{number}", "method": "GET", "status": "200"}
    assert (
        value(after, "callblock_http_requests_total", **check)
        - value(before, "callblock_http_requests_total", **check)
        == 2
    )
    unmatched = {"route": "unmatched", "method": "GET", "status": "404"}
    assert value(after, "callblock_http_requests_total", **unmatched) > value(
        before, "callblock_http_requests_total", **unmatched
    )
    odd = {"route": "/v1/groups", "method": "other", "status": "405"}
    assert (
        value(after, "callblock_http_requests_total", **odd)
        == value(before, "callblock_http_requests_total", **odd) + 1
    )
    timed = {"route": "/v1/check/{number}", "method": "GET"}
    assert (
        value(after, "callblock_http_request_duration_seconds_count", **timed)
        - value(before, "callblock_http_request_duration_seconds_count", **timed)
        == 2
    )


async def test_checks_are_counted_by_result(
    client: httpx.AsyncClient, main_account: Credentials
) -> None:
    headers = bearer(main_account)
    await group_with(client, main_account, ["9876543210"])
    before = await scrape(client)
    await client.get("/v1/check/9876543210", headers=headers)
    await client.post(
        "/v1/check",
        json={"numbers": ["9876543210", "9123456780", "nonsense", "1"]},
        headers=headers,
    )
    after = await scrape(client)

    counted = [
        grown(before, after, "callblock_checks_total", result=r)
        for r in ("blocked", "not_blocked", "invalid")
    ]
    assert tuple(counted) == (2, 1, 2)


async def test_import_rows_are_counted_by_outcome(
    client: httpx.AsyncClient, main_account: Credentials
) -> None:
    headers = bearer(main_account)
    group = await new_group(client, main_account, "Upload")
    before = await scrape(client)
    done = await client.post(
        f"/v1/groups/{group['id']}/numbers:import",
        params={"skip_invalid": "true"},
        content="9876543210\n9876543210\nbad\n9123456780\n",
        headers=headers,
    )
    assert done.status_code == 200, done.text
    after = await scrape(client)

    counted = [
        grown(before, after, "callblock_import_rows_total", outcome=o)
        for o in ("written", "invalid", "repeated")
    ]
    assert tuple(counted) == (2, 1, 1)


async def test_the_refresher_reports_index_entries_and_lag(
    client: httpx.AsyncClient, service: Service, main_account: Credentials
) -> None:
    await group_with(client, main_account, ["9876543210", "9123456780"])
    refresher = IndexRefresher(service, interval=0.05)
    refresher.start()
    try:
        for _ in range(100):
            samples = await scrape(client)
            if value(samples, "callblock_index_entries") == 2:
                break
            await anyio.sleep(0.05)
    finally:
        refresher.stop()
    assert value(samples, "callblock_index_entries") == 2
    assert 0 <= value(samples, "callblock_index_refresh_lag_seconds") < 1


async def test_compat_requests_are_counted_under_their_own_route(
    client: httpx.AsyncClient, main_account: Credentials
) -> None:
    before = await scrape(client)
    await client.put(
        "/CAServicesV3/blockNumberGroupV2.php",
        auth=("main", main_account.key),
        data={"Id": "1", "blockNumbers": "9876543210"},
    )
    await client.get("/ca_apis/no/such/thing")
    after = await scrape(client)
    for labels in (
        {"route": "/CAServicesV3/blockNumberGroupV2.php", "method": "PUT", "status": "404"},
        {"route": "/ca_apis/{rest:path}", "method": "GET", "status": "404"},
    ):
        name = "callblock_http_requests_total"
        assert value(after, name, **labels) - value(before, name, **labels) == 1
