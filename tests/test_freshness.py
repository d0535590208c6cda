"""A registry's freshness (issue 17, item 5): every import from a file records when it wrote
its group and from which file; `/v1/groups`, the SDK and `callblock group list` show it, and
`/metrics` answers its age, so that an operator can alert before the 31-day limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from prometheus_client.parser import text_string_to_metric_families

from callblock.cli import main
from callblock.cli.groups import age_text
from callblock.cli.operations import recorded_file_name
from callblock.client import Client
from callblock.client import _parse as parse
from callblock.domain import (
    Actor,
    GroupById,
    GroupDetail,
    InvalidInput,
    RequestedNumber,
    StoreUnavailable,
    Surface,
)
from callblock.files import ImportLines
from callblock.service import Service
from callblock.store import Store
from tests.helpers import Credentials, FakeClock, bearer, new_group, problem, snapshot
from tests.test_sdk import SyncASGITransport

AGE = "callblock_group_refresh_age_seconds"


def lines(*numbers: str) -> list[ImportLines]:
    return [ImportLines(range(1, len(numbers) + 1), list(numbers), None)]


def changes(*numbers: str) -> list[ImportLines]:
    """A change list adding each number."""
    return [ImportLines(range(1, len(numbers) + 1), list(numbers), None, ["A"] * len(numbers))]


@pytest.fixture
def actor(service: Service, main_account: Credentials) -> Actor:
    return service.authenticate_key(main_account.key, Surface.V1)


def detail(service: Service, actor: Actor, group_id: int) -> GroupDetail:
    return service.group_detail(actor, group_id)


def test_every_import_from_a_file_records_its_time_and_file_but_an_api_add_does_not(
    service: Service, actor: Actor, clock: FakeClock
) -> None:
    group = service.create_group(actor, "Registry", "", [], None).group.id
    fresh = detail(service, actor, group)
    assert (fresh.refreshed_at, fresh.refreshed_from) == (None, None)

    service.import_entries(actor, GroupById(group), lines("9800000001"), file_name="dnc-1.csv")
    added_at = clock()
    got = detail(service, actor, group)
    assert (got.refreshed_at, got.refreshed_from) == (added_at, "dnc-1.csv")

    clock.advance(hours=1)
    service.add_numbers(
        actor, GroupById(group), [RequestedNumber("9800000002", "+919800000002")], None
    )
    got = detail(service, actor, group)
    assert (got.refreshed_at, got.refreshed_from) == (added_at, "dnc-1.csv")
    assert got.updated_at == clock()  # the add did write the group

    clock.advance(days=2)
    service.import_entries(
        actor, GroupById(group), lines("9800000001"), replace=True, max_removal=1, file_name="b.zip"
    )
    got = detail(service, actor, group)
    assert (got.refreshed_at, got.refreshed_from) == (clock(), "b.zip")

    clock.advance(days=3)
    service.apply_change_list(actor, GroupById(group), changes("9800000003"), file_name=None)
    got = detail(service, actor, group)
    assert (got.refreshed_at, got.refreshed_from) == (clock(), None)  # the name was not said


@pytest.mark.parametrize("name", ["", "x" * 256, "a\x00b", "bad\ud800"])
def test_a_file_name_outside_the_rule_refuses_the_import_and_writes_nothing(
    service: Service, actor: Actor, store: Store, name: str
) -> None:
    group = service.create_group(actor, "Registry", "", [], None).group.id
    before = snapshot(store)
    with pytest.raises(InvalidInput) as info:
        service.import_entries(actor, GroupById(group), lines("9800000001"), file_name=name)
    assert [p.field for p in info.value.problems] == ["file_name"]
    with pytest.raises(InvalidInput):
        service.apply_change_list(actor, GroupById(group), changes("9800000001"), file_name=name)
    assert snapshot(store) == before


def test_a_file_name_of_255_characters_is_kept_whole(service: Service, actor: Actor) -> None:
    group = service.create_group(actor, "Registry", "", [], None).group.id
    name = "é" * 251 + ".zip"
    service.import_entries(actor, GroupById(group), lines("9800000001"), file_name=name)
    assert detail(service, actor, group).refreshed_from == name


@pytest.mark.anyio
async def test_the_groups_answer_refreshed_at_and_refreshed_from_over_http(
    client: httpx.AsyncClient, main_account: Credentials, clock: FakeClock, store: Store
) -> None:
    auth = bearer(main_account)
    created = await new_group(client, main_account, "Registry")
    assert (created["refreshed_at"], created["refreshed_from"]) == (None, None)
    path = f"/v1/groups/{created['id']}/numbers:import"

    imported = await client.post(
        path, params={"file_name": "dnc 2026-12.zip"}, content=b"9800000001\n", headers=auth
    )
    assert imported.status_code == 200, imported.text
    one = (await client.get(f"/v1/groups/{created['id']}", headers=auth)).json()
    assert one["refreshed_from"] == "dnc 2026-12.zip"
    assert datetime.fromisoformat(one["refreshed_at"]) == clock()
    listed = (await client.get("/v1/groups", headers=auth)).json()["data"]
    assert [(g["refreshed_at"], g["refreshed_from"]) for g in listed] == [
        (one["refreshed_at"], "dnc 2026-12.zip")
    ]

    clock.advance(days=1)
    unnamed = await client.post(path, content=b"9800000002\n", headers=auth)
    assert unnamed.status_code == 200, unnamed.text
    one = (await client.get(f"/v1/groups/{created['id']}", headers=auth)).json()
    assert one["refreshed_from"] is None
    assert datetime.fromisoformat(one["refreshed_at"]) == clock()

    before = snapshot(store)
    for name in ("x" * 256, "", "a\x00b"):
        refused = await client.post(
            path, params={"file_name": name}, content=b"9800000003\n", headers=auth
        )
        assert "file_name" in str(problem(refused, 422)), name
    assert snapshot(store) == before


def test_the_sdk_reads_the_refresh_and_tolerates_a_server_without_it(
    app: object, main_account: Credentials, clock: FakeClock
) -> None:
    with Client("http://callblock.test", main_account.key, transport=SyncASGITransport(app)) as c:
        group = c.groups.create("Registry")
        assert (group.refreshed_at, group.refreshed_from) == (None, None)
        answer = c._http.post(  # the SDK has no import: sent as the CLI's remote target does
            f"/v1/groups/{group.id}/numbers:import",
            params={"file_name": "dnc.csv"},
            content=b"9800000001\n",
        )
        assert answer.status_code == 200, answer.text
        got = c.groups.get(group.id)
        assert (got.refreshed_at, got.refreshed_from) == (clock(), "dnc.csv")
        assert [(g.refreshed_at, g.refreshed_from) for g in c.groups.list()] == [
            (clock(), "dnc.csv")
        ]
    at = "2026-06-01T12:00:00Z"
    old = {
        "id": 1,
        "name": "Spam",
        "description": "",
        "direction": "both",
        "active_count": 0,
        "expired_count": 0,
        "created_at": at,
        "updated_at": at,
    }
    assert (parse.group(old).refreshed_at, parse.group(old).refreshed_from) == (None, None)


def ages(text: str) -> dict[tuple[str, str], float]:
    return {
        (sample.labels["account"], sample.labels["group"]): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == AGE
    }


@pytest.mark.anyio
async def test_metrics_answer_the_age_of_every_group_refreshed_from_a_file(
    client: httpx.AsyncClient,
    service: Service,
    main_account: Credentials,
    other_account: Credentials,
    clock: FakeClock,
) -> None:
    mine = service.authenticate_key(main_account.key, Surface.V1)
    theirs = service.authenticate_key(other_account.key, Surface.V1)
    registry = service.create_group(mine, "Registry", "", [], None).group.id
    service.create_group(mine, "Own list", "", [], None)  # never imported: not answered
    service.import_entries(mine, GroupById(registry), lines("9800000001"), file_name="a.csv")
    clock.advance(days=30)
    dnc = service.create_group(theirs, "DNC", "", [], None).group.id
    service.import_entries(theirs, GroupById(dnc), lines("9800000002"))
    clock.advance(hours=2)
    text = (await client.get("/metrics")).text
    assert f"# TYPE {AGE} gauge" in text
    assert ages(text) == {
        ("main", "Registry"): timedelta(days=30, hours=2).total_seconds(),
        ("other", "DNC"): timedelta(hours=2).total_seconds(),
    }


@pytest.mark.anyio
async def test_the_age_is_answered_whichever_worker_is_scraped_in_multiprocess_mode(
    client: httpx.AsyncClient,
    service: Service,
    actor: Actor,
    clock: FakeClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shared = tmp_path / "metrics"  # the database lies in tmp_path: its .db must not be read
    shared.mkdir()
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(shared))
    group = service.create_group(actor, "Registry", "", [], None).group.id
    service.import_entries(actor, GroupById(group), lines("9800000001"))
    clock.advance(days=31, seconds=1)
    assert ages((await client.get("/metrics")).text) == {
        ("main", "Registry"): timedelta(days=31, seconds=1).total_seconds()
    }


@pytest.mark.anyio
async def test_metrics_still_answer_when_the_store_is_away(
    client: httpx.AsyncClient, service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    def away() -> list[object]:
        raise StoreUnavailable("gone")

    monkeypatch.setattr(service, "group_refreshes", away)
    answer = await client.get("/metrics")
    assert answer.status_code == 200
    assert "callblock_http_requests_total" in answer.text
    assert AGE not in answer.text


def test_group_list_says_how_long_ago_and_from_which_file(
    database_url: str, tmp_path: Path
) -> None:
    runner = CliRunner()
    target = ["--account", "gina", "--database-url", database_url]
    made = runner.invoke(main, ["account", "create", "gina", "--database-url", database_url])
    assert made.exit_code == 0, made.output
    numbers = tmp_path / "dnc-2026-12.csv"
    numbers.write_text("9800000001\n")
    imported = runner.invoke(main, ["import", str(numbers), "--group", "Registry", *target])
    assert imported.exit_code == 0, imported.output
    assert runner.invoke(main, ["group", "create", "Own list", *target]).exit_code == 0
    rows = runner.invoke(main, ["group", "list", *target]).stdout.splitlines()[1:]
    assert rows[0].endswith("  Registry (refreshed just now from dnc-2026-12.csv)")
    assert rows[1].endswith("  Own list")


def test_the_cli_records_the_base_name_as_storable_text() -> None:
    assert recorded_file_name(Path("/data/in/dnc-2026-12.zip")) == "dnc-2026-12.zip"
    undecodable = Path(b"dnc-\xff.csv".decode("utf-8", "surrogateescape"))
    assert recorded_file_name(undecodable) == "dnc-\ufffd.csv"
    assert recorded_file_name(Path("x" * 300)) == "x" * 255


@pytest.mark.parametrize(
    ("age", "text"),
    [
        (timedelta(seconds=59), "just now"),
        (timedelta(minutes=1), "1 minute ago"),
        (timedelta(hours=5, minutes=59), "5 hours ago"),
        (timedelta(days=1), "1 day ago"),
        (timedelta(days=31, hours=23), "31 days ago"),
        (timedelta(seconds=-5), "just now"),  # a clock a little behind the server's
    ],
)
def test_ages_are_said_in_their_largest_whole_unit(age: timedelta, text: str) -> None:
    assert age_text(age) == text


def test_a_refresh_time_is_utc(service: Service, actor: Actor) -> None:
    group = service.create_group(actor, "Registry", "", [], None).group.id
    service.import_entries(actor, GroupById(group), lines("9800000001"))
    refreshed = detail(service, actor, group).refreshed_at
    assert refreshed is not None
    assert refreshed.tzinfo is not None
    assert refreshed.utcoffset() == UTC.utcoffset(None)
