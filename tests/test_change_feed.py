"""The public change feed (`GET /v1/changes`) and the SDK's `changes` and `Mirror`: every kind
of change in order, big changes in parts, the group filter, tokens bound to their account,
resets after the log's retention, and a local copy that answers as the server does."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator
from datetime import timedelta
from typing import Any, TypeVar

import httpx
import numpy as np
import pytest
from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from callblock.change import Change, Draft
from callblock.change_tokens import ChangeTokens, Position
from callblock.client import (
    AsyncClient,
    AsyncMirror,
    CallingWindow,
    ChangedCampaign,
    ChangedGroup,
    ChangesReset,
    Client,
    Mirror,
    ValidationError,
)
from callblock.domain import Action, Actor, Direction, GroupById, RequestedNumber, Surface
from callblock.files.plan import ImportLines
from callblock.http.app import create_app
from callblock.service import Service
from callblock.settings import Settings
from callblock.store import Store
from callblock.store import changes as change_rows
from callblock.throttle import RequestRate
from callblock.timestamps import NEVER
from tests.conftest import wait_for_rechecks
from tests.helpers import Credentials, FakeClock, add_numbers, bearer, new_group, problem, snapshot
from tests.test_sdk import SyncASGITransport, run

pytestmark = pytest.mark.anyio
T = TypeVar("T")

SECRET = "feed-secret-" + "x" * 40
INVALID_TOKEN = "urn:callblock:problem:invalid-change-token"


@pytest.fixture
def service(store: Store, clock: FakeClock) -> Iterator[Service]:
    """With a known secret key, so that a test can make tokens the server would (a token of a
    position the server never hands out)."""
    yield Service(store, clock=clock, secret_key=SECRET)
    wait_for_rechecks()


@pytest.fixture
def actor(service: Service, main_account: Credentials) -> Actor:
    return service.authenticate_key(main_account.key, Surface.V1)


async def collect(items: Iterable[T] | AsyncIterable[T]) -> list[T]:
    """Every item of a sync or an async iterable (a listing, a change feed)."""
    if isinstance(items, AsyncIterable):
        return [item async for item in items]
    return list(items)


def number(e164: str) -> RequestedNumber:
    return RequestedNumber(e164, e164)


async def feed(
    client: httpx.AsyncClient, who: Credentials, since: str | None = None, **params: Any
) -> dict[str, Any]:
    """One answer of the feed."""
    query = {k: str(v) for k, v in params.items()}
    if since is not None:
        query["since"] = since
    answer = await client.get("/v1/changes", params=query, headers=bearer(who))
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def follow(
    client: httpx.AsyncClient, who: Credentials, since: str, **params: Any
) -> tuple[list[dict[str, Any]], str]:
    """Every change after ``since``, answer after answer until caught up, and the last `next`."""
    changes: list[dict[str, Any]] = []
    while True:
        body = await feed(client, who, since, **params)
        assert body["reset"] is False
        changes += body["changes"]
        since = body["next"]
        if not body["more"]:
            return changes, since


async def start(client: httpx.AsyncClient, who: Credentials) -> str:
    body = await feed(client, who)
    assert (body["changes"], body["more"], body["reset"]) == ([], False, False)
    token: str = body["next"]
    return token


def plain(change: dict[str, Any]) -> dict[str, Any]:
    """A change without what varies from run to run (its time, its tokens)."""
    return {k: v for k, v in change.items() if k not in ("at", "token")}


# --- the feed over HTTP ---------------------------------------------------------------------------


async def test_without_since_no_changes_and_the_token_of_now(
    client: httpx.AsyncClient, main_account: Credentials
) -> None:
    empty = await start(client, main_account)
    assert await follow(client, main_account, empty) == ([], empty)

    group = await new_group(client, main_account, "Spam")
    await add_numbers(client, main_account, group["id"], ["9876543210"])
    now = await start(client, main_account)

    assert now != empty
    assert [c["version"] for c in (await follow(client, main_account, empty))[0]] == [1, 2]
    assert await follow(client, main_account, now) == ([], now)  # nothing after now


async def test_every_kind_of_change_appears_in_order(
    client: httpx.AsyncClient,
    service: Service,
    actor: Actor,
    clock: FakeClock,
    main_account: Credentials,
) -> None:
    since = await start(client, main_account)
    a = await new_group(client, main_account, "Spam", description="from complaints")
    soon = clock.now + timedelta(days=30)
    await add_numbers(
        client,
        main_account,
        a["id"],
        ["9876543210", "140*"],
        expires_at=soon.isoformat(),
        note="n1",
    )
    await add_numbers(client, main_account, a["id"], ["9876543210"])  # only an expiry again
    patched = await client.patch(
        f"/v1/groups/{a['id']}", json={"name": "Scam"}, headers=bearer(main_account)
    )
    assert patched.status_code == 200
    patched = await client.patch(
        f"/v1/groups/{a['id']}", json={"direction": "inbound"}, headers=bearer(main_account)
    )
    assert patched.status_code == 200
    b = await new_group(client, main_account, "Vendors", direction="outbound")
    imported = await client.post(
        f"/v1/groups/{b['id']}/numbers:import",
        content=b"phone\n9000000001\n9000000002\n",
        headers={**bearer(main_account), "Content-Type": "text/csv"},
    )
    assert imported.status_code == 200, imported.text
    removed = await client.request(
        "DELETE",
        f"/v1/groups/{b['id']}/numbers",
        json={"numbers": ["9000000001"]},
        headers=bearer(main_account),
    )
    assert removed.json()["removed"] == 1
    service.remove_numbers(actor, None, [number("+919876543210")])  # from every group
    settings = await client.patch(
        "/v1/account", json={"block_anonymous": True}, headers=bearer(main_account)
    )
    assert settings.status_code == 200
    campaign = await client.post(
        "/v1/campaigns",
        json={
            "name": "Spring",
            "calling_window": {"days": ["mon"], "start": "09:00", "end": "17:00"},
            "group_ids": [b["id"]],
        },
        headers=bearer(main_account),
    )
    assert campaign.status_code == 201, campaign.text
    deleted = await client.delete(f"/v1/groups/{a['id']}", headers=bearer(main_account))
    assert deleted.status_code == 204

    changes, _ = await follow(client, main_account, since)

    base = {
        "group": None,
        "campaign": None,
        "upserted": [],
        "removed": [],
        "block_anonymous": None,
        "note": None,
        "continued": False,
    }
    expiry = soon.isoformat().replace("+00:00", "Z")
    roles = {"kind": "block", "scope": "global", "consent_overrides": False}
    state_a = {
        "id": a["id"],
        "name": "Spam",
        "description": "from complaints",
        "direction": "both",
        **roles,
    }
    assert [plain(c) for c in changes] == [
        {**base, "version": 1, "action": "create", "group_id": a["id"], "group": state_a},
        {
            **base,
            "version": 2,
            "action": "add",
            "group_id": a["id"],
            "upserted": [
                {"number": "+919876543210", "expires_at": expiry},
                {"number": "+91140*", "expires_at": expiry},
            ],
            "note": "n1",
        },
        {
            **base,
            "version": 3,
            "action": "expire-refresh",
            "group_id": a["id"],
            "upserted": [{"number": "+919876543210", "expires_at": None}],
        },
        {
            **base,
            "version": 4,
            "action": "rename",
            "group_id": a["id"],
            "group": {**state_a, "name": "Scam"},
        },
        {
            **base,
            "version": 5,
            "action": "update",
            "group_id": a["id"],
            "group": {**state_a, "name": "Scam", "direction": "inbound"},
        },
        {
            **base,
            "version": 6,
            "action": "create",
            "group_id": b["id"],
            "group": {
                "id": b["id"],
                "name": "Vendors",
                "description": "",
                "direction": "outbound",
                **roles,
            },
        },
        {
            **base,
            "version": 7,
            "action": "import",
            "group_id": b["id"],
            "upserted": [
                {"number": "+919000000001", "expires_at": None},
                {"number": "+919000000002", "expires_at": None},
            ],
        },
        {
            **base,
            "version": 8,
            "action": "remove",
            "group_id": b["id"],
            "removed": ["+919000000001"],
        },
        {**base, "version": 9, "action": "remove", "group_id": None, "removed": ["+919876543210"]},
        {**base, "version": 10, "action": "settings", "group_id": None, "block_anonymous": True},
        {
            **base,
            "version": 11,
            "action": "campaign-create",
            "group_id": None,
            "campaign": {
                "id": campaign.json()["id"],
                "name": "Spring",
                "description": "",
                "calling_window": {"days": ["mon"], "start": "09:00", "end": "17:00"},
                "group_ids": [b["id"]],
            },
        },
        {**base, "version": 12, "action": "delete", "group_id": a["id"]},
    ]
    assert all(c["at"] == clock.now.isoformat().replace("+00:00", "Z") for c in changes)


async def test_each_changes_token_resumes_right_after_it(
    client: httpx.AsyncClient, main_account: Credentials
) -> None:
    since = await start(client, main_account)
    group = await new_group(client, main_account)
    for n in range(4):
        await add_numbers(client, main_account, group["id"], [f"987654321{n}"])

    first = await feed(client, main_account, since, limit=2)
    assert ([c["version"] for c in first["changes"]], first["more"]) == ([1, 2], True)
    assert first["next"] == first["changes"][-1]["token"]
    after_one = await follow(client, main_account, first["changes"][0]["token"])
    assert [c["version"] for c in after_one[0]] == [2, 3, 4, 5]
    rest, last = await follow(client, main_account, first["next"], limit=2)
    assert [c["version"] for c in rest] == [3, 4, 5]
    assert last == rest[-1]["token"]


async def test_a_big_change_comes_in_parts_of_bounded_size(
    client: httpx.AsyncClient, service: Service, actor: Actor, main_account: Credentials
) -> None:
    """An import of 25,000 numbers is more than one answer holds (10,000 entries): it comes
    in three parts of the same version, each but the last `continued`, which add up to the
    import in its order; the change after it follows."""
    since = await start(client, main_account)
    numbers = [f"9{n:09d}" for n in range(25_000)]
    group = service.create_group(actor, "Registry", "", [], None).group
    service.import_entries(
        actor, GroupById(group.id), [ImportLines(range(1, 25_001), numbers, None)]
    )
    service.remove_numbers(actor, GroupById(group.id), [number("+919000000007")])

    answers = []
    while True:
        body = await feed(client, main_account, since)
        answers.append(body)
        since = body["next"]
        if not body["more"]:
            break

    assert [
        [(c["version"], len(c["upserted"]), c["continued"]) for c in a["changes"]] for a in answers
    ] == [
        [(1, 0, False), (2, 10_000, True)],  # the group's creation takes no room
        [(2, 10_000, True)],
        [(2, 5_000, False), (3, 0, False)],
    ]
    parts = [c for a in answers for c in a["changes"] if c["version"] == 2]
    assert [e["number"] for p in parts for e in p["upserted"]] == ["+91" + n for n in numbers]
    assert all(p["action"] == "import" and p["group_id"] == group.id for p in parts)
    assert answers[-1]["changes"][-1]["removed"] == ["+919000000007"]
    # A part's token resumes inside the change: the rest of it, then what follows.
    rest, _ = await follow(client, main_account, answers[0]["changes"][-1]["token"])
    assert sum(len(c["upserted"]) for c in rest) == 15_000
    assert rest[-1]["version"] == 3


async def test_group_id_keeps_the_groups_changes_and_removals_from_every_group(
    client: httpx.AsyncClient, service: Service, actor: Actor, main_account: Credentials
) -> None:
    since = await start(client, main_account)
    a = await new_group(client, main_account, "Group A")
    b = await new_group(client, main_account, "Group B")
    await add_numbers(client, main_account, a["id"], ["9876543210"])
    await add_numbers(client, main_account, b["id"], ["9876543211"])
    service.remove_numbers(actor, None, [number("+919876543210")])  # concerns every group
    service.set_block_anonymous(actor, True)  # the account's, not a group's
    await add_numbers(client, main_account, b["id"], ["9876543212"])

    of_a, next_a = await follow(client, main_account, since, group_id=a["id"])
    assert [(c["version"], c["action"], c["group_id"]) for c in of_a] == [
        (1, "create", a["id"]),
        (3, "add", a["id"]),
        (5, "remove", None),
    ]
    # Caught up: the next token is past the changes the filter left out.
    assert next_a == await start(client, main_account)
    assert await follow(client, main_account, next_a, group_id=a["id"]) == ([], next_a)
    # One change at a time: what the filter skips costs no answer of its own.
    one = await feed(client, main_account, since, group_id=b["id"], limit=1)
    assert [c["version"] for c in one["changes"]] == [2]

    deleted = await client.delete(f"/v1/groups/{a['id']}", headers=bearer(main_account))
    assert deleted.status_code == 204
    gone, _ = await follow(client, main_account, next_a, group_id=a["id"])
    assert [(c["action"], c["group_id"]) for c in gone] == [("delete", a["id"])]


async def test_tokens_of_another_account_altered_or_malformed_are_400(
    client: httpx.AsyncClient,
    store: Store,
    main_account: Credentials,
    other_account: Credentials,
) -> None:
    their_start = await start(client, other_account)
    group = await new_group(client, other_account, "Theirs")
    await add_numbers(client, other_account, group["id"], ["9876543210"])
    theirs = await start(client, other_account)
    their_change = (await follow(client, other_account, their_start))[0][0]["token"]
    ours = await start(client, main_account)
    raw = bytearray(base64.urlsafe_b64decode(ours + "=="))
    raw[8] ^= 1  # another version, the MAC unchanged
    altered = base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
    before = snapshot(store)

    for label, token in {
        "another account's": theirs,
        "another account's, of a change": their_change,
        "another account's first": their_start,
        "altered": altered,
        "cut short": ours[:-1],
        "with one character more": ours + "A",
        "padded": ours + "=",
        "not base64": "not a token!",
        "empty": "",
        "signed with another key": ChangeTokens("another-secret-" + "y" * 40).encode(
            1, Position(0)
        ),
    }.items():
        answer = await client.get(
            "/v1/changes", params={"since": token}, headers=bearer(main_account)
        )
        body = problem(answer, 400)
        assert body["type"] == INVALID_TOKEN, label
        assert body["errors"] == {"since": "not a change token of this account"}, label
    too_long = await client.get(
        "/v1/changes", params={"since": "A" * 101}, headers=bearer(main_account)
    )
    assert problem(too_long, 422)["errors"].keys() == {"since"}
    assert snapshot(store) == before  # a refused read writes nothing


async def test_a_token_older_than_the_log_answers_reset_with_a_fresh_start(
    client: httpx.AsyncClient,
    service: Service,
    clock: FakeClock,
    main_account: Credentials,
) -> None:
    old = await start(client, main_account)
    group = await new_group(client, main_account)
    await add_numbers(client, main_account, group["id"], ["9876543210"])
    caught_up = await start(client, main_account)
    clock.advance(days=8)
    await add_numbers(client, main_account, group["id"], ["9876543211"])
    assert service.writer.prune() == 2  # the first two changes are past the 7 days

    reset = await feed(client, main_account, old)
    assert reset["reset"] is True
    assert (reset["changes"], reset["more"]) == ([], False)
    assert "copy the groups afresh" in reset["detail"]
    assert reset["next"] == await start(client, main_account)
    assert await follow(client, main_account, reset["next"]) == ([], reset["next"])
    # A token at the last change kept is still good; the one just before it is not.
    after, _ = await follow(client, main_account, caught_up)
    assert [c["version"] for c in after] == [3]
    assert (await feed(client, main_account, old, group_id=group["id"]))["reset"] is True


async def test_a_token_inside_a_pruned_change_or_ahead_of_the_account_answers_reset(
    client: httpx.AsyncClient,
    service: Service,
    actor: Actor,
    clock: FakeClock,
    main_account: Credentials,
) -> None:
    tokens = ChangeTokens(SECRET)
    account = actor.account.id
    group = service.create_group(actor, "G", "", [number("+919876543210")], None).group
    who = main_account
    assert not (await feed(client, who, tokens.encode(account, Position(0, 1))))["reset"]
    assert (await feed(client, who, tokens.encode(account, Position(5))))["reset"]  # ahead
    assert (await feed(client, who, tokens.encode(account, Position(1, 3))))["reset"]  # no 2
    clock.advance(days=8)
    service.add_numbers(actor, GroupById(group.id), [number("+919876543211")], None)
    service.writer.prune()
    assert (await feed(client, who, tokens.encode(account, Position(0, 1))))["reset"]


async def test_the_feed_is_rate_limited_like_other_reads(
    store: Store, clock: FakeClock, database_url: str
) -> None:
    service = Service(store, clock=clock, secret_key=SECRET, request_rate=RequestRate(1, 2))
    who = Credentials("main", service.create_account("main").key)
    app = create_app(Settings(database_url=database_url), service=service)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://callblock.test") as c:
        answers = [await c.get("/v1/changes", headers=bearer(who)) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert problem(answers[2], 429)["type"] == "urn:callblock:problem:rate-limited"
    assert "retry-after" in answers[2].headers
    wait_for_rechecks()


# --- the store: parts of any size add up to the change ------------------------------------------


def test_parts_of_any_budget_add_up_to_each_change_over_block_boundaries(
    store: Store, service: Service, actor: Actor
) -> None:
    """A change of 70,000 upserted and 70,000 removed keys spans several key blocks (65,536
    keys a block, the last of each kind short); read back with budgets that cut blocks
    anywhere, its parts add up to exactly its keys and expiries, in order."""
    rng = np.random.default_rng(7)
    upserted = np.sort(rng.choice(10**11, 70_000, replace=False)).astype(np.int64) + 9 * 10**11
    expiries = np.where(rng.random(70_000) < 0.5, NEVER, rng.integers(1, 2**50, 70_000))
    removed = -np.arange(910_000, 980_000, dtype=np.int64)  # prefixes
    draft = Draft(
        Action.IMPORT, 5, upserted=upserted, expiries=expiries.astype(np.int64), removed=removed
    )
    small = Draft(Action.ADD, 5, upserted=np.array([919876543210]), expiries=np.array([NEVER]))
    with store.write() as conn:
        for version, each in ((1, draft), (2, small)):
            at = service.clock()
            change_rows.record(conn, Change(actor.account.id, version, at, None, Surface.CLI, each))

    for budget in (7_777, 9_999, 65_535, 65_536, 70_001, 200_000):
        got_upserted, got_expiries, got_removed, versions = [], [], [], []
        after, offset, reads = 0, 0, 0
        while True:
            with store.snapshot() as conn:
                parts, more = change_rows.read_parts(
                    conn, actor.account.id, after, offset, limit=10, entries=budget
                )
            reads += 1
            for part in parts:
                d = part.change.draft
                assert len(d.upserted) + len(d.removed) <= budget
                versions.append(part.change.version)
                if part.change.version == 1:
                    got_upserted.append(d.upserted)
                    got_expiries.append(d.expiries)
                    got_removed.append(d.removed)
            last = parts[-1]
            if last.resume is None:
                after, offset = last.change.version, 0
            else:
                after, offset = last.change.version - 1, last.resume
            if not more:
                break
        assert np.array_equal(np.concatenate(got_upserted), upserted), budget
        assert np.array_equal(np.concatenate(got_expiries), expiries), budget
        assert np.array_equal(np.concatenate(got_removed), removed), budget
        assert versions[-1] == 2
        assert reads == -(-140_001 // budget), budget  # every read but the last full


# --- the SDK: changes, export and the Mirror ------------------------------------------------------

AnyClient = Client | AsyncClient


@pytest.fixture(params=["sync", "async"])
async def sdk(
    request: pytest.FixtureRequest, app: FastAPI, main_account: Credentials
) -> AsyncIterator[AnyClient]:
    client: AnyClient
    if request.param == "sync":
        client = Client("http://callblock.test", main_account.key, transport=SyncASGITransport(app))
        yield client
        client.close()
    else:
        client = AsyncClient(
            "http://callblock.test", main_account.key, transport=httpx.ASGITransport(app=app)
        )
        yield client
        await client.aclose()


def mirror_of(sdk: AnyClient, clock: FakeClock) -> Mirror | AsyncMirror:
    return Mirror(sdk, clock=clock) if isinstance(sdk, Client) else AsyncMirror(sdk, clock=clock)


async def test_client_changes_follows_every_answer_and_keeps_the_token(sdk: AnyClient) -> None:
    begin = sdk.changes()
    assert await collect(begin) == []  # no token: nothing, only where the account is now
    assert begin.token is not None
    group = await run(sdk.groups.create("Spam"))
    for n in range(3):
        await run(sdk.numbers.add(group.id, [f"987654321{n}"]))

    feed = sdk.changes(since=begin.token, page_size=1)
    changes = await collect(feed)
    assert [(c.version, c.action) for c in changes] == [
        (1, "create"),
        (2, "add"),
        (3, "add"),
        (4, "add"),
    ]
    assert changes[0].group is not None
    assert changes[0].group.name == "Spam"
    assert changes[1].upserted[0].number == "+919876543210"
    assert feed.token == changes[-1].token
    again = sdk.changes(since=feed.token)
    assert await collect(again) == []
    assert again.token == feed.token
    with pytest.raises(TypeError):
        sdk.changes(since=7)  # type: ignore[arg-type]


async def test_client_changes_raises_a_reset_with_where_to_start_over(
    sdk: AnyClient, service: Service, actor: Actor, clock: FakeClock
) -> None:
    begin = sdk.changes()
    await collect(begin)
    service.create_group(actor, "G", "", [], None)
    clock.advance(days=8)
    service.create_group(actor, "H", "", [], None)
    service.writer.prune()
    with pytest.raises(ChangesReset) as raised:
        await collect(sdk.changes(since=begin.token))
    assert raised.value.status == 200
    fresh = sdk.changes()
    await collect(fresh)
    assert raised.value.token == fresh.token
    with pytest.raises(ValidationError) as refused:
        await collect(sdk.changes(since="forged"))
    assert refused.value.type == INVALID_TOKEN


async def test_numbers_export_reads_every_entry_even_notes_with_line_breaks(
    sdk: AnyClient, clock: FakeClock
) -> None:
    group = await run(sdk.groups.create("Notes"))
    soon = clock.now + timedelta(hours=1)
    await run(sdk.numbers.add(group.id, ["9876543210"], note='line one\nline "two",\r\nthree'))
    await run(sdk.numbers.add(group.id, ["140*"], expires_at=soon))
    await run(sdk.numbers.add(group.id, [f"90000000{n:02d}" for n in range(50)]))

    exported = await collect(sdk.numbers.export(group.id))

    assert exported == await collect(sdk.numbers.list(group.id, page_size=1000))
    assert exported[0].number == "+91140*"
    assert exported[0].expires_at == soon
    assert next(e for e in exported if e.number == "+919876543210").note == (
        'line one\nline "two",\r\nthree'
    )


# Numbers the mirror and the server are asked about after each step.
PROBES = [
    "+919876543210",
    "+919876543211",
    "+911401234567",
    "+911409999999",
    "+911141234567",
    "+919000000001",
    "+919000000002",
    "+919000000003",
    "+919812345678",
]


async def assert_agrees(mirror: Mirror | AsyncMirror, service: Service, who: Credentials) -> None:
    """The mirror's check answers as the server's own for every probe, in every direction."""
    actor = service.authenticate_key(who.key, Surface.V1)  # with the account's settings now
    for e164 in PROBES:
        for direction in (None, "inbound", "outbound"):
            wanted = None if direction is None else Direction(direction)
            server = service.check(actor, e164, wanted)
            local = mirror.check(e164, direction)  # type: ignore[arg-type]
            here = f"{e164} {direction}"
            assert local.blocked == server.blocked, here
            assert local.number == server.number, here
            assert {
                (m.group_id, m.group_name, m.pattern, m.expires_at, m.rule) for m in local.matches
            } == {
                (m.group_id, m.group_name, m.pattern, m.expires_at, m.rule) for m in server.matches
            }, here
    server = service.check(actor, "Anonymous", Direction.INBOUND)
    if server.error is None:  # the account blocks withheld callers
        local = mirror.check("Anonymous", "inbound")
        assert (local.blocked, local.matches[0].rule) == (True, "block_anonymous")
    else:  # not a number, for the API (422) and the mirror alike
        with pytest.raises(ValueError, match="not an E"):
            mirror.check("Anonymous", "inbound")


async def test_a_mirror_agrees_with_the_server_through_a_series_of_writes(
    sdk: AnyClient, service: Service, actor: Actor, clock: FakeClock, main_account: Credentials
) -> None:
    spam = await run(sdk.groups.create("Spam", direction="inbound"))
    await run(sdk.numbers.add(spam.id, ["9876543210", "140*"]))
    mirror = mirror_of(sdk, clock)
    assert await run(mirror.sync()) == 0  # a full copy, nothing after it
    assert (mirror.copies, mirror.entries) == (1, 2)
    service.load_index()
    await assert_agrees(mirror, service, main_account)

    steps: list[Callable[[], Any]] = [
        lambda: sdk.numbers.add(spam.id, ["9876543211"], expires_at=clock.now + timedelta(hours=1)),
        lambda: sdk.groups.create("Dialler", direction="outbound"),
        lambda: sdk.groups.update(spam.id, direction="both", name="Spam and scam"),
        lambda: sdk.account.update(block_anonymous=True),
        lambda: sdk.numbers.remove(spam.id, ["140*"]),
    ]
    for step in steps:
        await run(step())
        await run(mirror.sync())
        await assert_agrees(mirror, service, main_account)

    dialler = next(g for g in await collect(sdk.groups.list()) if g.name == "Dialler")
    await run(sdk.numbers.add(dialler.id, ["1409*", "9000000001", "9876543210"]))
    service.import_entries(
        actor, GroupById(dialler.id), [ImportLines([1, 2], ["9000000002", "9000000003"], None)]
    )
    service.remove_numbers(actor, None, [number("+919876543210")])  # from every group
    await run(mirror.sync())
    await assert_agrees(mirror, service, main_account)

    clock.advance(hours=2)  # +919876543211 expires: judged against the clock, no sync
    await assert_agrees(mirror, service, main_account)
    assert not mirror.check("+919876543211").blocked

    await run(sdk.groups.delete(dialler.id))
    assert await run(mirror.sync()) == 1
    await assert_agrees(mirror, service, main_account)
    assert mirror.copies == 1  # followed the feed all along
    assert mirror.check("+91 98765-43211").number == "+919876543211"
    with pytest.raises(ValueError, match=r"E\.164"):
        mirror.check("09876543210")


async def test_a_mirror_starts_over_by_itself_after_a_reset(
    sdk: AnyClient, service: Service, clock: FakeClock, main_account: Credentials
) -> None:
    group = await run(sdk.groups.create("Spam"))
    await run(sdk.numbers.add(group.id, ["9876543210"]))
    mirror = mirror_of(sdk, clock)
    await run(mirror.sync())
    await run(sdk.numbers.remove(group.id, ["9876543210"]))
    clock.advance(days=8)
    await run(sdk.numbers.add(group.id, ["140*"]))
    service.writer.prune()  # the removal, the change after the mirror's token, is gone
    service.load_index()

    await run(mirror.sync())

    assert mirror.copies == 2
    await assert_agrees(mirror, service, main_account)
    assert not mirror.check("+919876543210").blocked
    assert mirror.check("+911401234567").blocked


async def test_a_mirror_counts_only_global_block_groups_as_the_server_does(
    sdk: AnyClient, service: Service, clock: FakeClock, main_account: Credentials
) -> None:
    """An allow group and a group attached to a campaign do not block in a check without a
    campaign, on the server or in the mirror, whether copied or followed from the feed."""
    registry = await run(sdk.groups.create("Registry", consent_overrides=True))
    consent = await run(sdk.groups.create("Consent", kind="allow"))
    attached = await run(sdk.groups.create("Campaign list", scope="attached"))
    await run(sdk.numbers.add(registry.id, ["9876543210"]))
    await run(sdk.numbers.add(consent.id, ["9876543210", "9000000001"]))
    await run(sdk.numbers.add(attached.id, ["9000000002", "140*"]))
    await run(sdk.campaigns.create("Spring", group_ids=[attached.id, consent.id]))
    mirror = mirror_of(sdk, clock)
    await run(mirror.sync())  # copied
    service.load_index()
    await assert_agrees(mirror, service, main_account)
    assert not mirror.check("+919000000001").blocked  # only in the allow group
    assert not mirror.check("+919000000002").blocked  # only in the attached group
    assert not mirror.check("+911401234567").blocked
    # Consent does not lift a block in a check without a campaign.
    assert [m.group_id for m in mirror.check("+919876543210").matches] == [registry.id]

    later = await run(sdk.groups.create("Later list", scope="attached"))  # followed
    await run(sdk.numbers.add(later.id, ["9000000003"]))
    await run(mirror.sync())
    await assert_agrees(mirror, service, main_account)
    assert not mirror.check("+919000000003").blocked

    await run(sdk.groups.update(attached.id, scope="global"))  # now it blocks everywhere
    await run(sdk.groups.update(later.id, kind="allow"))
    await run(mirror.sync())
    await assert_agrees(mirror, service, main_account)
    assert mirror.check("+919000000002").blocked
    assert mirror.check("+911401234567").blocked
    assert mirror.copies == 1


WINDOW = CallingWindow(("mon", "tue", "wed", "thu", "fri", "sat"), "09:00", "21:00")


async def test_the_feed_tells_campaign_changes_and_group_roles(sdk: AnyClient) -> None:
    start = sdk.changes()
    await collect(start)
    consent = await run(sdk.groups.create("Consent", kind="allow", scope="attached"))
    spring = await run(sdk.campaigns.create("Spring", calling_window=WINDOW))
    await run(sdk.campaigns.attach(spring.id, [consent.id]))
    await run(sdk.campaigns.delete(spring.id))

    changes = await collect(sdk.changes(since=start.token))

    assert [c.action for c in changes] == [
        "create",
        "campaign-create",
        "campaign-attach",
        "campaign-delete",
    ]
    assert changes[0].group == ChangedGroup(
        consent.id, "Consent", "", "both", "allow", "attached", False
    )
    assert changes[0].campaign is None
    assert changes[1].campaign == ChangedCampaign(spring.id, "Spring", "", WINDOW, ())
    assert changes[2].campaign is not None
    assert changes[2].campaign.group_ids == (consent.id,)
    assert changes[3].campaign is not None
    assert changes[3].campaign.name == "Spring"


class WriteDuringExport:
    """An ASGI wrapper that runs a write when the first export request arrives: between the
    mirror's token and its copy of that group."""

    def __init__(self, app: FastAPI, write: Callable[[], object]) -> None:
        self.app = app
        self.write: Callable[[], object] | None = write

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].endswith("/numbers.csv") and self.write:
            write, self.write = self.write, None
            write()
        await self.app(scope, receive, send)


async def test_a_mirror_applies_what_was_written_while_it_copied(
    app: FastAPI, service: Service, actor: Actor, clock: FakeClock, main_account: Credentials
) -> None:
    group = service.create_group(actor, "Spam", "", [number("+919876543210")], None).group
    other = service.create_group(actor, "Other", "", [number("+919000000001")], None).group

    def meanwhile() -> None:
        service.remove_numbers(actor, GroupById(group.id), [number("+919876543210")])
        service.add_numbers(actor, GroupById(group.id), [number("+919876543211")], None)
        service.delete_group(actor, other.id)

    transport = httpx.ASGITransport(app=WriteDuringExport(app, meanwhile))
    async with AsyncClient("http://callblock.test", main_account.key, transport=transport) as sdk:
        mirror = AsyncMirror(sdk, clock=clock)
        applied = await mirror.sync()

    assert applied == 3
    service.load_index()
    await assert_agrees(mirror, service, main_account)
    assert mirror.check("+919876543211").blocked
    assert not mirror.check("+919000000001").blocked
