"""Faults: a server killed with -9 in the middle of writes and imports, a locked SQLite file, a
full disk, and no database connection to be had. Every acknowledged write survives, nothing
is half written, the answers are the documented 503s with JSON, and service comes back
without a restart."""

from __future__ import annotations

import contextlib
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from fastapi import FastAPI
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from callblock.domain import StoreUnavailable
from callblock.http.app import create_app
from callblock.service import Service
from callblock.settings import Settings
from callblock.store import Store
from tests.conftest import fresh_database
from tests.helpers import basic, bearer, problem
from tests.servers import (
    Server,
    create_account,
    kill_server,
    start_server,
    stop_server,
    wait_ready,
)

pytestmark = pytest.mark.server


def new_account(database_url: str) -> dict[str, str]:
    return bearer(create_account("faulty", database_url=database_url))


def listed_numbers(server: Server, headers: dict[str, str], group: int) -> set[str]:
    found: set[str] = set()
    cursor = None
    while True:
        params: dict[str, str | int] = {"limit": 1000}
        if cursor:
            params["cursor"] = cursor
        page = httpx.get(
            f"{server.url}/v1/groups/{group}/numbers", params=params, headers=headers, timeout=30
        ).json()
        found.update(entry["number"] for entry in page["data"])
        cursor = page.get("next_cursor")
        if not cursor:
            return found


def entries_of(database_url: str, group: int) -> int:
    """The group's entries, counted in the database itself (after a crash, before a restart)."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            query = text("SELECT count(*) FROM entries WHERE group_id = :group")
            count: int = conn.execute(query, {"group": group}).scalar_one()
            return count
    finally:
        engine.dispose()


@contextlib.contextmanager
def running(database_url: str, *args: str, **settings: str) -> Iterator[Server]:
    server = start_server(database_url, *args, **settings)
    try:
        wait_ready(server)
        yield server
    finally:
        if server.process.poll() is None:
            log = stop_server(server)
            assert "Traceback" not in log, log


def test_kill_9_during_writes_keeps_every_acknowledged_add_and_no_partial_one(
    database_url: str,
) -> None:
    headers = new_account(database_url)
    server = start_server(database_url, "--workers", "2")
    wait_ready(server)
    group = httpx.post(f"{server.url}/v1/groups", json={"name": "Crash"}, headers=headers).json()
    acknowledged: list[list[str]] = []
    unanswered: list[list[str]] = []

    def writer(worker: int) -> None:
        with httpx.Client(base_url=server.url, headers=headers, timeout=30) as client:
            for batch_no in range(100_000):
                batch = [f"+919{worker}{batch_no:05d}{n:03d}" for n in range(10)]
                try:
                    answer = client.post(
                        f"/v1/groups/{group['id']}/numbers", json={"numbers": batch}
                    )
                except httpx.HTTPError:
                    unanswered.append(batch)
                    return
                (acknowledged if answer.status_code == 200 else unanswered).append(batch)

    writers = [threading.Thread(target=writer, args=(w,)) for w in range(8)]
    for thread in writers:
        thread.start()
    time.sleep(2)
    kill_server(server)
    for thread in writers:
        thread.join(timeout=60)
    assert len(acknowledged) >= 8, "the kill came before any write was acknowledged"

    with running(database_url) as restarted:
        present = listed_numbers(restarted, headers, group["id"])
    for batch in acknowledged:
        assert set(batch) <= present, "an acknowledged add was lost"
    for batch in unanswered:  # all or nothing
        assert set(batch) <= present or not set(batch) & present, "a write was half done"
    sent = {number for batch in acknowledged + unanswered for number in batch}
    assert present <= sent


def test_kill_9_during_an_http_import_leaves_all_of_it_or_none(
    database_url: str, tmp_path: Path
) -> None:
    headers = new_account(database_url)
    lines = 300_000
    body = "".join(f"9{n:09d}\n" for n in range(8_000_000_00, 8_000_000_00 + lines)).encode()
    for delay in (0.5, 1.5):
        with running(database_url) as server:
            made = httpx.post(
                f"{server.url}/v1/groups", json={"name": f"Import {delay}"}, headers=headers
            ).json()
            answers: list[int] = []

            def upload(
                url: str = server.url, group: int = made["id"], answers: list[int] = answers
            ) -> None:
                with contextlib.suppress(httpx.HTTPError):
                    answer = httpx.post(
                        f"{url}/v1/groups/{group}/numbers:import",
                        content=body,
                        headers={**headers, "Content-Type": "text/csv"},
                        timeout=60,
                    )
                    answers.append(answer.status_code)

            uploader = threading.Thread(target=upload)
            uploader.start()
            time.sleep(delay)
            kill_server(server)
            uploader.join(timeout=60)
        count = entries_of(database_url, made["id"])
        assert count in (0, lines), f"{count} of {lines} entries after a kill at {delay} s"
        if answers == [200]:
            assert count == lines


def test_kill_9_during_a_replace_leaves_the_group_exactly_as_it_was_or_as_the_file(
    database_url: str, tmp_path: Path
) -> None:
    """A replace of a group by a file 90% the same (10% removed, 10% added), killed at two
    moments: the group holds exactly its old entries or exactly the file's, nothing else."""
    headers = new_account(database_url)
    size = 200_000
    old = [f"9{n:09d}" for n in range(8_100_000_00, 8_100_000_00 + size)]
    new = old[size // 10 :] + [f"9{n:09d}" for n in range(8_200_000_00, 8_200_000_00 + size // 10)]
    for delay in (0.5, 1.5):
        with running(database_url) as server:
            made = httpx.post(
                f"{server.url}/v1/groups", json={"name": f"Registry {delay}"}, headers=headers
            ).json()
            path = f"{server.url}/v1/groups/{made['id']}/numbers:import"
            first = httpx.post(path, content="\n".join(old).encode(), headers=headers, timeout=60)
            assert first.status_code == 200, first.text
            answers: list[int] = []

            def replace(path: str = path, answers: list[int] = answers) -> None:
                with contextlib.suppress(httpx.HTTPError):
                    answer = httpx.post(
                        path,
                        params={"mode": "replace"},
                        content="\n".join(new).encode(),
                        headers={**headers, "Content-Type": "text/csv"},
                        timeout=60,
                    )
                    answers.append(answer.status_code)

            uploader = threading.Thread(target=replace)
            uploader.start()
            time.sleep(delay)
            kill_server(server)
            uploader.join(timeout=60)
        held = numbers_of(database_url, made["id"])
        assert held in ({f"+91{n}" for n in old}, {f"+91{n}" for n in new}), delay
        if answers == [200]:
            assert held == {f"+91{n}" for n in new}


def test_kill_9_during_a_change_list_leaves_the_group_exactly_as_it_was_or_changed_whole(
    database_url: str, tmp_path: Path
) -> None:
    """A change list of 100,000 adds and 100,000 deletes on a group of 200,000, killed at
    two moments: the group holds exactly its old entries or exactly the changed ones."""
    headers = new_account(database_url)
    size = 200_000
    old = [f"9{n:09d}" for n in range(8_300_000_00, 8_300_000_00 + size)]
    adds = [f"9{n:09d}" for n in range(8_400_000_00, 8_400_000_00 + size // 2)]
    deletes = old[: size // 2]
    changed = set(old[size // 2 :]) | set(adds)
    body = "".join([*(f"A,{n}\n" for n in adds), *(f"D,{n}\n" for n in deletes)]).encode()
    for delay in (0.5, 1.5):
        with running(database_url) as server:
            made = httpx.post(
                f"{server.url}/v1/groups", json={"name": f"Changed {delay}"}, headers=headers
            ).json()
            path = f"{server.url}/v1/groups/{made['id']}/numbers:import"
            first = httpx.post(path, content="\n".join(old).encode(), headers=headers, timeout=60)
            assert first.status_code == 200, first.text
            answers: list[int] = []

            def apply(path: str = path, answers: list[int] = answers) -> None:
                with contextlib.suppress(httpx.HTTPError):
                    answer = httpx.post(
                        path,
                        params={"mode": "changes"},
                        content=body,
                        headers={**headers, "Content-Type": "text/csv"},
                        timeout=60,
                    )
                    answers.append(answer.status_code)

            uploader = threading.Thread(target=apply)
            uploader.start()
            time.sleep(delay)
            kill_server(server)
            uploader.join(timeout=60)
        held = numbers_of(database_url, made["id"])
        assert held in ({f"+91{n}" for n in old}, {f"+91{n}" for n in changed}), delay
        if answers == [200]:
            assert held == {f"+91{n}" for n in changed}


def numbers_of(database_url: str, group_id: int) -> set[str]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            keys = conn.execute(
                text("SELECT number FROM entries WHERE group_id = :g"), {"g": group_id}
            ).scalars()
            return {f"+{key}" for key in keys}
    finally:
        engine.dispose()


def test_kill_9_during_a_cli_import_leaves_the_group_as_it_was(
    database_url: str, tmp_path: Path
) -> None:
    new_account(database_url)
    lines = 400_000
    path = tmp_path / "big.txt"
    path.write_text("".join(f"9{n:09d}\n" for n in range(7_000_000_00, 7_000_000_00 + lines)))
    engine = create_engine(database_url)
    try:
        for delay in (0.8, 1.6):
            name = f"Imported {delay}"
            command = [sys.executable, "-m", "callblock", "import", "--account", "faulty"]
            process = subprocess.Popen(
                [*command, "--group", name, str(path), "--database-url", database_url],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            time.sleep(delay)
            process.kill()
            finished = process.wait(timeout=30) == 0
            with engine.connect() as conn:
                count = conn.execute(
                    text(
                        "SELECT count(*) FROM entries JOIN groups ON groups.id = entries.group_id "
                        "WHERE groups.name = :name"
                    ),
                    {"name": name},
                ).scalar_one()
            assert count in (0, lines)
            if finished:
                assert count == lines
    finally:
        engine.dispose()


def test_a_locked_sqlite_file_answers_503_with_json_and_recovers(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'locked.db'}"
    headers = new_account(url)
    with running(url, sqlite_busy_timeout_seconds="1") as server:
        group = httpx.post(f"{server.url}/v1/groups", json={"name": "Held"}, headers=headers)
        numbers_url = f"{server.url}/v1/groups/{group.json()['id']}/numbers"
        holder = sqlite3.connect(tmp_path / "locked.db", isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")  # another program holds the write lock
        try:
            refused = httpx.post(numbers_url, json={"numbers": ["9876543210"]}, headers=headers)
            problem(refused, 503)
            assert refused.json()["detail"].startswith("The database is unavailable")
            compat = httpx.post(
                f"{server.url}/CAServicesV3/blockNumberGroupV2.php",
                json={"name": "Also held", "description": "Held", "blockNumbers": "9876543211"},
                headers=headers | {"Authorization": _basic(headers)},
            )
            assert (compat.status_code, compat.json()) == (
                503,
                {"status": "error", "message": "Service unavailable"},
            )
            check = httpx.get(f"{server.url}/v1/check/9876543210", headers=headers)
            assert (check.status_code, check.json()["blocked"]) == (200, False)
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        added = httpx.post(numbers_url, json={"numbers": ["9876543212"]}, headers=headers)
        assert added.status_code == 200  # no restart needed
        assert listed_numbers(server, headers, group.json()["id"]) == {"+919876543212"}


def _basic(headers: dict[str, str]) -> str:
    key = headers["Authorization"].removeprefix("Bearer ")
    return basic("faulty", key)["Authorization"]


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 6 MiB file system of its own (needs root to mount, as CI has)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small file system here: {mounted.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_answers_503_with_json_and_recovers(small_disk: Path) -> None:
    url = f"sqlite:///{small_disk / 'full.db'}"
    headers = new_account(url)
    with running(url) as server:
        group = httpx.post(f"{server.url}/v1/groups", json={"name": "Disk"}, headers=headers)
        numbers_url = f"{server.url}/v1/groups/{group.json()['id']}/numbers"
        filler = small_disk / "filler"
        with filler.open("wb") as out, contextlib.suppress(OSError):
            while True:
                out.write(b"\0" * 65536)
                out.flush()
        batch = [f"+9198{n:08d}" for n in range(2000)]
        refused = httpx.post(numbers_url, json={"numbers": batch}, headers=headers)
        problem(refused, 503)
        assert httpx.get(f"{server.url}/v1/check/9876543210", headers=headers).status_code == 200
        filler.unlink()
        added = httpx.post(numbers_url, json={"numbers": batch}, headers=headers)
        assert added.status_code == 200
        assert listed_numbers(server, headers, group.json()["id"]) == set(batch)


def assert_unavailable(answer: httpx.Response) -> None:
    """The documented answer while the database cannot be had (docs/api.md): a 503 problem."""
    problem(answer, 503)
    assert answer.json()["detail"].startswith("The database is unavailable")


def in_process(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://callblock.test"
    )


@pytest.mark.anyio
async def test_no_free_pooled_connection_is_a_503_not_a_500(database_url: str) -> None:
    engine = create_engine(database_url, pool_size=1, max_overflow=0, pool_timeout=0.2)
    store = Store(engine)
    try:
        service = Service(store)
        headers = bearer(service.create_account("pooled").key)
        app = create_app(Settings(database_url=database_url), service=service)
        async with in_process(app) as client:
            with engine.connect():  # the pool's one connection, held
                with pytest.raises(StoreUnavailable), store.read():
                    pass
                assert_unavailable(await client.get("/v1/groups", headers=headers))
            with store.read():  # given back: works again
                pass
            assert (await client.get("/v1/groups", headers=headers)).status_code == 200
    finally:
        store.dispose()


@pytest.mark.anyio
async def test_a_database_that_refuses_connections_answers_503_and_recovers(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """PostgreSQL at its connection limit (SQLite has no connections to run out of)."""
    with fresh_database(request, "postgresql", tmp_path) as database_url:
        headers = bearer(create_account("spent", database_url=database_url))
        url = make_url(database_url)
        role = f"callblock_limited_{url.database}"
        admin = psycopg.connect(
            host=url.host, port=url.port, user=url.username, dbname=url.database, autocommit=True
        )
        try:
            admin.execute(f'CREATE ROLE "{role}" LOGIN CONNECTION LIMIT 2')
            admin.execute(f'GRANT ALL ON ALL TABLES IN SCHEMA public TO "{role}"')
            admin.execute(f'GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO "{role}"')
            limited = url.set(username=role).render_as_string(hide_password=False)
            app = create_app(Settings(database_url=limited))
            service: Service = app.state.service
            service.store.dispose()  # the app's own pooled connection goes: others take both
            hogs = [
                psycopg.connect(host=url.host, port=url.port, user=role, dbname=url.database)
                for _ in range(2)
            ]
            async with in_process(app) as client:
                try:
                    with pytest.raises(StoreUnavailable):
                        service.account("spent")
                    assert_unavailable(await client.get("/v1/groups", headers=headers))
                finally:
                    for hog in hogs:
                        hog.close()
                assert service.account("spent").username == "spent"  # no restart needed
                assert (await client.get("/v1/groups", headers=headers)).status_code == 200
            service.store.dispose()
        finally:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s",
                (role,),
            )
            admin.execute(f'DROP OWNED BY "{role}"')
            admin.execute(f'DROP ROLE IF EXISTS "{role}"')
            admin.close()
