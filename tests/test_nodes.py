"""Two nodes, each `callblock serve --workers 2`, on one shared database (SQLite and
PostgreSQL): every guarantee holds across processes, not only within one."""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from callblock.domain import Action, Surface
from callblock.service import Service
from callblock.store import Store
from tests.conftest import ENGINES, fresh_database
from tests.helpers import bearer
from tests.servers import (
    Server,
    callblock,
    create_account,
    start_server,
    stop_server,
    wait_ready,
    workers_of,
)

pytestmark = pytest.mark.server

BOUND = 1.0  # seconds: the documented bound for a write to be seen by every process's checks
_names = (f"n{i}" for i in itertools.count())


@dataclass
class Cluster:
    nodes: tuple[Server, Server]
    database_url: str

    def account(self, *, token_auth: bool = False) -> tuple[str, str]:
        """A new account's (username, API key)."""
        username = next(_names)
        key = create_account(username, database_url=self.database_url)
        if token_auth:
            callblock("account", "set-auth", username, "TOKEN_AUTH", database_url=self.database_url)
        return username, key


@pytest.fixture(scope="module", params=ENGINES)
def cluster(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    with fresh_database(request, request.param, tmp_path_factory.mktemp("nodes")) as url:
        callblock("account", "create", "operator", database_url=url)  # no demo account
        first = start_server(url, "--workers", "2")
        try:
            second = start_server(url, "--workers", "2")
        except BaseException:
            stop_server(first)  # a node that fails to start must not leave the other running
            raise
        try:
            for node in (first, second):
                wait_ready(node)
            yield Cluster((first, second), url)
        finally:
            for node in (first, second):
                log = stop_server(node)
                assert "Traceback" not in log, log


def test_a_number_added_on_one_node_is_blocked_on_every_worker_of_the_other(
    cluster: Cluster,
) -> None:
    a, b = cluster.nodes
    _, key = cluster.account()
    headers = bearer(key)
    group = httpx.post(f"{a.url}/v1/groups", json={"name": "Shared"}, headers=headers).json()
    for i in range(5):
        number = f"98765432{i:02d}"
        added = httpx.post(
            f"{a.url}/v1/groups/{group['id']}/numbers", json={"numbers": [number]}, headers=headers
        )
        assert added.status_code == 200
        written = time.monotonic()
        # Each request may land on either worker of B: both must see it within the bound.
        while True:
            answers = [
                httpx.get(f"{b.url}/v1/check/{number}", headers=headers).json()["blocked"]
                for _ in range(6)
            ]
            if all(answers):
                break
            assert time.monotonic() - written < BOUND, "not seen within the documented bound"
            time.sleep(0.01)
        removed = httpx.request(
            "DELETE",
            f"{b.url}/v1/groups/{group['id']}/numbers",
            json={"numbers": [number]},
            headers=headers,
        )
        assert removed.json()["removed"] == 1
        gone = time.monotonic()
        while any(
            httpx.get(f"{a.url}/v1/check/{number}", headers=headers).json()["blocked"]
            for _ in range(6)
        ):
            assert time.monotonic() - gone < BOUND
            time.sleep(0.01)


REGISTRY_SIZE = 150_000  # past the size merged into a new base instead of the overlay


def _blocked_everywhere(node: Server, number: str, headers: dict[str, str]) -> list[bool]:
    """The check's answer from several new connections: each may land on either worker."""
    return [
        httpx.get(f"{node.url}/v1/check/{number}", headers=headers).json()["blocked"]
        for _ in range(6)
    ]


def test_a_registry_imported_on_one_node_and_numbers_removed_after_follow_on_the_other(
    cluster: Cluster, tmp_path: Path
) -> None:
    """A registry-sized import crosses to every worker of node B as one change (merged into
    a new base, shared through one snapshot file); a number then removed on node A is never
    blocked on node B after the bound."""
    a, b = cluster.nodes
    username, key = cluster.account()
    headers = bearer(key)
    listing = tmp_path / "registry.txt"
    listing.write_text("".join(f"+9170{n:08d}\n" for n in range(REGISTRY_SIZE)))
    imported = time.monotonic()
    callblock(
        "import",
        "--account",
        username,
        "--group",
        "Registry",
        str(listing),
        database_url=cluster.database_url,
    )
    while not all(_blocked_everywhere(b, f"+9170{REGISTRY_SIZE - 1:08d}", headers)):
        assert time.monotonic() - imported < 30, "the import never reached node B"
        time.sleep(0.05)
    assert not any(_blocked_everywhere(b, f"+9170{REGISTRY_SIZE:08d}", headers))
    # One file per account on the node, whatever its workers: they map the same one.
    assert len(list(b.index_dir.glob("*/account-*.snapshot"))) >= 1
    group = httpx.get(f"{a.url}/v1/groups", headers=headers).json()["data"][0]
    for n in range(0, REGISTRY_SIZE, REGISTRY_SIZE // 5):
        number = f"+9170{n:08d}"
        removed = httpx.request(
            "DELETE",
            f"{a.url}/v1/groups/{group['id']}/numbers",
            json={"numbers": [number]},
            headers=headers,
        )
        assert removed.json()["removed"] == 1
        gone = time.monotonic()
        while any(_blocked_everywhere(b, number, headers)):
            assert time.monotonic() - gone < BOUND, "still blocked after the bound"
            time.sleep(0.01)
        time.sleep(BOUND / 2)  # and it stays unblocked, on every worker
        assert not any(_blocked_everywhere(b, number, headers))


def test_checks_on_the_other_node_see_a_replace_whole_never_a_mix(cluster: Cluster) -> None:
    """A group replaced on node A by a file that drops half its numbers and adds as many:
    node B's batch checks of a dropped number and an added one, asked all the while on
    either worker, answer the old list (dropped blocked, added not) or the new one, never
    both, never neither (an empty group), and the new one within the bound."""
    a, b = cluster.nodes
    _, key = cluster.account()
    headers = bearer(key)
    group = httpx.post(f"{a.url}/v1/groups", json={"name": "Registry"}, headers=headers).json()
    path = f"{a.url}/v1/groups/{group['id']}/numbers:import"
    old = [f"+9171{n:08d}" for n in range(2_000)]
    new = old[1_000:] + [f"+9172{n:08d}" for n in range(1_000)]
    dropped, added = old[0], new[-1]
    assert httpx.post(path, content="\n".join(old).encode(), headers=headers).status_code == 200
    check = f"{b.url}/v1/check"
    seen: Counter[tuple[bool, bool]] = Counter()

    def answer() -> tuple[bool, bool]:
        results = httpx.post(check, json={"numbers": [dropped, added]}, headers=headers)
        first, second = results.json()["results"]
        return first["blocked"], second["blocked"]

    started = time.monotonic()
    while answer() != (True, False):  # node B has the old list first
        assert time.monotonic() - started < 30
    replaced = httpx.post(
        path,
        params={"mode": "replace", "max_removal": "0.5"},
        content="\n".join(new).encode(),
        headers=headers,
    )
    assert replaced.json()["removed"] == 1_000
    done = time.monotonic()
    while (now := answer()) != (False, True):
        seen[now] += 1
        assert time.monotonic() - done < BOUND, f"not seen whole after the bound: {seen}"
    for _ in range(20):  # and it stays so, on either worker
        seen[answer()] += 1
    assert set(seen) <= {(True, False), (False, True)}, seen


def test_a_killed_worker_comes_back_current(cluster: Cluster) -> None:
    """``kill -9`` of one worker of node B: its replacement maps the node's snapshot, catches
    up from the log, and answers like its sibling."""
    a, b = cluster.nodes
    _, key = cluster.account()
    headers = bearer(key)
    group = httpx.post(f"{a.url}/v1/groups", json={"name": "Opt-out"}, headers=headers).json()
    workers = workers_of(b)
    assert len(workers) == 2
    os.kill(workers[0], signal.SIGKILL)
    added = httpx.post(
        f"{a.url}/v1/groups/{group['id']}/numbers",
        json={"numbers": ["9876501234"]},
        headers=headers,
    )
    assert added.status_code == 200
    deadline = time.monotonic() + 30
    while len(set(workers_of(b)) - {workers[0]}) < 2:  # the supervisor starts another
        assert time.monotonic() < deadline, "the killed worker was not replaced"
        time.sleep(0.1)
    wait_ready(b)
    deadline = time.monotonic() + 30
    while not all(_blocked_everywhere(b, "9876501234", headers)):
        assert time.monotonic() < deadline
        time.sleep(0.05)


def _token(node: Server, username: str, key: str) -> httpx.Response:
    return httpx.post(
        f"{node.url}/ca_apis/CAToken/generateToken",
        json={"userName": username},
        headers={"apiKey": key},
    )


def _create_with_token(node: Server, username: str, token: str, name: str) -> httpx.Response:
    return httpx.post(
        f"{node.url}/ca_apis/createBlockNumber",
        json={
            "userName": username,
            "name": name,
            "description": "From a test",
            "blockNumbers": "9876543210",
        },
        headers=bearer(token),
    )


def test_a_token_issued_on_one_node_ends_the_older_one_on_the_other(cluster: Cluster) -> None:
    a, b = cluster.nodes
    username, key = cluster.account(token_auth=True)
    older = _token(a, username, key).json()["token"]
    assert _create_with_token(b, username, older, "First").status_code == 200
    newer = _token(a, username, key).json()["token"]
    refused = _create_with_token(b, username, older, "Second")
    assert (refused.status_code, refused.json()) == (
        401,
        {"status": "error", "message": "Authentication failed"},
    )
    assert _create_with_token(b, username, newer, "Third").status_code == 200


def test_the_token_limit_holds_across_nodes(cluster: Cluster) -> None:
    username, key = cluster.account(token_auth=True)

    async def race() -> Counter[int]:
        async with httpx.AsyncClient(timeout=60) as client:
            answers = await asyncio.gather(
                *(
                    client.post(
                        f"{node.url}/ca_apis/CAToken/generateToken",
                        json={"userName": username},
                        headers={"apiKey": key},
                    )
                    for node in itertools.islice(itertools.cycle(cluster.nodes), 14)
                )
            )
        return Counter(answer.status_code for answer in answers)

    assert asyncio.run(race()) == {200: 10, 429: 4}


def test_racing_creates_of_one_name_across_nodes_make_one_group(cluster: Cluster) -> None:
    _, key = cluster.account()
    headers = bearer(key)

    async def race() -> Counter[int]:
        async with httpx.AsyncClient(timeout=60) as client:
            answers = await asyncio.gather(
                *(
                    client.post(f"{node.url}/v1/groups", json={"name": "Once"}, headers=headers)
                    for node in itertools.islice(itertools.cycle(cluster.nodes), 20)
                )
            )
        return Counter(answer.status_code for answer in answers)

    assert asyncio.run(race()) == {201: 1, 409: 19}
    for node in cluster.nodes:
        listed = httpx.get(f"{node.url}/v1/groups", headers=headers).json()
        assert [g["name"] for g in listed["data"]] == ["Once"]


def test_metrics_of_a_node_add_up_its_workers(cluster: Cluster) -> None:
    a, _ = cluster.nodes
    _, key = cluster.account()
    headers = bearer(key)

    def checked() -> float:
        text = httpx.get(f"{a.url}/metrics").text
        line = next(
            (
                row
                for row in text.splitlines()
                if row.startswith('callblock_checks_total{result="not_blocked"}')
            ),
            None,
        )
        return float(line.split()[-1]) if line else 0.0

    before = checked()
    for _ in range(20):  # spread over both workers by the kernel
        assert httpx.get(f"{a.url}/v1/check/9000000001", headers=headers).status_code == 200
    assert checked() - before == 20


def test_a_key_revoked_with_the_cli_stops_working_on_every_worker_of_both_nodes(
    cluster: Cluster,
) -> None:
    username, key = cluster.account(token_auth=True)
    keep = callblock("account", "key", username, database_url=cluster.database_url)
    kept_key = keep.stdout.strip().splitlines()[-1]
    token = _token(cluster.nodes[0], username, key).json()["token"]
    headers = bearer(key)
    for node in cluster.nodes:  # every worker knows the key and the token before
        for _ in range(6):
            assert httpx.get(f"{node.url}/v1/check/9000000002", headers=headers).status_code == 200
            assert httpx.get(f"{node.url}/v1/groups", headers=headers).status_code == 200
    assert _create_with_token(cluster.nodes[1], username, token, "Before").status_code == 200

    listed = callblock("account", "keys", username, database_url=cluster.database_url).stdout
    first_key_id = listed.splitlines()[1].split()[0]  # oldest first: the one `create` made
    callblock("account", "revoke-key", username, first_key_id, database_url=cluster.database_url)
    deadline = time.monotonic() + 2 * BOUND
    while True:
        answers = [
            httpx.get(f"{node.url}{path}", headers=headers).status_code
            for node in cluster.nodes
            for path in ("/v1/check/9000000002", "/v1/groups")
            for _ in range(6)
        ]
        if set(answers) == {401}:
            break
        assert time.monotonic() < deadline, f"still accepted {answers}"
        time.sleep(0.05)
    assert _create_with_token(cluster.nodes[1], username, token, "After").status_code == 401
    kept = bearer(kept_key)
    for node in cluster.nodes:
        assert httpx.get(f"{node.url}/v1/groups", headers=kept).status_code == 200


def test_failures_on_one_node_lock_the_username_on_the_other(cluster: Cluster) -> None:
    username, key = cluster.account()
    a, b = cluster.nodes
    # From an address of its own, so that no other test shares its count.
    with httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.2")) as client:
        for _ in range(10):
            wrong = client.get(f"{a.url}/v1/groups", auth=(username, "cbk_wrong"))
            assert wrong.status_code == 401
        refused = client.get(f"{b.url}/v1/groups", auth=(username, key))
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60


def test_racing_writers_on_one_number_across_nodes_add_up_exactly(cluster: Cluster) -> None:
    """Twenty writers on one number over four worker processes: no 5xx, and the answers, the
    audit and the change log each count exactly one addition and one removal."""
    _, key = cluster.account()
    headers = {"Authorization": f"Bearer {key}"}
    a, _ = cluster.nodes
    group = httpx.post(f"{a.url}/v1/groups", json={"name": "Raced"}, headers=headers).json()
    numbers = f"/v1/groups/{group['id']}/numbers"
    body = {"numbers": ["9876543210"]}

    async def race(method: str) -> list[httpx.Response]:
        async with httpx.AsyncClient(timeout=60) as client:
            return await asyncio.gather(
                *(
                    client.request(method, f"{node.url}{numbers}", json=body, headers=headers)
                    for node in itertools.islice(itertools.cycle(cluster.nodes), 20)
                )
            )

    added = asyncio.run(race("POST"))
    assert [r.status_code for r in added] == [200] * 20
    assert sum(r.json()["added"] for r in added) == 1
    removed = asyncio.run(race("DELETE"))
    assert [r.status_code for r in removed] == [200] * 20
    assert sum(r.json()["removed"] for r in removed) == 1

    async def churn() -> list[httpx.Response]:
        async with httpx.AsyncClient(timeout=60) as client:
            return await asyncio.gather(
                *(
                    client.request(
                        "POST" if i % 2 else "DELETE",
                        f"{node.url}{numbers}",
                        json=body,
                        headers=headers,
                    )
                    for i, node in enumerate(itertools.islice(itertools.cycle(cluster.nodes), 20))
                )
            )

    churned = [r for _ in range(5) for r in asyncio.run(churn())]
    assert {r.status_code for r in churned} == {200}
    net = sum(r.json().get("added", 0) - r.json().get("removed", 0) for r in churned)

    events = httpx.get(f"{a.url}/v1/audit", params={"limit": 500}, headers=headers).json()["data"]
    audited: Counter[str] = Counter()
    for event in events:
        audited[event["action"]] += event["count"]
    store = Store.from_url(cluster.database_url)
    try:
        service = Service(store)
        account = service.authenticate_key(key, Surface.V1)
        logged = service.changes(account, after=0)
    finally:
        store.dispose()
    log_added = sum(c.draft.added for c in logged if c.action is Action.ADD)
    log_removed = sum(len(c.draft.removed) for c in logged)
    assert audited["add"] == log_added == 1 + sum(r.json().get("added", 0) for r in churned)
    assert audited["remove"] == log_removed == 1 + sum(r.json().get("removed", 0) for r in churned)
    present = httpx.get(f"{a.url}{numbers}", headers=headers).json()["data"]
    assert len(present) == net  # what the answers say is what the group holds
    assert [c.version for c in logged] == list(range(1, len(logged) + 1))


def test_on_postgresql_a_write_wakes_the_other_node_before_its_poll(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """Each write announces itself (``NOTIFY`` on commit); every process listens, so another
    node follows at once, not at its next poll (here every 30 s)."""
    with fresh_database(request, "postgresql", tmp_path) as url:
        key = create_account("waker", database_url=url)
        a = start_server(url, index_refresh_seconds="30")
        b = start_server(url, "--workers", "2", index_refresh_seconds="30")
        try:
            for node in (a, b):
                wait_ready(node)
            headers = bearer(key)
            group = httpx.post(f"{a.url}/v1/groups", json={"name": "Woken"}, headers=headers)
            time.sleep(1)  # both workers of B have followed the create (woken as well)
            for i in range(3):
                number = f"98765000{i:02d}"
                added = httpx.post(
                    f"{a.url}/v1/groups/{group.json()['id']}/numbers",
                    json={"numbers": [number]},
                    headers=headers,
                )
                assert added.status_code == 200
                written = time.monotonic()
                while not all(_blocked_everywhere(b, number, headers)):
                    assert time.monotonic() - written < BOUND, "not woken by the write"
                    time.sleep(0.01)
        finally:
            for node in (a, b):
                assert "Traceback" not in stop_server(node)
