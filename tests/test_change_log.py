"""The one write path: every write is one Change, recorded in the change log and the audit
with the account's next version, and applied to the check index after commit."""

from __future__ import annotations

import ast
import inspect
import itertools
import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from callblock.change import Change
from callblock.domain import (
    Action,
    Actor,
    CampaignByName,
    Direction,
    EntryStatus,
    GroupById,
    GroupByName,
    GroupKind,
    GroupScope,
    RequestedNumber,
    StoreUnavailable,
    Surface,
    WriteConflict,
)
from callblock.files.plan import ImportLines
from callblock.numbers import pattern_key
from callblock.service import Service
from callblock.store import Store
from callblock.store import changes as change_rows
from callblock.store import entries as entry_queries
from callblock.store.tables import accounts, audit_events, change_keys, changes
from callblock.timestamps import NEVER, micros
from callblock.usecases import checking, writes
from tests.conftest import Credentials, FakeClock, fresh_database

SRC = Path(__file__).resolve().parents[1] / "src" / "callblock"


def number(e164: str) -> RequestedNumber:
    return RequestedNumber(e164, e164)


def lines(*numbers: str) -> list[ImportLines]:
    return [ImportLines(range(1, len(numbers) + 1), list(numbers), None)]


@pytest.fixture
def actor(service: Service, main_account: Credentials) -> Actor:
    return service.authenticate_key(main_account.key, Surface.V1)


def state(store: Store, account_id: int) -> tuple[int, int, int]:
    """(data_version, audit events, changes) of the account."""
    with store.read() as conn:
        version = conn.execute(
            select(accounts.c.data_version).where(accounts.c.id == account_id)
        ).scalar_one()
        audited = conn.execute(
            select(func.count()).where(audit_events.c.account_id == account_id)
        ).scalar_one()
        logged = conn.execute(
            select(func.count()).where(changes.c.account_id == account_id)
        ).scalar_one()
    return version, audited, logged


def last_change(service: Service, actor: Actor) -> Change:
    found = service.changes(actor, after=0, limit=10_000)
    assert found, "no change recorded"
    return found[-1]


# --- every write use case: version, audit, change log, index -------------------------------

# Each write use case of the service, run once on an account that has group "G" (id known)
# holding +919876543210 and the prefix +91140*; the check that must answer differently after
# it, as (number, blocked before, blocked after), proves the index took the change.
WRITES: dict[str, tuple[Callable[[Service, Actor, int], object], tuple[str, bool, bool] | None]] = {
    "create_group": (
        lambda s, a, g: s.create_group(a, "New", "", [number("+919000000001")], None),
        ("+919000000001", False, True),
    ),
    "add_numbers": (
        lambda s, a, g: s.add_numbers(a, GroupById(g), [number("+919000000002")], None),
        ("+919000000002", False, True),
    ),
    "add_numbers (expiry refresh)": (
        lambda s, a, g: s.add_numbers(
            a, GroupById(g), [number("+919876543210")], s.clock() - timedelta(seconds=1)
        ),
        ("+919876543210", True, False),  # re-set to an expiry already past
    ),
    "remove_numbers": (
        lambda s, a, g: s.remove_numbers(a, GroupById(g), [number("+919876543210")]),
        ("+919876543210", True, False),
    ),
    "remove_numbers (every group)": (
        lambda s, a, g: s.remove_numbers(a, None, [number("+919876543210")]),
        ("+919876543210", True, False),
    ),
    # Run on an account whose group G also holds +919000000009, expired a second ago: an
    # expired entry blocks nothing before or after (the index's removal is held apart, below).
    "purge_expired": (lambda s, a, g: s.purge_expired(a, g), None),
    "update_group (rename)": (
        lambda s, a, g: s.update_group(a, g, name="Renamed"),
        None,
    ),
    "update_group (direction)": (
        lambda s, a, g: s.update_group(a, g, direction=Direction.INBOUND),
        ("+919876543210", True, False),  # checked outbound below
    ),
    "delete_group": (
        lambda s, a, g: s.delete_group(a, g),
        ("+911401234567", True, False),
    ),
    "import_entries": (
        lambda s, a, g: s.import_entries(a, GroupById(g), lines("9000000003", "9000000004")),
        ("+919000000004", False, True),
    ),
    "import_entries (replace)": (
        lambda s, a, g: s.import_entries(
            a, GroupById(g), lines("+919876543210", "9000000006"), replace=True, max_removal=1
        ),
        ("+911401234567", True, False),  # the prefix is not in the file: removed
    ),
    "apply_change_list": (
        lambda s, a, g: s.apply_change_list(
            a,
            GroupById(g),
            [ImportLines(range(1, 3), ["9876543210", "9000000007"], None, ["D", "A"])],
        ),
        ("+919876543210", True, False),
    ),
    "import_entries (new group)": (
        lambda s, a, g: s.import_entries(
            a, GroupByName("Imported"), lines("9000000005"), create=True
        ),
        ("+919000000005", False, True),
    ),
    "set_block_anonymous": (
        lambda s, a, g: s.set_block_anonymous(a, True),
        None,
    ),
    # A region changes how national numbers read (tests/test_v1.py), not an E.164 check.
    "update_settings (region and time zone)": (
        lambda s, a, g: s.update_settings(a, region="GB", timezone="Europe/London"),
        None,
    ),
    "update_group (scope)": (
        lambda s, a, g: s.update_group(a, g, scope=GroupScope.ATTACHED),
        ("+919876543210", True, False),  # an attached group counts in its campaigns only
    ),
    "update_group (kind)": (
        lambda s, a, g: s.update_group(a, g, kind=GroupKind.ALLOW),
        ("+919876543210", True, False),  # an allow group blocks nothing
    ),
    # The campaign writes run on an account that also has campaign "C" (group G attached)
    # and group "H" (not attached): a campaign changes no plain check, and its own checks
    # are held by tests/test_campaigns.py; here, the write path.
    "create_campaign": (lambda s, a, g: s.create_campaign(a, "New", "", None, [g]), None),
    "update_campaign": (
        lambda s, a, g: s.update_campaign(a, CampaignByName("C"), name="Renamed"),
        None,
    ),
    "attach_groups": (
        lambda s, a, g: s.attach_groups(a, CampaignByName("C"), [_group_named(s, a, "H")]),
        None,
    ),
    "detach_groups": (lambda s, a, g: s.detach_groups(a, CampaignByName("C"), [g]), None),
    "delete_campaign": (lambda s, a, g: s.delete_campaign(a, CampaignByName("C")), None),
}


def _group_named(service: Service, actor: Actor, name: str) -> int:
    return service.list_groups(actor, name=name, after=None, limit=1).items[0].group.id


# Service methods that write nothing an account's checks depend on, or only read.
NOT_ACCOUNT_DATA_WRITES = {
    "account",
    "audit",
    "authenticate",
    "authenticate_by_mode",
    "authenticate_key",
    "cached_actor",
    "campaign",
    "campaign_plan",
    "change_feed",
    "changes",
    "check",
    "check_for_campaign",
    "check_many",
    "check_many_for_campaign",
    "list_campaigns",
    "checking_actor",
    "create_account",  # a new account has no data yet (version 0)
    "exporting",
    "group_detail",
    "group_refreshes",  # the operator's read of every account (for /metrics)
    "group_names",
    "has_accounts",
    "has_index",
    "index_entries",
    "issue_key",  # keys: the credential cache follows auth_version
    "issue_key_as",  # the same over HTTP, audited (``writes.record_account_event``)
    "keys_of",
    "revoke_key_as",
    "write_key_use",  # when keys were last used: not account data
    "issue_token",
    "keys",
    "list_accounts",
    "list_entries",
    "list_groups",
    "load_index",
    "refresh_index",
    "listen_for_writes",  # the index follows other processes' writes
    "stop_listening",
    "wait_for_writes",
    "revoke_key",
    "set_auth_mode",
    "store_reachable",
    "stats",  # the insights read the counts; counting writes no account data
    "stale_entries",
}


def test_every_service_operation_is_classified_as_a_write_or_not(service: Service) -> None:
    """A new operation must be added to WRITES (and so to the test below) or named as not
    writing account data: it cannot slip past the audit, version and index checks."""
    operations = {
        name
        for name, value in vars(service).items()
        if inspect.ismethod(value) and not name.startswith("_")
    }
    writes = {name.split(" ")[0] for name in WRITES}
    assert operations == writes | NOT_ACCOUNT_DATA_WRITES


@pytest.mark.parametrize("name", list(WRITES))
def test_a_write_bumps_the_version_audits_logs_and_reaches_the_index(
    service: Service, actor: Actor, name: str
) -> None:
    write, probe = WRITES[name]
    group = service.create_group(
        actor, "G", "", [number("+919876543210"), number("+91140*")], None
    ).group
    if "campaign" in name or "groups" in name:
        service.create_group(actor, "H", "", [], None)
        service.create_campaign(actor, "C", "", None, [group.id])
    if "purge" in name:
        expired = service.clock() - timedelta(seconds=1)
        service.add_numbers(actor, GroupById(group.id), [number("+919000000009")], expired)
    service.load_index()
    before = state(service.store, actor.account.id)
    direction = Direction.OUTBOUND if "direction" in name else None
    if probe is not None:
        assert service.check(actor, probe[0], direction).blocked is probe[1]

    write(service, actor, group.id)

    version, audited, logged = state(service.store, actor.account.id)
    assert (version, audited, logged) == (before[0] + 1, before[1] + 1, before[2] + 1)
    change = last_change(service, actor)
    assert change.version == version
    event = service.audit(actor, group_id=None, number=None, since=None, before=None, limit=1)
    assert event.items[0].action == change.action.value
    index = service.checker.index_of(actor.account.id)
    assert index.version == version  # applied, not left behind
    if probe is not None:
        assert service.check(actor, probe[0], direction).blocked is probe[2]


def test_only_the_write_path_bumps_versions_audits_and_logs() -> None:
    """The queries that number, audit and log a change are called from usecases/writes.py
    alone: a use case cannot write around it."""
    guarded = {"bump_data_version", "record_audit", "record"}
    callers: dict[str, set[str]] = {}
    for path in SRC.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and node.attr in guarded
                and isinstance(node.value, ast.Name)
                and node.value.id in {"account_rows", "audit_rows", "change_rows"}
            ):
                callers.setdefault(node.attr, set()).add(path.relative_to(SRC).as_posix())
    assert callers == {name: {"usecases/writes.py"} for name in guarded}


def test_a_write_that_changes_nothing_records_nothing(service: Service, actor: Actor) -> None:
    group = service.create_group(actor, "G", "", [], None).group
    before = state(service.store, actor.account.id)
    service.remove_numbers(actor, GroupById(group.id), [number("+919876543210")])
    service.update_group(actor, group.id, name="G")
    service.set_block_anonymous(actor, False)
    service.update_settings(actor, region="in", timezone="Asia/Kolkata")  # as created
    assert service.purge_expired(actor, group.id) == 0
    assert state(service.store, actor.account.id) == before


# --- what the log holds --------------------------------------------------------------------


def test_the_log_holds_every_key_with_its_expiry_and_note(
    service: Service, actor: Actor, clock: FakeClock
) -> None:
    expiry = clock.now + timedelta(days=3)
    group = service.create_group(actor, "G", "Desc", [], None, Direction.OUTBOUND).group
    numbers = [number(f"+9190000{i:05d}") for i in range(250)] + [number("+91140*")]
    service.add_numbers(actor, GroupById(group.id), numbers, expiry, note="opt-out")
    service.remove_numbers(actor, GroupById(group.id), numbers[:3])

    created, added, removed = service.changes(actor, after=0)
    assert [c.version for c in (created, added, removed)] == [1, 2, 3]
    assert created.action is Action.CREATE
    assert created.draft.group is not None
    assert (created.draft.group.name, created.draft.group.direction) == ("G", Direction.OUTBOUND)
    assert added.action is Action.ADD
    assert added.draft.added == 251
    assert added.draft.upserted.tolist() == [pattern_key(n.e164) for n in numbers]
    assert set(added.draft.expiries.tolist()) == {micros(expiry)}
    assert added.draft.note == "opt-out"
    assert added.key_id == actor.key_id
    assert added.surface is Surface.V1
    assert removed.draft.removed.tolist() == [pattern_key(n.e164) for n in numbers[:3]]
    assert removed.draft.group_id == group.id


def test_an_import_is_logged_whole_in_blocks(
    service: Service, actor: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(change_rows, "BLOCK_KEYS", 1000)
    texts = [f"9{i:09d}" for i in range(1, 2501)]
    service.import_entries(actor, GroupByName("Big"), lines(*texts), create=True)
    (change,) = service.changes(actor, after=0)
    assert change.action is Action.IMPORT
    assert change.draft.added == 2500
    assert change.draft.upserted.tolist() == sorted(pattern_key(f"+91{t}") for t in texts)
    assert bool((change.draft.expiries == NEVER).all())
    with service.store.read() as conn:
        blocks = conn.execute(select(func.count()).select_from(change_keys)).scalar_one()
    assert blocks == 3
    # The audit keeps its sample; the log has them all.
    event = service.audit(actor, group_id=None, number=None, since=None, before=None, limit=1)
    assert event.items[0].count == 2500
    assert len(event.items[0].sample) == 100


def test_versions_follow_one_another_and_times_follow_versions(
    service: Service, actor: Actor
) -> None:
    group = service.create_group(actor, "G", "", [], None).group
    for i in range(5):
        service.add_numbers(actor, GroupById(group.id), [number(f"+91900000000{i}")], None)
    found = service.changes(actor, after=2)
    assert [c.version for c in found] == [3, 4, 5, 6]
    assert service.changes(actor, after=0, limit=2)[-1].version == 2


# --- retention --------------------------------------------------------------------------------


def test_pruning_drops_old_changes_and_keeps_the_audit(
    store: Store, clock: FakeClock, main_account: Credentials
) -> None:
    service = Service(store, clock=clock, change_log_retention=timedelta(days=7))
    actor = service.authenticate_key(main_account.key, Surface.V1)
    group = service.create_group(actor, "G", "", [number("+919876543210")], None).group
    clock.advance(days=6)
    service.add_numbers(actor, GroupById(group.id), [number("+919876543211")], None)
    clock.advance(days=2)  # the first change is 8 days old, the second 2
    audited = state(store, actor.account.id)[1]
    assert service.writer.prune() == 1
    assert [c.version for c in service.changes(actor, after=0)] == [2]
    with store.read() as conn:
        assert conn.execute(select(func.count()).select_from(change_keys)).scalar_one() == 1
    assert state(store, actor.account.id)[1] == audited


def test_a_long_running_process_prunes_after_its_writes(
    store: Store, clock: FakeClock, main_account: Credentials, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = Service(store, clock=clock, change_log_retention=timedelta(days=7))
    actor = service.authenticate_key(main_account.key, Surface.V1)
    group = service.create_group(actor, "G", "", [], None).group
    clock.advance(days=8)
    monkeypatch.setattr(writes, "PRUNE_INTERVAL_S", 0.0)  # a minute has passed
    service.add_numbers(actor, GroupById(group.id), [number("+919876543210")], None)
    assert [c.version for c in service.changes(actor, after=0)] == [2]


# --- conflicts --------------------------------------------------------------------------------


def test_a_conflicting_write_runs_again_and_is_recorded_once(
    service: Service, actor: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    group = service.create_group(actor, "G", "", [], None).group
    real = entry_queries.upsert_entries
    failures = iter([WriteConflict("deadlock detected"), WriteConflict("deadlock detected")])

    def conflicting(*args: object, **kwargs: object) -> None:
        failure = next(failures, None)
        if failure is not None:
            raise failure
        real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(entry_queries, "upsert_entries", conflicting)
    before = state(service.store, actor.account.id)
    added = service.add_numbers(actor, GroupById(group.id), [number("+919876543210")], None)
    assert added.new == 1
    after = state(service.store, actor.account.id)
    assert (after[0] - before[0], after[1] - before[1], after[2] - before[2]) == (1, 1, 1)


def test_a_conflict_that_outlasts_the_retries_is_answered_as_unavailable(
    service: Service, actor: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    group = service.create_group(actor, "G", "", [], None).group

    def always(*args: object, **kwargs: object) -> None:
        raise WriteConflict("deadlock detected")

    monkeypatch.setattr(entry_queries, "upsert_entries", always)
    before = state(service.store, actor.account.id)
    with pytest.raises(StoreUnavailable):
        service.add_numbers(actor, GroupById(group.id), [number("+919876543210")], None)
    assert state(service.store, actor.account.id) == before


def test_a_real_deadlock_on_postgresql_becomes_a_write_conflict(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """PostgreSQL only: SQLite serialises writers with one lock, so it cannot deadlock."""
    with fresh_database(request, "postgresql", tmp_path) as url:
        store = Store.from_url(url)
        try:
            _deadlock(store)
        finally:
            store.dispose()


def _deadlock(store: Store) -> None:
    with store.write() as conn:
        conn.exec_driver_sql("CREATE TABLE lock_rows (id int PRIMARY KEY)")
        conn.exec_driver_sql("INSERT INTO lock_rows VALUES (1), (2)")
    both_hold = threading.Barrier(2)
    outcomes: list[str] = []

    def lock(first: int, second: int) -> None:
        try:
            with store.write() as conn:
                conn.exec_driver_sql(f"SELECT 1 FROM lock_rows WHERE id = {first} FOR UPDATE")
                both_hold.wait(timeout=10)
                conn.exec_driver_sql(f"SELECT 1 FROM lock_rows WHERE id = {second} FOR UPDATE")
            outcomes.append("committed")
        except WriteConflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=lock, args=pair) for pair in ((1, 2), (2, 1))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["committed", "conflict"]


# --- racing writers ---------------------------------------------------------------------------


def race(count: int, action: Callable[[int], object]) -> list[object]:
    """Run ``action(i)`` for ``count`` threads released at once; their answers in order."""
    start = threading.Barrier(count)
    answers: list[object] = [None] * count
    errors: list[BaseException] = []

    def run(i: int) -> None:
        start.wait(timeout=30)
        try:
            answers[i] = action(i)
        except BaseException as exc:  # reported below with the others
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    return answers


def totals(service: Service, actor: Actor) -> dict[str, int]:
    """Over the account's audit and change log: entries added and removed."""
    events = service.audit(actor, group_id=None, number=None, since=None, before=None, limit=1000)
    logged = service.changes(actor, after=0)
    return {
        "audit add": sum(e.count for e in events.items if e.action == "add"),
        "audit remove": sum(e.count for e in events.items if e.action == "remove"),
        "log added": sum(c.draft.added for c in logged if c.action is not Action.CREATE),
        "log removed": sum(len(c.draft.removed) for c in logged),
    }


def test_twenty_writers_on_one_number_add_it_once_and_remove_it_once(
    service: Service, actor: Actor
) -> None:
    group = service.create_group(actor, "Race", "", [], None).group
    target = [number("+919876543210")]
    added = race(20, lambda i: service.add_numbers(actor, GroupById(group.id), target, None).new)
    assert sum(added) == 1  # type: ignore[arg-type]
    removed = race(20, lambda i: service.remove_numbers(actor, GroupById(group.id), target).deleted)
    assert sum(removed) == 1  # type: ignore[arg-type]
    assert totals(service, actor) == {
        "audit add": 1,
        "audit remove": 1,
        "log added": 1,
        "log removed": 1,
    }
    versions = [c.version for c in service.changes(actor, after=0)]
    assert versions == list(range(1, len(versions) + 1))  # gap-free, in order


def test_writers_adding_and_removing_one_number_at_once_all_succeed_and_add_up(
    service: Service, actor: Actor
) -> None:
    group = service.create_group(actor, "Churn", "", [], None).group
    target = [number("+919876543210")]

    def churn(i: int) -> int:
        if i % 2:
            return -service.remove_numbers(actor, GroupById(group.id), target).deleted
        return service.add_numbers(actor, GroupById(group.id), target, None).new

    for _ in range(3):
        race(10, churn)
    found = totals(service, actor)
    listed = service.list_entries(
        actor, group.id, status=EntryStatus.ALL, q=None, after=None, limit=10
    )
    present = len(listed.items)
    assert found["log added"] - found["log removed"] == present
    assert found["audit add"] == found["log added"]
    assert found["audit remove"] == found["log removed"]


def test_versions_are_gap_free_when_two_connections_race(service: Service, actor: Actor) -> None:
    group = service.create_group(actor, "Two", "", [], None).group

    def writer(i: int) -> None:
        for j in range(15):
            e164 = f"+9190{i}{j:07d}"
            service.add_numbers(actor, GroupById(group.id), [number(e164)], None)

    race(2, writer)
    logged = service.changes(actor, after=0)
    assert [c.version for c in logged] == list(range(1, 32))
    assert all(a.at <= b.at for a, b in itertools.pairwise(logged))
    keys = np.concatenate([c.draft.upserted for c in logged])
    assert len(set(keys.tolist())) == 30


@settings(max_examples=50, deadline=None)
@given(
    keys=st.lists(st.integers(min_value=-(10**15), max_value=10**15), max_size=300),
    never_every=st.integers(min_value=1, max_value=5),
)
def test_key_blocks_give_back_exactly_what_was_written(keys: list[int], never_every: int) -> None:
    """Delta-encoded and compressed blocks: any order, prefixes (negative keys), expiries from
    the past to NEVER; every value comes back exactly."""
    values = np.array(keys, dtype=np.int64)
    expiries = np.array(
        [NEVER if i % never_every == 0 else 1_700_000_000_000_000 + k for i, k in enumerate(keys)],
        dtype=np.int64,
    )
    for array in (values, expiries):
        assert change_rows._array(change_rows._bytes(array)).tolist() == array.tolist()


def test_key_blocks_are_not_compressed_again_by_postgresql(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """PostgreSQL only: its own compression of already compressed blocks cost 0.65 s a million
    keys inside the write (migration 0007 sets STORAGE EXTERNAL)."""
    with fresh_database(request, "postgresql", tmp_path) as url:
        store = Store.from_url(url)
        try:
            with store.read() as conn:
                storage = dict(
                    conn.exec_driver_sql(
                        "SELECT attname, attstorage FROM pg_attribute "
                        "WHERE attrelid = 'change_keys'::regclass AND attname IN "
                        "('keys', 'expiries')"
                    ).all()
                )
        finally:
            store.dispose()
    assert storage == {"keys": "e", "expiries": "e"}


def test_deleting_a_big_group_drops_it_from_the_index_without_a_reload(
    service: Service, actor: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(checking, "APPLY_LIMIT", 10)
    texts = [f"90000000{i:02d}" for i in range(50)]
    group = service.import_entries(actor, GroupByName("Big"), lines(*texts), create=True).group
    service.load_index()
    loaded = service.checker.index_of(actor.account.id)
    service.delete_group(actor, group.id)
    after = service.checker.index_of(actor.account.id)
    assert after is loaded  # applied in place: the 50 entries did not force a reload
    assert not service.check(actor, "9000000001", None).blocked
