"""Against a real `callblock serve` process: the vectors, racing writers, the first start."""

from __future__ import annotations

import asyncio
import re
import shlex
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conformance.runner import accounts_of, load_file, run_file
from tests.conftest import UNLIMITED_FAILURES
from tests.helpers import V2, Credentials, bearer
from tests.servers import (
    Server,
    callblock,
    create_account,
    server_output,
    start_server,
    stop_server,
)

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Server, dict[str, Credentials]]]:
    database_url = f"sqlite:///{tmp_path_factory.mktemp('served') / 'callblock.db'}"
    accounts = {}
    for username in ("main", "other"):
        key = create_account(username, database_url=database_url)
        accounts[username] = Credentials(username, key)
    server = start_server(database_url)
    yield server, accounts
    log = stop_server(server)
    for credentials in accounts.values():
        assert credentials.key not in log  # keys never reach the log


def test_every_v2_vector_passes_against_a_real_server(
    served: tuple[Server, dict[str, Credentials]],
) -> None:
    server, accounts = served

    async def run() -> int:
        async with httpx.AsyncClient(base_url=server.url) as client:
            return await run_file(client, "cloudagent-v2.json", accounts)

    assert asyncio.run(run()) > 0


def test_racing_writers_against_a_real_server(
    served: tuple[Server, dict[str, Credentials]],
) -> None:
    server, accounts = served
    main = accounts["main"]

    async def run() -> tuple[Counter[int], list[int], int]:
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
            creates = await asyncio.gather(
                *(
                    client.post(
                        V2,
                        json={
                            "name": "Served race",
                            "description": f"try {i}",
                            "blockNumbers": "9000000000",
                        },
                        headers=main.basic,
                    )
                    for i in range(20)
                )
            )
            winner = next(r for r in creates if r.status_code == 200)
            group_id = winner.json()["output"]["lastInsertId"]
            adds = await asyncio.gather(
                *(
                    client.put(
                        V2,
                        json={"Id": group_id, "blockNumbers": str(9300000000 + i)},
                        headers=main.basic,
                    )
                    for i in range(40)
                )
            )
            # Every added number is in the group: deleting them all finds all forty.
            numbers = [str(9300000000 + i) for i in range(40)]
            removed = await client.request(
                "DELETE", V2, json={"id": group_id, "blockNumbers": numbers}, headers=main.basic
            )
            return (
                Counter(r.status_code for r in creates),
                [r.status_code for r in adds],
                removed.json()["output"]["deleted"],
            )

    creates, adds, removed = asyncio.run(run())
    assert creates == {200: 1, 409: 19}
    assert adds == [200] * 40
    assert removed == 40


@pytest.fixture(scope="module")
def served_ca_apis(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Server, dict[str, Credentials]]]:
    vectors = "cloudagent-ca-apis.json"
    database_url = f"sqlite:///{tmp_path_factory.mktemp('ca') / 'callblock.db'}"
    accounts = {}
    for username, mode in accounts_of(vectors).items():
        key = create_account(username, database_url=database_url)
        accounts[username] = Credentials(username, key)
        callblock("account", "set-auth", username, mode, database_url=database_url)
    # The vectors send over ten wrong credentials for one user in a row, on purpose.
    server = start_server(
        database_url,
        secret_key=load_file(vectors)["secret_key"],
        auth_failures_per_minute=str(UNLIMITED_FAILURES),
    )
    yield server, accounts
    log = stop_server(server)
    for credentials in accounts.values():
        assert credentials.key not in log
    assert "eyJ" not in log  # no token (a JWT starts so) reaches the log


def test_every_ca_apis_vector_passes_against_a_real_server(
    served_ca_apis: tuple[Server, dict[str, Credentials]],
) -> None:
    server, accounts = served_ca_apis

    async def run() -> int:
        async with httpx.AsyncClient(base_url=server.url) as client:
            return await run_file(client, "cloudagent-ca-apis.json", accounts)

    assert asyncio.run(run()) > 0


def test_token_limit_holds_under_racing_requests_on_a_real_server(
    served_ca_apis: tuple[Server, dict[str, Credentials]],
) -> None:
    server, _ = served_ca_apis
    key = create_account("racer", database_url=server.database_url)
    callblock("account", "set-auth", "racer", "TOKEN_AUTH", database_url=server.database_url)

    async def run() -> Counter[int]:
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
            responses = await asyncio.gather(
                *(
                    client.post(
                        "/ca_apis/CAToken/generateToken",
                        json={"userName": "racer"},
                        headers={"apiKey": key},
                    )
                    for _ in range(14)
                )
            )
        return Counter(r.status_code for r in responses)

    assert asyncio.run(run()) == {200: 10, 429: 4}


def test_first_serve_creates_demo_and_prints_a_working_curl(tmp_path: Path) -> None:
    server = start_server(f"sqlite:///{tmp_path / 'fresh.db'}")
    try:
        lines = server_output(server).splitlines()  # printed before the server answered
        curl = shlex.split(next(line for line in lines if "curl " in line))
        user, key = curl[curl.index("-u") + 1].split(":", 1)
        body = curl[curl.index("-d") + 1]
        assert curl[-1].startswith(server.url)
        response = httpx.post(
            curl[-1],
            content=body,
            auth=(user, key),
            headers={"Content-Type": "application/json"},
        )
        assert response.status_code == 200, response.text
        assert response.json()["message"] == "created"
        assert any(key in line and "demo" in line for line in lines)
        page = next(line for line in lines if "/ui" in line)
        page_url = re.search(r"http://\S+/ui", page)
        assert page_url is not None
        assert page_url.group(0) == server.url + "/ui"
        assert "<title>callblock</title>" in httpx.get(page_url.group(0)).text
    finally:
        stop_server(server)


def test_serve_reuses_an_existing_database_without_a_new_demo(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'used.db'}"
    callblock("account", "create", "alice", database_url=database_url)
    server = start_server(database_url)
    log = stop_server(server)
    assert "demo" not in log
    listing = callblock("account", "list", database_url=database_url).stdout
    assert re.search(r"^alice\s", listing, re.MULTILINE)
    assert "demo" not in listing


def test_cli_acts_on_a_remote_server(served: tuple[Server, dict[str, Credentials]]) -> None:
    server, accounts = served
    key = accounts["other"].key

    def remote(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "callblock", *args, "--url", server.url, "--api-key", key],
            capture_output=True,
            text=True,
            timeout=60,
        )

    created = remote("group", "create", "Remote group", "--direction", "outbound")
    assert created.returncode == 0, created.stderr
    group_id = created.stdout.strip().splitlines()[-1]
    added = httpx.post(
        f"{server.url}/v1/groups/{group_id}/numbers",
        json={"numbers": ["140*"]},
        headers=bearer(key),
    )
    assert added.status_code == 200
    checked = remote("check", "1401234567", "--direction", "outbound")
    assert checked.stdout.splitlines()[0] == "+911401234567: BLOCKED"
    assert "prefix +91140*" in checked.stdout
    assert "Remote group" in remote("group", "list").stdout
    assert remote("group", "delete", group_id).returncode == 0
    gone = remote("group", "delete", group_id)
    assert gone.returncode == 1
    assert "Traceback" not in gone.stderr
    wrong = subprocess.run(
        [
            sys.executable,
            "-m",
            "callblock",
            "group",
            "list",
            "--url",
            server.url,
            "--api-key",
            "cbk_wrong",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert wrong.returncode == 1
    assert "Traceback" not in wrong.stderr


def test_a_write_on_one_process_is_seen_by_another_within_a_second(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'shared.db'}"
    key = create_account("shared", database_url=database_url)
    first, second = start_server(database_url), start_server(database_url)
    headers = bearer(key)
    try:
        for server in (first, second):  # both ready: index loaded
            deadline = time.monotonic() + 10
            while httpx.get(server.url + "/readyz").status_code != 200:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        group = httpx.post(f"{first.url}/v1/groups", json={"name": "Shared"}, headers=headers)
        group_id = group.json()["id"]
        lags = []
        for i in range(5):
            number = f"98765432{i:02d}"
            httpx.post(
                f"{first.url}/v1/groups/{group_id}/numbers",
                json={"numbers": [number]},
                headers=headers,
            )
            written = time.monotonic()
            while not httpx.get(f"{second.url}/v1/check/{number}", headers=headers).json()[
                "blocked"
            ]:
                assert time.monotonic() - written < 1.0, "not seen within the documented 1 s"
                time.sleep(0.01)
            lags.append(time.monotonic() - written)
            # ...and removing through the second is seen by the first.
            httpx.request(
                "DELETE",
                f"{second.url}/v1/groups/{group_id}/numbers",
                json={"numbers": [number]},
                headers=headers,
            )
            removed = time.monotonic()
            while httpx.get(f"{first.url}/v1/check/{number}", headers=headers).json()["blocked"]:
                assert time.monotonic() - removed < 1.0
                time.sleep(0.01)
        assert max(lags) < 1.0
    finally:
        stop_server(first)
        stop_server(second)
