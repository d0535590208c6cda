"""Check outcomes counted: in memory as checks are answered, flushed as additive upserts, read
back by `/v1/stats` and `/v1/groups/{id}/stale`; across processes and nodes, and through a
crash (a process killed with -9 loses at most its last flush interval)."""

from __future__ import annotations

import csv
import io
import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from prometheus_client.mmap_dict import MmapedDict

from callblock import files
from callblock.domain import (
    CampaignById,
    GroupById,
    GroupNotFound,
    InvalidInput,
    RequestedNumber,
    Surface,
)
from callblock.service import Service
from callblock.store import Store
from callblock.store import stats as stat_rows
from callblock.usecases.check_counts import Retention
from callblock.usecases.check_counts import prune as prune_counts
from tests.conftest import ENGINES, fresh_database, wait_for_rechecks
from tests.helpers import FakeClock, bearer
from tests.servers import (
    callblock,
    create_account,
    kill_server,
    start_server,
    stop_server,
    wait_ready,
    workers_of,
)


def _numbers(*e164: str) -> list[RequestedNumber]:
    return [RequestedNumber(n, n) for n in e164]


@pytest.fixture
def counting(store: Store, clock: FakeClock) -> Iterator[Service]:
    """A service that counts its checks, as the server's processes do."""
    yield Service(store, clock=clock, count_checks=True)
    wait_for_rechecks()


def _actor(service: Service, username: str = "sup") -> object:
    issued = service.create_account(username)
    return service.authenticate(username, issued.key, Surface.V1)


def test_checks_are_counted_by_outcome_group_and_entry(counting: Service, clock: FakeClock) -> None:
    actor = _actor(counting)
    dnc = counting.create_group(
        actor, "DNC", "", _numbers("+919800000001", "+91140*"), None
    ).group.id
    spam = counting.create_group(
        actor, "Spam", "", _numbers("+919800000001", "+919800000002"), None
    ).group.id
    assert counting.check(actor, "9800000001", None).blocked  # both groups
    assert counting.check(actor, "01401234567", None).blocked  # the prefix
    assert not counting.check(actor, "9811111111", None).blocked
    assert counting.check(actor, "not a number", None).error is not None
    batch = ["9800000001", "9800000002", "01405555555", "9811111111", "x"] * 100
    counting.check_many(actor, batch, None)
    assert counting.flush_counts() == 504

    stats = counting.stats(actor, bucket="minute", start=None, end=None)
    assert (stats.checks, stats.blocked) == (504, 302)
    assert [(p.checks, p.blocked, p.invalid) for p in stats.series] == [(504, 302, 101)]
    assert {g.name: g.matched for g in stats.by_group} == {"DNC": 202, "Spam": 201}
    # Top entries count single checks: one each.
    top = {(t.group_name, t.pattern): t.hits for t in stats.top_entries}
    assert top == {("DNC", "+919800000001"): 1, ("DNC", "+91140*"): 1, ("Spam", "+919800000001"): 1}
    # A group's matches per bucket, beside every check.
    by_spam = counting.stats(actor, bucket="hour", start=None, end=None, group_id=spam)
    assert [(p.checks, p.matched) for p in by_spam.series] == [(504, 201)]
    # Nothing counted twice: a flush with nothing new adds nothing.
    assert counting.flush_counts() == 0
    again = counting.stats(actor, bucket="day", start=None, end=None, group_id=dnc)
    assert [(p.checks, p.blocked, p.matched) for p in again.series] == [(504, 302, 202)]


def test_minutes_roll_up_into_hours_and_days(counting: Service, clock: FakeClock) -> None:
    actor = _actor(counting)
    counting.create_group(actor, "DNC", "", _numbers("+919800000001"), None)
    for _ in range(3):  # three minutes, one check each; then the next hour, two checks
        counting.check(actor, "9800000001", None)
        clock.advance(minutes=1)
    clock.advance(hours=1)
    counting.check(actor, "9800000001", None)
    counting.check(actor, "9811111111", None)
    counting.flush_counts()
    start = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    end = start + timedelta(hours=3)
    minutes = counting.stats(actor, bucket="minute", start=start, end=end)
    assert [(p.start.minute, p.checks) for p in minutes.series] == [(0, 1), (1, 1), (2, 1), (3, 2)]
    hours = counting.stats(actor, bucket="hour", start=start, end=end)
    assert [(p.start.hour, p.checks, p.blocked) for p in hours.series] == [(12, 3, 3), (13, 2, 1)]
    days = counting.stats(actor, bucket="day", start=start, end=end)
    assert [(p.checks, p.blocked) for p in days.series] == [(5, 4)]


def test_a_campaigns_checks_are_counted_under_it_and_under_every_check(
    counting: Service,
) -> None:
    actor = _actor(counting)
    group = counting.create_group(actor, "DNC", "", _numbers("+919800000001"), None).group.id
    campaign = counting.create_campaign(actor, "Renewals", "", None)
    counting.attach_groups(actor, CampaignById(campaign.id), [group])
    ref = CampaignById(campaign.id)
    assert not counting.check_for_campaign(actor, "9800000001", None, ref).callable
    counting.check_many_for_campaign(actor, ["9800000001", "9811111111"], None, ref)
    counting.check(actor, "9811111111", None)
    counting.flush_counts()
    mine = counting.stats(actor, bucket="minute", start=None, end=None, campaign=ref)
    assert (mine.checks, mine.blocked, mine.campaign_id) == (3, 2, campaign.id)
    every = counting.stats(actor, bucket="minute", start=None, end=None)
    assert (every.checks, every.blocked) == (4, 2)


def test_a_scrub_is_not_counted(counting: Service) -> None:
    actor = _actor(counting)
    counting.create_group(actor, "DNC", "", _numbers("+919800000001"), None)
    counting.scrub_checks.check_many_for_campaign(actor, ["9800000001"] * 10, None, None)
    assert counting.flush_counts() == 0


def test_a_failed_flush_keeps_its_counts_for_the_next(
    counting: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    actor = _actor(counting)
    counting.create_group(actor, "DNC", "", _numbers("+919800000001"), None)
    counting.check(actor, "9800000001", None)
    counting.check_many(actor, ["9800000001", "9811111111"], None)

    def refused(*_args: object) -> None:
        raise RuntimeError("the store refused the write")

    with monkeypatch.context() as patched:
        patched.setattr(stat_rows, "add_counts", refused)
        with pytest.raises(RuntimeError):
            counting.flush_counts()
    counting.check(actor, "9811111111", None)
    assert counting.flush_counts() == 4
    stats = counting.stats(actor, bucket="minute", start=None, end=None)
    assert (stats.checks, stats.blocked) == (4, 2)
    assert [g.matched for g in stats.by_group] == [2]


def test_stale_entries_are_those_no_check_matched_for_n_days(
    counting: Service, clock: FakeClock
) -> None:
    actor = _actor(counting)
    numbers = _numbers("+919800000001", "+919800000002", "+919800000003", "+91140*")
    group = counting.create_group(actor, "DNC", "", numbers, None).group.id
    clock.advance(days=40)
    counting.check(actor, "9800000001", None)  # matched today
    counting.check_many(actor, ["01401234567"], None)  # the prefix, by a batch
    clock.advance(days=10)
    counting.check(actor, "9800000002", None)  # matched ten days later
    counting.flush_counts()
    late = counting.add_numbers(actor, GroupById(group), _numbers("+919800000009"), None)
    assert late.new == 1  # added now: not in the group for 30 days, so not stale
    page = counting.stale_entries(actor, group, days=30, after=None, limit=10)
    assert [e.pattern for e in page.entries] == ["+919800000003"]
    assert page.total == 1
    page = counting.stale_entries(actor, group, days=5, after=None, limit=10)
    assert [e.pattern for e in page.entries] == ["+91140*", "+919800000001", "+919800000003"]
    shown = {e.pattern: page.last_matched.get(e.key) for e in page.entries}
    assert shown["+919800000003"] is None
    assert shown["+919800000001"] == datetime(2026, 7, 11, tzinfo=UTC)
    # Paged in the group's order.
    first = counting.stale_entries(actor, group, days=5, after=None, limit=2)
    rest = counting.stale_entries(actor, group, days=5, after=first.next_after, limit=2)
    assert [e.pattern for e in first.entries + rest.entries] == [e.pattern for e in page.entries]
    assert rest.next_after is None
    with pytest.raises(GroupNotFound):
        counting.stale_entries(actor, 999_999, days=5, after=None, limit=2)


def test_a_range_the_stats_cannot_answer_is_refused(counting: Service) -> None:
    actor = _actor(counting)
    counting.create_group(actor, "DNC", "", _numbers("+919800000001"), None)
    counting.check(actor, "9800000001", None)
    counting.flush_counts()
    now = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    with pytest.raises(InvalidInput):  # backwards
        counting.stats(actor, bucket="minute", start=now, end=now - timedelta(hours=1))
    with pytest.raises(InvalidInput):  # 43,200 minutes: more than an answer holds
        counting.stats(actor, bucket="minute", start=now - timedelta(days=30), end=now)
    # The same month by the hour is answered.
    month = counting.stats(actor, bucket="hour", start=now - timedelta(days=30), end=None)
    assert month.checks == 1
    with pytest.raises(GroupNotFound):
        counting.stats(actor, bucket="hour", start=None, end=None, group_id=999_999)


# --- over HTTP, on real servers -------------------------------------------------------------------


def _stats(url: str, key: str, **params: str) -> dict[str, object]:
    answer = httpx.get(f"{url}/v1/stats", headers=bearer(key), params=params, timeout=30)
    assert answer.status_code == 200, answer.text
    body: dict[str, object] = answer.json()
    return body


def _counted(url: str, key: str) -> int:
    checks = _stats(url, key, bucket="hour")["checks"]
    assert isinstance(checks, int)
    return checks


def _until_counted(url: str, key: str, expected: int, within: float = 15) -> int:
    deadline = time.monotonic() + within
    while (seen := _counted(url, key)) < expected and time.monotonic() < deadline:
        time.sleep(0.2)
    return seen


@pytest.fixture(params=ENGINES)
def engine_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    with fresh_database(request, request.param, tmp_path_factory.mktemp("stats")) as url:
        callblock("account", "create", "operator", database_url=url)  # no demo account
        yield url


def _group_with(url: str, key: str, *numbers: str) -> int:
    made = httpx.post(f"{url}/v1/groups", headers=bearer(key), json={"name": "DNC"}, timeout=30)
    group_id = int(made.json()["id"])
    added = httpx.post(
        f"{url}/v1/groups/{group_id}/numbers",
        headers=bearer(key),
        json={"numbers": list(numbers)},
        timeout=30,
    )
    assert added.status_code == 200, added.text
    return group_id


def _checks_answered_by(metrics_dir: Path, pid: int) -> float:
    """The checks one worker answered, read from its own file of the node's shared metrics
    (``PROMETHEUS_MULTIPROC_DIR``): proof that the worker took part."""
    path = metrics_dir / f"counter_{pid}.db"
    if not path.exists():
        return 0.0
    total = 0.0
    for key, value, *_ in MmapedDict.read_all_values_from_file(str(path)):
        if json.loads(key)[1] == "callblock_checks_total":
            total += value
    return total


@pytest.mark.server
def test_counts_over_two_nodes_of_two_workers_add_up_exactly(
    engine_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nodes = []
    for name in ("a", "b"):  # each node's shared metrics in a directory the test can read
        (tmp_path / name).mkdir()
        monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / name))
        nodes.append(start_server(engine_url, "--workers", "2", stats_flush_seconds="0.5"))
    try:
        for node in nodes:
            wait_ready(node)
        key = create_account("counted", database_url=engine_url)
        _group_with(nodes[0].url, key, "+919800000001")
        time.sleep(1.5)  # the group is seen on every process (the bound is a second)
        sent = {"single": 0, "batch": 0, "blocked": 0}
        lock = threading.Lock()

        def client(node_url: str, rounds: int) -> None:
            for i in range(rounds):
                # A new connection each time: the kernel spreads them over the node's workers.
                number = "9800000001" if i % 4 == 0 else f"98111{i:05d}"
                answer = httpx.get(f"{node_url}/v1/check/{number}", headers=bearer(key))
                assert answer.status_code == 200
                batch = httpx.post(
                    f"{node_url}/v1/check",
                    headers=bearer(key),
                    json={"numbers": ["9800000001", "9811100000", "x"]},
                )
                assert batch.status_code == 200
                with lock:
                    sent["single"] += 1
                    sent["batch"] += 3
                    sent["blocked"] += (i % 4 == 0) + 1

        threads = [
            threading.Thread(target=client, args=(node.url, 60)) for node in nodes for _ in range(3)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        total = sent["single"] + sent["batch"]
        assert _until_counted(nodes[1].url, key, total) == total
        time.sleep(1.5)  # more flushes: nothing is added twice
        stats = _stats(nodes[0].url, key, bucket="minute", to=_later())
        assert (stats["checks"], stats["blocked"]) == (total, sent["blocked"])
        by_group = stats["by_group"]
        assert isinstance(by_group, list)
        assert [g["matched"] for g in by_group] == [sent["blocked"]]
        # Every one of the four processes answered checks, so the sums above add up what
        # each of them counted and flushed on its own.
        for name, node in zip(("a", "b"), nodes, strict=True):
            workers = workers_of(node)
            assert len(workers) == 2
            for pid in workers:
                assert _checks_answered_by(tmp_path / name, pid) > 0, f"worker {pid} of {name}"
    finally:
        for node in nodes:
            stop_server(node)


def _later() -> str:
    return (datetime.now(UTC) + timedelta(minutes=1)).isoformat()


@pytest.mark.server
def test_a_process_killed_with_9_loses_at_most_its_last_flush_interval(engine_url: str) -> None:
    server = start_server(engine_url, stats_flush_seconds="1")
    try:
        wait_ready(server)
        key = create_account("crashed", database_url=engine_url)
        with httpx.Client(base_url=server.url, headers=bearer(key)) as api:
            for _ in range(50):
                assert api.get("/v1/check/9811111111").status_code == 200
            assert _until_counted(server.url, key, 50) == 50  # flushed
            for _ in range(30):
                assert api.get("/v1/check/9811111111").status_code == 200
    finally:
        kill_server(server)
    after = start_server(engine_url, stats_flush_seconds="1")
    try:
        counted = _counted(after.url, key)
        assert 50 <= counted <= 80
    finally:
        stop_server(after)


@pytest.mark.server
def test_a_process_that_stops_cleanly_writes_what_it_counted(engine_url: str) -> None:
    server = start_server(engine_url, stats_flush_seconds="300")  # only the last flush
    key = create_account("stopped", database_url=engine_url)
    try:
        wait_ready(server)
        with httpx.Client(base_url=server.url, headers=bearer(key)) as api:
            for _ in range(25):
                assert api.get("/v1/check/9811111111").status_code == 200
            assert _counted(server.url, key) == 0
    finally:
        stop_server(server)
    after = start_server(engine_url)
    try:
        assert _counted(after.url, key) == 25
    finally:
        stop_server(after)


@pytest.mark.server
def test_stats_and_stale_entries_over_http(engine_url: str) -> None:
    server = start_server(engine_url, stats_flush_seconds="0.3")
    try:
        wait_ready(server)
        key = create_account("http", database_url=engine_url)
        group = _group_with(server.url, key, "+919800000001", "+919800000002")
        with httpx.Client(base_url=server.url, headers=bearer(key), timeout=30) as api:
            time.sleep(1.2)
            assert api.get("/v1/check/9800000001").json()["blocked"]
            assert _until_counted(server.url, key, 1) == 1
            stats = api.get("/v1/stats", params={"bucket": "minute", "group_id": group}).json()
            assert stats["series"][-1]["matched"] == 1
            assert stats["top_entries"][0]["international"] == "+91 98000 00001"
            # Refused: a range backwards, an unknown group, campaign, bucket.
            backwards = {"from": "2026-06-02T00:00:00Z", "to": "2026-06-01T00:00:00Z"}
            assert api.get("/v1/stats", params=backwards).status_code == 422
            assert api.get("/v1/stats", params={"group_id": 999_999}).status_code == 404
            assert api.get("/v1/stats", params={"campaign": "none such"}).status_code == 404
            assert api.get("/v1/stats", params={"bucket": "week"}).status_code == 422
            # Beyond any id a store holds: no such campaign, as the checks answer.
            assert api.get("/v1/stats", params={"campaign": "9" * 25}).status_code == 404
            # The ends of time: answered (nothing was counted there), never a 500.
            for edge in (
                {"from": "9999-12-31T23:00:00Z", "to": "9999-12-31T23:59:59Z"},
                {"to": "9999-12-31T23:59:59Z", "bucket": "day"},
                {"to": "0001-01-01T00:00:00Z"},
                {"to": "0001-01-03T00:00:00Z", "bucket": "day"},
            ):
                answer = api.get("/v1/stats", params=edge)
                assert answer.status_code in (200, 422), (edge, answer.text)
                if answer.status_code == 200:
                    assert answer.json()["checks"] == 0
            future = api.get("/v1/stats", params={"from": "9999-12-31T23:59:59Z"})
            assert future.status_code == 422
            assert "from" in future.json()["errors"]
            # Entries added just now are in no stale listing: they were not there N days ago.
            stale = api.get(f"/v1/groups/{group}/stale", params={"days": 1}).json()
            assert (stale["data"], stale["count"]) == ([], 0)
            as_csv = api.get(f"/v1/groups/{group}/stale", params={"days": 1, "format": "csv"})
            assert as_csv.headers["content-type"].startswith("text/csv")
            rows = list(csv.reader(io.StringIO(as_csv.text)))
            assert rows == [
                ["number", "kind", "status", "expires_at", "note", "created_at", "last_matched_on"]
            ]
            assert api.get("/v1/groups/999999/stale").status_code == 404
            assert api.get(f"/v1/groups/{group}/stale", params={"days": 0}).status_code == 422
    finally:
        stop_server(server)


def test_a_deleted_groups_entry_days_go_with_it(counting: Service, store: Store) -> None:
    actor = _actor(counting)
    group = counting.create_group(actor, "DNC", "", _numbers("+919800000001"), None).group.id
    counting.check(actor, "9800000001", None)
    counting.flush_counts()
    with store.read() as conn:
        assert stat_rows.last_match_days(conn, group, [919800000001]) != {}
    counting.delete_group(actor, group)
    with store.read() as conn:
        assert stat_rows.last_match_days(conn, group, [919800000001]) == {}
    # Its checks stay counted: they happened.
    assert counting.stats(actor, bucket="minute", start=None, end=None).checks == 1


def test_each_level_is_kept_its_own_number_of_days(
    counting: Service, clock: FakeClock, store: Store
) -> None:
    actor = _actor(counting)
    group = counting.create_group(actor, "DNC", "", _numbers("+919800000001"), None).group.id
    counting.check(actor, "9800000001", None)  # on 2026-06-01 at 12:00
    counting.flush_counts()
    clock.advance(days=5)
    counting.check(actor, "9800000001", None)
    counting.flush_counts()
    prune_counts(store, Retention(minute_days=2, hour_days=4, day_days=30), clock())
    since = datetime(2026, 5, 31, tzinfo=UTC)
    minutes = counting.stats(actor, bucket="hour", start=since, end=None)
    assert [p.start.day for p in minutes.series] == [6]  # the first day's hour is gone
    days = counting.stats(actor, bucket="day", start=since, end=None)
    assert [(p.start.day, p.checks) for p in days.series] == [(1, 1), (6, 1)]
    with store.read() as conn:  # minutes: only the last two days'
        starts = [b.start for b in stat_rows.series(conn, actor.account.id, "m", 0, 2**40)]
    assert starts == [int(datetime(2026, 6, 6, 12, 0, tzinfo=UTC).timestamp())]
    # The entry's match days outlive the minutes: kept as long as days are.
    page = counting.stale_entries(actor, group, days=3, after=None, limit=10)
    assert page.total == 0  # it matched today


def test_a_stale_entrys_row_writes_its_instants_as_the_export_does() -> None:
    row = files.stale_row(
        "+919800000001",
        "number",
        "active",
        datetime(2030, 1, 31, 12, 30, tzinfo=UTC),
        None,
        datetime(2026, 6, 1, 17, 30, 27, 554344, tzinfo=UTC),
        datetime(2026, 7, 1, tzinfo=UTC).date(),
    )
    assert row == [
        "+919800000001",
        "number",
        "active",
        "2030-01-31T12:30:00Z",
        "",
        "2026-06-01T17:30:27.554344Z",
        "2026-07-01",
    ]
