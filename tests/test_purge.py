"""Purging a group's expired entries: one write, on both engines, through the service, the
change log, the audit and the check index of this process and of another."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from callblock.domain import (
    Action,
    Actor,
    EntryStatus,
    GroupById,
    GroupNotFound,
    RequestedNumber,
    Surface,
)
from callblock.numbers import pattern_key
from callblock.service import Service
from callblock.store import Store
from tests.conftest import Credentials, FakeClock
from tests.helpers import bearer


def number(e164: str) -> RequestedNumber:
    return RequestedNumber(e164, e164)


@pytest.fixture
def actor(service: Service, main_account: Credentials) -> Actor:
    return service.authenticate_key(main_account.key, Surface.V1)


def patterns(service: Service, actor: Actor, group_id: int) -> list[str]:
    page = service.list_entries(
        actor, group_id, status=EntryStatus.ALL, q=None, after=None, limit=1000
    )
    return [entry.pattern for entry in page.items]


def a_mixed_group(service: Service, actor: Actor, clock: FakeClock) -> int:
    """A group with entries that expire in a minute, in an hour, and never; and one other
    group whose entries expire in a minute too."""
    group = service.create_group(actor, "G", "", [number("+919000000001")], None).group
    soon, later = clock() + timedelta(minutes=1), clock() + timedelta(hours=1)
    expiring = [number("+919000000002"), number("+919000000003"), number("+91140*")]
    service.add_numbers(actor, GroupById(group.id), expiring, soon)
    service.add_numbers(actor, GroupById(group.id), [number("+919000000004")], later)
    other = service.create_group(actor, "Other", "", [], None).group
    service.add_numbers(actor, GroupById(other.id), [number("+919000000002")], soon)
    return group.id


def test_only_the_groups_expired_entries_go(
    service: Service, actor: Actor, clock: FakeClock
) -> None:
    group_id = a_mixed_group(service, actor, clock)
    clock.advance(minutes=1)  # "at or before now": an expiry of exactly now has expired

    assert service.purge_expired(actor, group_id) == 3

    assert patterns(service, actor, group_id) == ["+919000000001", "+919000000004"]
    other = service.list_groups(actor, name="Other", after=None, limit=1).items[0].group.id
    assert patterns(service, actor, other) == ["+919000000002"]  # another group's stay


def test_a_purge_is_one_change_logged_and_audited_whole(
    service: Service, actor: Actor, clock: FakeClock
) -> None:
    group_id = a_mixed_group(service, actor, clock)
    clock.advance(minutes=2)

    service.purge_expired(actor, group_id)

    change = service.changes(actor, after=0)[-1]
    assert change.action is Action.PURGE
    assert change.group_id == group_id
    expected = sorted(pattern_key(p) for p in ("+919000000002", "+919000000003", "+91140*"))
    assert change.draft.removed.tolist() == expected
    assert len(change.draft.upserted) == 0
    (event,) = service.audit(
        actor, group_id=group_id, number=None, since=None, before=None, limit=1
    ).items
    assert (event.action, event.count, event.at) == ("purge", 3, clock())
    assert sorted(event.sample) == ["+91140*", "+919000000002", "+919000000003"]


def test_nothing_expired_records_nothing(service: Service, actor: Actor, clock: FakeClock) -> None:
    group_id = a_mixed_group(service, actor, clock)
    before = service.changes(actor, after=0)[-1].version

    assert service.purge_expired(actor, group_id) == 0

    assert service.changes(actor, after=0)[-1].version == before
    assert len(patterns(service, actor, group_id)) == 5


def test_an_unknown_or_anothers_group_is_not_found(
    service: Service, actor: Actor, other_account: Credentials
) -> None:
    theirs = service.authenticate_key(other_account.key, Surface.V1)
    their_group = service.create_group(theirs, "Theirs", "", [], None).group.id
    with pytest.raises(GroupNotFound):
        service.purge_expired(actor, their_group)
    with pytest.raises(GroupNotFound):
        service.purge_expired(actor, 999_999)


def test_the_index_lets_the_purged_entries_go(
    service: Service, actor: Actor, clock: FakeClock
) -> None:
    group_id = a_mixed_group(service, actor, clock)
    service.load_index()
    index = service.checker.index_of(actor.account.id)
    held = index.numbers.size  # expired numbers stay in the index until removed
    assert "+91140" in index.prefixes
    clock.advance(minutes=2)

    service.purge_expired(actor, group_id)

    assert service.checker.index_of(actor.account.id).numbers.size == held - 2
    assert "+91140" not in service.checker.index_of(actor.account.id).prefixes
    assert service.check(actor, "+919000000004", None).blocked  # still active


def test_another_process_follows_a_purge(database_url: str, clock: FakeClock) -> None:
    writer_store, follower_store = Store.from_url(database_url), Store.from_url(database_url)
    try:
        writer = Service(writer_store, clock=clock)
        follower = Service(follower_store, clock=clock)
        key = writer.create_account("main").key
        actor = writer.authenticate_key(key, Surface.V1)
        group_id = a_mixed_group(writer, actor, clock)
        follower.load_index()
        account = actor.account.id
        held = follower.checker.index_of(account).numbers.size
        assert "+91140" in follower.checker.index_of(account).prefixes
        clock.advance(minutes=2)

        writer.purge_expired(actor, group_id)
        follower.refresh_index()

        index = follower.checker.index_of(account)
        assert index.numbers.size == held - 2
        assert index.version == writer.checker.index_of(account).version
        assert "+91140" not in index.prefixes
    finally:
        writer_store.dispose()
        follower_store.dispose()


# --- over HTTP -------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_http_purge_answers_how_many_went(
    client: httpx.AsyncClient,
    service: Service,
    actor: Actor,
    main_account: Credentials,
    clock: FakeClock,
) -> None:
    group_id = a_mixed_group(service, actor, clock)
    clock.advance(minutes=2)
    url = f"/v1/groups/{group_id}/numbers?status=expired"

    answer = await client.delete(url, headers=bearer(main_account))

    assert (answer.status_code, answer.json()) == (200, {"removed": 3})
    assert patterns(service, actor, group_id) == ["+919000000001", "+919000000004"]
    again = await client.delete(url, headers=bearer(main_account))
    assert (again.status_code, again.json()) == (200, {"removed": 0})


@pytest.mark.anyio
async def test_http_the_body_form_is_unchanged(
    client: httpx.AsyncClient, service: Service, actor: Actor, main_account: Credentials
) -> None:
    group_id = service.create_group(actor, "G", "", [number("+919876543210")], None).group.id
    answer = await client.request(
        "DELETE",
        f"/v1/groups/{group_id}/numbers",
        headers=bearer(main_account),
        json={"numbers": ["+919876543210", "+919876543299"]},
    )
    assert answer.status_code == 200
    assert answer.json() == {"removed": 1, "not_found": ["+919876543299"], "invalid": []}


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("query", "body", "field", "message"),
    [
        ("?status=expired", {"numbers": ["+919876543210"]}, "body", "send no body"),
        ("?status=active", None, "status", "expired"),
        ("?status=all", {"numbers": ["+919876543210"]}, "status", "expired"),
        ("", None, "body", "Field required"),
    ],
)
async def test_http_a_wrong_mix_is_refused_and_writes_nothing(
    client: httpx.AsyncClient,
    service: Service,
    actor: Actor,
    main_account: Credentials,
    clock: FakeClock,
    query: str,
    body: dict[str, object] | None,
    field: str,
    message: str,
) -> None:
    group_id = a_mixed_group(service, actor, clock)
    clock.advance(minutes=2)
    before = service.changes(actor, after=0)[-1].version

    answer = await client.request(
        "DELETE", f"/v1/groups/{group_id}/numbers{query}", headers=bearer(main_account), json=body
    )

    assert answer.status_code == 422
    assert message in answer.json()["errors"][field]
    assert service.changes(actor, after=0)[-1].version == before
    assert len(patterns(service, actor, group_id)) == 5


@pytest.mark.anyio
async def test_http_an_unknown_or_anothers_group_is_404(
    client: httpx.AsyncClient,
    service: Service,
    main_account: Credentials,
    other_account: Credentials,
) -> None:
    theirs = service.authenticate_key(other_account.key, Surface.V1)
    their_group = service.create_group(theirs, "Theirs", "", [], None).group.id
    for group_id in (their_group, 999_999):
        answer = await client.delete(
            f"/v1/groups/{group_id}/numbers?status=expired", headers=bearer(main_account)
        )
        assert answer.status_code == 404
