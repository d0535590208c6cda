"""Replacing a group with a file, and applying a change list (issue 17, items 1 and 2): the
group becomes exactly the file's entries, or has the list's lines applied in order, all or
nothing, in one change every index applies whole; a replace that would remove too much is
refused and writes nothing."""

from __future__ import annotations

import threading
from datetime import timedelta

import httpx
import pytest

from callblock.domain import (
    Action,
    Actor,
    EntryStatus,
    GroupById,
    ImportRejected,
    RequestedNumber,
    Surface,
    TooManyRemovals,
)
from callblock.files import ImportLines
from callblock.files.plan import OP_RULE
from callblock.service import Service
from callblock.store import Store
from tests.helpers import Credentials, FakeClock, bearer, new_group, problem, snapshot

OLD = [f"98000{i:05d}" for i in range(10)]  # the group before: 10 numbers


def lines(*numbers: str) -> list[ImportLines]:
    return [ImportLines(range(1, len(numbers) + 1), list(numbers), None)]


@pytest.fixture
def actor(service: Service, main_account: Credentials) -> Actor:
    return service.authenticate_key(main_account.key, Surface.V1)


@pytest.fixture
def group(service: Service, actor: Actor, clock: FakeClock) -> int:
    created = service.create_group(actor, "Registry", "", [], None)
    service.import_entries(actor, GroupById(created.group.id), lines(*OLD))
    clock.advance(hours=1)  # so a kept entry's created_at is told apart from the replace's time
    return created.group.id


def entries(service: Service, actor: Actor, group_id: int) -> dict[str, object]:
    return {
        entry.pattern: entry.created_at
        for entry in service.list_entries(
            actor, group_id, status=EntryStatus.ALL, q=None, after=None, limit=1000
        ).items
    }


def test_a_replace_leaves_exactly_the_files_entries_and_keeps_their_created_at(
    service: Service, actor: Actor, group: int, clock: FakeClock
) -> None:
    before = entries(service, actor, group)
    new = [*OLD[:9], "9811111111"]  # one gone, one added: a 10% change
    result = service.import_entries(actor, GroupById(group), lines(*new), replace=True)
    assert (result.added, result.updated, result.removed) == (1, 9, 1)
    after = entries(service, actor, group)
    assert set(after) == {f"+91{n}" for n in new}
    for number in OLD[:9]:
        assert after[f"+91{number}"] == before[f"+91{number}"]
    assert after["+919811111111"] == clock()
    change = service.changes(actor, after=0, limit=100)[-1]
    assert change.action is Action.REPLACE
    assert [int(k) for k in change.draft.removed] == [int(f"91{OLD[9]}")]
    # Only what was written: the entries kept as they were are not written again.
    assert [int(k) for k in change.draft.upserted] == [919811111111]
    event = service.audit(actor, group_id=group, number=None, since=None, before=None, limit=1)
    assert event.items[0].action == "replace"
    assert event.items[0].detail == {"added": 1, "kept": 9, "removed": 1}
    checks = service.check_many(actor, [OLD[9], "9811111111"], None)
    assert checks.group_ids == [[], [group]]


def test_a_replace_without_expiries_clears_the_expiry_of_the_entries_it_keeps(
    service: Service, actor: Actor, group: int, clock: FakeClock
) -> None:
    """The file says the entry is there, without an expiry: it stays, and no longer expires
    (as an import of the same line into the group would leave it)."""
    soon = clock() + timedelta(days=1)
    service.add_numbers(
        actor, GroupById(group), [RequestedNumber(f"+91{OLD[0]}", f"+91{OLD[0]}")], soon
    )
    service.import_entries(actor, GroupById(group), lines(*OLD), replace=True)
    listed = service.list_entries(
        actor, group, status=EntryStatus.ALL, q=None, after=None, limit=1000
    ).items
    assert {e.pattern: e.expires_at for e in listed}[f"+91{OLD[0]}"] is None
    change = service.changes(actor, after=0, limit=100)[-1]
    assert [int(k) for k in change.draft.upserted] == [int(f"91{OLD[0]}")]
    clock.advance(days=2)
    assert service.check(actor, OLD[0], None).blocked


def test_a_replace_that_would_remove_too_much_is_refused_and_writes_nothing(
    service: Service, actor: Actor, group: int, store: Store
) -> None:
    before = snapshot(store)
    truncated = OLD[:7]  # 3 of 10 gone: more than the default 20%
    with pytest.raises(TooManyRemovals) as refused:
        service.import_entries(actor, GroupById(group), lines(*truncated), replace=True)
    assert (refused.value.removing, refused.value.present) == (3, 10)
    assert snapshot(store) == before
    forced = service.import_entries(
        actor, GroupById(group), lines(*truncated), replace=True, max_removal=1
    )
    assert forced.removed == 3
    assert set(entries(service, actor, group)) == {f"+91{n}" for n in truncated}


def test_another_process_sees_the_old_list_or_the_new_one_never_a_mix(
    service: Service, actor: Actor, group: int, store: Store, clock: FakeClock
) -> None:
    """A second service on the same database (another worker or node) follows the replace
    from the change log: a reader checking, all the while, a number the replace removes and
    one it adds sees both answers move at once."""
    other = Service(store, clock=clock)
    other.load_index()
    other_actor = Actor(other.account(actor.account.username), None, Surface.V1)
    gone, added = OLD[9], "9811111111"
    seen: set[tuple[bool, bool]] = set()
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            answer = other.check_many(other_actor, [gone, added], None).group_ids
            seen.add((bool(answer[0]), bool(answer[1])))

    thread = threading.Thread(target=read)
    thread.start()
    try:
        index_before = other.checker.index_of(actor.account.id)
        service.import_entries(actor, GroupById(group), lines(*OLD[:9], added), replace=True)
        other.refresh_index()
        index_after = other.checker.index_of(actor.account.id)
    finally:
        stop.set()
        thread.join()
    # Applied as a new index swapped in whole, not entry by entry into the one being read.
    assert index_after is not index_before
    assert index_after.version == service.checker.index_of(actor.account.id).version
    assert seen <= {(True, False), (False, True)}
    assert other.check_many(other_actor, [gone, added], None).group_ids == [[], [group]]


@pytest.mark.anyio
async def test_replace_over_http(client: httpx.AsyncClient, main_account: Credentials) -> None:
    auth = bearer(main_account)
    created = await new_group(client, main_account, "Registry")
    path = f"/v1/groups/{created['id']}/numbers:import"
    first = await client.post(path, content="\n".join(OLD).encode(), headers=auth)
    assert first.json()["added"] == 10
    truncated = "\n".join(OLD[:5]).encode()
    refused = await client.post(path, params={"mode": "replace"}, content=truncated, headers=auth)
    body = problem(refused, 409)
    assert body["type"].endswith("too-many-removals")
    assert (body["removing"], body["present"], body["max_removal"]) == (5, 10, 0.2)
    replaced = await client.post(
        path,
        params={"mode": "replace", "max_removal": "0.5"},
        content=truncated,
        headers=auth,
    )
    assert replaced.status_code == 200, replaced.text
    assert (replaced.json()["added"], replaced.json()["removed"]) == (0, 5)
    listing = await client.get(f"/v1/groups/{created['id']}/numbers", headers=auth)
    assert sorted(e["number"] for e in listing.json()["data"]) == [f"+91{n}" for n in OLD[:5]]
    for wrong in ({"mode": "swap"}, {"mode": "replace", "max_removal": "1.5"}):
        answer = await client.post(path, params=wrong, content=truncated, headers=auth)
        assert answer.status_code == 422, wrong


# --- change lists (issue 17, item 2) -----------------------------------------------------------


def change_lines(*rows: tuple[str, str]) -> list[ImportLines]:
    return [
        ImportLines(range(1, len(rows) + 1), [n for _, n in rows], None, [op for op, _ in rows])
    ]


def test_a_change_list_adds_and_deletes_in_the_files_order(
    service: Service, actor: Actor, group: int
) -> None:
    result = service.apply_change_list(
        actor,
        GroupById(group),
        change_lines(
            ("D", OLD[0]),
            ("delete", OLD[1]),
            ("-", "9822222222"),  # not in the group: nothing to delete
            ("A", "9811111111"),
            ("+", "9811111112"),
            ("add", OLD[2]),  # already there: kept
            ("d", "9811111112"),  # added above, deleted after: the last line decides
            ("a", OLD[0]),  # deleted above, added after: kept
        ),
    )
    # Removed: OLD[1] alone (9811111112 was never in the group; OLD[0] comes back).
    assert (result.added, result.updated, result.removed) == (1, 2, 1)
    after = set(entries(service, actor, group))
    assert after == {f"+91{n}" for n in [*OLD[2:], OLD[0], "9811111111"]}
    change = service.changes(actor, after=0, limit=100)[-1]
    assert change.action is Action.CHANGE_LIST
    assert [int(k) for k in change.draft.removed] == [int(f"91{OLD[1]}")]
    event = service.audit(actor, group_id=group, number=None, since=None, before=None, limit=1)
    assert event.items[0].detail == {"added": 1, "kept": 2, "removed": 1}


def test_a_change_list_with_an_unreadable_line_changes_nothing(
    service: Service, actor: Actor, group: int, store: Store
) -> None:
    before = snapshot(store)
    with pytest.raises(ImportRejected) as refused:
        service.apply_change_list(
            actor,
            GroupById(group),
            change_lines(("D", OLD[0]), ("X", "9811111111"), ("A", "12")),
        )
    assert [(line.line, line.reason) for line in refused.value.lines] == [
        (2, OP_RULE),
        (3, "not a valid phone number"),
    ]
    assert snapshot(store) == before


@pytest.mark.anyio
async def test_change_lists_over_http(client: httpx.AsyncClient, main_account: Credentials) -> None:
    auth = {**bearer(main_account), "Content-Type": "text/csv"}
    created = await new_group(client, main_account, "Registry")
    path = f"/v1/groups/{created['id']}/numbers:import"
    await client.post(path, content="\n".join(OLD).encode(), headers=auth)
    # Headerless, the operation found by its values; then a header naming the columns.
    first = await client.post(
        path,
        params={"mode": "changes"},
        content=f"D,{OLD[0]}\nA,9811111111\n".encode(),
        headers=auth,
    )
    assert first.status_code == 200, first.text
    assert (first.json()["added"], first.json()["removed"]) == (1, 1)
    second = await client.post(
        path,
        params={"mode": "changes"},
        content=f"number,action\n{OLD[1]},delete\n".encode(),
        headers=auth,
    )
    assert second.json()["removed"] == 1
    third = await client.post(
        path,
        params={"mode": "changes", "op_column": "2"},
        content=f"{OLD[2]};-\n".encode(),
        headers=auth,
    )
    assert third.json()["removed"] == 1
    no_ops = await client.post(
        path, params={"mode": "changes"}, content=b"9811111113\n", headers=auth
    )
    assert problem(no_ops, 400)["type"].endswith("unreadable-file")
    bad = await client.post(
        path, params={"mode": "changes"}, content=b"A,9811111113\nZ,9811111114\n", headers=auth
    )
    assert problem(bad, 422)["invalid_lines"] == [
        {"line": 2, "input": "9811111114", "reason": OP_RULE}
    ]
    listing = await client.get(f"/v1/groups/{created['id']}/numbers", headers=bearer(main_account))
    assert sorted(e["number"] for e in listing.json()["data"]) == sorted(
        [f"+91{n}" for n in OLD[3:]] + ["+919811111111"]
    )
