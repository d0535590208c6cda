"""The Python SDK (`callblock.client`) against the real app, in-process.

Most tests run twice per database: once with the sync `Client`, once with the `AsyncClient`
(the `sdk` fixture), written once with `run()` and `collect()`, which accept either kind of
answer. The sync client reaches the ASGI app through `SyncASGITransport` below: httpx's
sync client cannot drive an ASGI app itself.

Every request goes through `Gateway`, an ASGI wrapper that records what reached the app
and, for the few answers `/v1` never gives (429, a proxy's HTML 502...), can answer in the
app's place, as a proxy or gateway in front of it would.
"""

from __future__ import annotations

import ast
import asyncio
import csv
import importlib
import importlib.util
import inspect
import io
import json
import pickle
import pkgutil
import socket
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import FrozenInstanceError
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from types import ModuleType
from typing import Any, TypeAlias, TypeVar
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

import callblock
import callblock.client as sdk_module
from callblock.client import (
    KEEP,
    Account,
    AccountAPI,
    AddResult,
    ApiKey,
    AsyncAccountAPI,
    AsyncAuditAPI,
    AsyncCampaignsAPI,
    AsyncChanges,
    AsyncClient,
    AsyncGroupsAPI,
    AsyncKeysAPI,
    AsyncMirror,
    AsyncNumbersAPI,
    AsyncStatsAPI,
    AttachedGroup,
    AuditAPI,
    AuthError,
    BatchReason,
    BatchResult,
    CallblockError,
    CallingWindow,
    Campaign,
    CampaignBatchResult,
    CampaignCheckResult,
    CampaignsAPI,
    ChangedGroup,
    Changes,
    ChangesReset,
    CheckResult,
    Client,
    Conflict,
    Forbidden,
    Group,
    GroupMatches,
    GroupsAPI,
    HeaderLine,
    ImportResult,
    InvalidItem,
    InvalidLine,
    InvalidLines,
    IssuedApiKey,
    KeysAPI,
    Match,
    Mirror,
    NotFound,
    NumbersAPI,
    RateLimited,
    Reason,
    RemoveResult,
    ServerError,
    StaleEntry,
    Stats,
    StatsAPI,
    StatsPoint,
    TooManyRemovals,
    TransportError,
    ValidationError,
)
from callblock.client import _parse as parse
from callblock.domain import StoreUnavailable
from callblock.http.app import create_app
from callblock.service import Service
from callblock.settings import Settings
from callblock.store import Store
from tests.conftest import wait_for_rechecks
from tests.helpers import Credentials, FakeClock
from tests.servers import create_account, start_server, stop_server, wait_ready

pytestmark = pytest.mark.anyio

BASE_URL = "http://callblock.test"
T = TypeVar("T")
AnyClient: TypeAlias = Client | AsyncClient


# --- plumbing ----------------------------------------------------------------------------------


class SyncASGITransport(httpx.BaseTransport):
    """A sync transport to an ASGI app: httpx's ASGITransport, run on a private event loop.

    The loop runs in a background thread; each request is handed to it whole, and its
    answer is read in full there before it comes back. `close` stops the loop and joins
    the thread (httpx's Client.close calls it).
    """

    def __init__(self, app: Any) -> None:
        self._asgi = httpx.ASGITransport(app=app)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="sync-asgi")
        self._thread.start()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        future = asyncio.run_coroutine_threadsafe(
            self._send(request.method, request.url, request.headers, body), self._loop
        )
        status, headers, content = future.result(timeout=60)
        return httpx.Response(status, headers=headers, content=content, request=request)

    async def _send(
        self, method: str, url: httpx.URL, headers: httpx.Headers, body: bytes
    ) -> tuple[int, httpx.Headers, bytes]:
        request = httpx.Request(method, url, headers=headers, content=body)
        response = await self._asgi.handle_async_request(request)
        try:
            content = await response.aread()
        finally:
            await response.aclose()
        return response.status_code, response.headers, content

    def close(self) -> None:
        if self._loop.is_closed():
            return
        asyncio.run_coroutine_threadsafe(self._loop.shutdown_asyncgens(), self._loop).result()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()


Canned = tuple[int, list[tuple[bytes, bytes]], bytes]


class Gateway:
    """An ASGI wrapper in front of the app: records each request, or answers `canned`."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.seen: list[tuple[str, str, str]] = []
        self.canned: Canned | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.seen.append((scope["method"], scope["path"], scope["query_string"].decode()))
            if self.canned is not None:
                status, headers, body = self.canned
                await send({"type": "http.response.start", "status": status, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)

    def answer(self, status: int, body: bytes, content_type: str, **headers: str) -> None:
        pairs = [(b"content-type", content_type.encode())]
        pairs += [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()]
        self.canned = (status, pairs, body)


Connect = Callable[[str], AnyClient]


@pytest.fixture
def gateway(app: FastAPI) -> Gateway:
    return Gateway(app)


@pytest.fixture(params=["sync", "async"])
async def connect(request: pytest.FixtureRequest, gateway: Gateway) -> AsyncIterator[Connect]:
    """Opens clients of one kind (sync or async) with any key; closes them all afterwards."""
    opened: list[AnyClient] = []

    def make(key: str) -> AnyClient:
        client: AnyClient
        if request.param == "sync":
            client = Client(BASE_URL, key, transport=SyncASGITransport(gateway))
        else:
            client = AsyncClient(BASE_URL, key, transport=httpx.ASGITransport(app=gateway))
        opened.append(client)
        return client

    yield make
    for client in opened:
        if isinstance(client, Client):
            client.close()
        else:
            await client.aclose()


@pytest.fixture
def sdk(connect: Connect, main_account: Credentials) -> AnyClient:
    return connect(main_account.key)


async def run(value: Awaitable[T] | T) -> T:
    """The answer of a sync call, or of an awaited async one."""
    if inspect.isawaitable(value):
        return await value
    return value


async def collect(items: Iterator[T] | AsyncIterator[T]) -> list[T]:
    if isinstance(items, AsyncIterator):
        return [item async for item in items]
    return list(items)


def listed(gateway: Gateway, path: str) -> list[str]:
    """The query strings of the GETs of `path` that reached the app."""
    return [query for method, seen, query in gateway.seen if method == "GET" and seen == path]


# --- groups ----------------------------------------------------------------------------------


async def test_group_lifecycle(sdk: AnyClient, clock: FakeClock) -> None:
    created = await run(sdk.groups.create("Spam callers", "from complaints", "inbound"))
    assert isinstance(created, Group)
    assert (created.name, created.description, created.direction) == (
        "Spam callers",
        "from complaints",
        "inbound",
    )
    assert (created.active_count, created.expired_count) == (0, 0)
    assert created.created_at == clock.now
    assert created.created_at.tzinfo is not None
    with pytest.raises(FrozenInstanceError):
        created.name = "x"  # type: ignore[misc]

    assert await run(sdk.groups.get(created.id)) == created

    clock.advance(minutes=5)
    renamed = await run(sdk.groups.update(created.id, name="Robocalls"))
    assert (renamed.name, renamed.description, renamed.direction) == (
        "Robocalls",
        "from complaints",
        "inbound",
    )
    assert renamed.updated_at == clock.now
    redirected = await run(sdk.groups.update(created.id, direction="both", description=""))
    assert (redirected.name, redirected.description, redirected.direction) == (
        "Robocalls",
        "",
        "both",
    )
    assert await run(sdk.groups.update(created.id)) == redirected  # nothing to change

    defaults = await run(sdk.groups.create("Defaults"))
    assert (defaults.description, defaults.direction) == ("", "both")
    assert [g.id for g in await collect(sdk.groups.list())] == [created.id, defaults.id]

    await run(sdk.groups.delete(created.id))
    with pytest.raises(NotFound):
        await run(sdk.groups.get(created.id))
    assert [g.name for g in await collect(sdk.groups.list())] == ["Defaults"]


async def test_groups_list_follows_cursors_over_pages(sdk: AnyClient, gateway: Gateway) -> None:
    made = [await run(sdk.groups.create(f"Team {n}")) for n in range(5)]
    await run(sdk.groups.create("Other"))
    gateway.seen.clear()

    teams = await collect(sdk.groups.list(name="Team", page_size=2))

    assert teams == made
    queries = listed(gateway, "/v1/groups")
    assert len(queries) == 3  # pages of 2, 2 and 1
    assert "cursor" not in queries[0]
    assert all("cursor=" in q and "limit=2" in q for q in queries[1:])
    assert len(await collect(sdk.groups.list())) == 6


async def test_group_listings_are_lazy(sdk: AnyClient, gateway: Gateway) -> None:
    for n in range(3):
        await run(sdk.groups.create(f"Lazy {n}"))
    gateway.seen.clear()
    groups = sdk.groups.list(page_size=1)
    assert listed(gateway, "/v1/groups") == []  # nothing sent until iterated
    if isinstance(groups, AsyncIterator):
        first = await anext(groups)
        await groups.aclose()  # type: ignore[attr-defined]
    else:
        first = next(groups)
    assert first.name == "Lazy 0"
    assert len(listed(gateway, "/v1/groups")) == 1


# --- numbers ---------------------------------------------------------------------------------


async def test_numbers_add_list_and_remove(sdk: AnyClient, gateway: Gateway) -> None:
    group = await run(sdk.groups.create("Numbers"))
    added = await run(
        sdk.numbers.add(
            group.id,
            ["9876543210", "+91 91234 56780", 9000000001, "140*", "nonsense", "+91*"],
            note="desk",
        )
    )
    assert isinstance(added, AddResult)
    assert added.added == 4
    assert added.updated == 0
    assert added.invalid == (
        InvalidItem("nonsense", "not a valid phone number"),
        InvalidItem("+91*", "not a valid prefix"),
    )
    again = await run(sdk.numbers.add(group.id, ["09876543210"]))
    assert (again.added, again.updated, again.invalid) == (0, 1, ())

    entries = await collect(sdk.numbers.list(group.id))
    # Listed in key order: prefixes first, then numbers ascending.
    assert [e.number for e in entries] == [
        "+91140*",
        "+919000000001",
        "+919123456780",
        "+919876543210",
    ]
    prefix = entries[0]
    assert (prefix.kind, prefix.status, prefix.note, prefix.source) == (
        "prefix",
        "active",
        "desk",
        "v1",
    )
    assert prefix.expires_at is None
    assert (prefix.national, prefix.international) == ("0140*", "+91 140*")
    assert entries[3].kind == "number"
    assert (entries[3].national, entries[3].international) == ("098765 43210", "+91 98765 43210")
    assert entries[3].note == "desk"  # re-added without a note: the note stays
    assert [e.number for e in await collect(sdk.numbers.list(group.id, q="140"))] == ["+91140*"]
    # The search reads any spelling a check takes, with the account's region.
    found = await collect(sdk.numbers.list(group.id, q="098765 43210"))
    assert [e.number for e in found] == ["+919876543210"]
    assert len(await collect(sdk.numbers.list(group.id, status="active"))) == 4
    assert await collect(sdk.numbers.list(group.id, status="expired")) == []
    assert (await run(sdk.groups.get(group.id))).active_count == 4

    removed = await run(sdk.numbers.remove(group.id, ["9876543210", "140*", "9999999999", "x"]))
    assert isinstance(removed, RemoveResult)
    assert removed.removed == 2
    assert removed.not_found == ("9999999999",)
    assert removed.invalid == (InvalidItem("x", "not a valid phone number"),)
    assert gateway.seen[-1][:2] == ("DELETE", f"/v1/groups/{group.id}/numbers")
    remaining = [e.number for e in await collect(sdk.numbers.list(group.id))]
    assert remaining == ["+919000000001", "+919123456780"]


async def test_numbers_list_follows_cursors_over_pages(sdk: AnyClient, gateway: Gateway) -> None:
    group = await run(sdk.groups.create("Paged"))
    numbers = [f"98765432{n:02d}" for n in range(5)]
    await run(sdk.numbers.add(group.id, numbers))
    gateway.seen.clear()

    entries = await collect(sdk.numbers.list(group.id, page_size=2))

    assert [e.number for e in entries] == ["+91" + n for n in numbers]
    assert len(listed(gateway, f"/v1/groups/{group.id}/numbers")) == 3


async def test_expires_at_round_trips_as_an_aware_instant(
    sdk: AnyClient, clock: FakeClock, gateway: Gateway
) -> None:
    group = await run(sdk.groups.create("Temporary"))
    kolkata = ZoneInfo("Asia/Kolkata")
    expires = (clock.now + timedelta(days=1)).astimezone(kolkata)
    await run(sdk.numbers.add(group.id, ["9876543210"], expires_at=expires))
    await run(sdk.numbers.add(group.id, ["9123456780"]))

    [forever, timed] = await collect(sdk.numbers.list(group.id))  # in number order
    assert timed.expires_at == expires
    assert timed.expires_at is not None
    assert timed.expires_at.utcoffset() is not None
    assert forever.expires_at is None

    clock.advance(days=1)
    [expired] = await collect(sdk.numbers.list(group.id, status="expired"))
    assert (expired.number, expired.status) == ("+919876543210", "expired")
    detail = await run(sdk.groups.get(group.id))
    assert (detail.active_count, detail.expired_count) == (1, 1)
    assert not (await run(sdk.check("9876543210"))).blocked

    with pytest.raises(ValidationError) as info:  # the API wants it in the future
        await run(sdk.numbers.add(group.id, ["9876543210"], expires_at=clock.now))
    assert info.value.errors == {"expires_at": "must be in the future"}


async def test_purge_expired_removes_the_expired_entries_and_says_how_many(
    sdk: AnyClient, clock: FakeClock, gateway: Gateway
) -> None:
    group = await run(sdk.groups.create("Temporary"))
    await run(
        sdk.numbers.add(group.id, ["9876543210", "140*"], expires_at=clock.now + timedelta(hours=1))
    )
    await run(sdk.numbers.add(group.id, ["9123456780"], expires_at=clock.now + timedelta(hours=2)))
    await run(sdk.numbers.add(group.id, ["9000000001"]))
    clock.advance(hours=1)

    removed = await run(sdk.numbers.purge_expired(group.id))

    assert removed == 2
    method, path, query = gateway.seen[-1]
    assert (method, path, query) == ("DELETE", f"/v1/groups/{group.id}/numbers", "status=expired")
    remaining = [e.number for e in await collect(sdk.numbers.list(group.id))]
    assert remaining == ["+919000000001", "+919123456780"]
    assert await run(sdk.numbers.purge_expired(group.id)) == 0


async def test_all_or_nothing_refuses_the_whole_batch(sdk: AnyClient) -> None:
    group = await run(sdk.groups.create("Strict"))
    with pytest.raises(ValidationError) as info:
        await run(sdk.numbers.add(group.id, ["9876543210", "bad", 5], all_or_nothing=True))
    assert info.value.status == 422
    assert set(info.value.errors) == {"numbers.1", "numbers.2"}
    assert await collect(sdk.numbers.list(group.id)) == []


# --- checks ----------------------------------------------------------------------------------


async def test_check_with_direction_and_prefixes(sdk: AnyClient) -> None:
    inbound = await run(sdk.groups.create("Inbound only", direction="inbound"))
    anyway = await run(sdk.groups.create("Both ways"))
    await run(sdk.numbers.add(inbound.id, ["140*"]))
    await run(sdk.numbers.add(anyway.id, ["9876543210"]))

    result = await run(sdk.check("140 123 4567", direction="inbound"))
    assert isinstance(result, CheckResult)
    assert result.number == "+911401234567"
    assert result.blocked
    assert result.matches == (Match(inbound.id, "Inbound only", "+91140*", None, "prefix"),)
    assert not (await run(sdk.check("1401234567", direction="outbound"))).blocked
    assert (await run(sdk.check("1401234567"))).blocked  # no direction: every group counts

    spaced = await run(sdk.check("+91 98765-43210", direction="outbound"))
    assert spaced.number == "+919876543210"
    assert spaced.matches == (Match(anyway.id, "Both ways", "+919876543210", None, "number"),)
    clean = await run(sdk.check("9123456780"))
    assert (clean.blocked, clean.matches) == (False, ())

    with pytest.raises(ValidationError) as info:
        await run(sdk.check("not a number"))
    assert info.value.errors == {"number": "not a valid phone number"}


async def test_check_many(sdk: AnyClient) -> None:
    inbound = await run(sdk.groups.create("In", direction="inbound"))
    outbound = await run(sdk.groups.create("Out", direction="outbound"))
    await run(sdk.numbers.add(inbound.id, ["9876543210", "140*"]))
    await run(sdk.numbers.add(outbound.id, ["9876543210"]))

    results = await run(sdk.check_many(["9876543210", "1401234567", 9123456780, "nope"]))
    assert results == [
        BatchResult("9876543210", "+919876543210", True, (inbound.id, outbound.id), None),
        BatchResult("1401234567", "+911401234567", True, (inbound.id,), None),
        BatchResult(9123456780, "+919123456780", False, (), None),
        BatchResult("nope", None, False, (), "not a valid phone number"),
    ]
    outbound_only = await run(sdk.check_many(["9876543210", "1401234567"], "outbound"))
    assert [r.group_ids for r in outbound_only] == [(outbound.id,), ()]
    assert await run(sdk.check_many([])) == []


async def test_account_and_withheld_callers(sdk: AnyClient) -> None:
    account = await run(sdk.account.get())
    assert account == Account("main", "IN", "Asia/Kolkata", "BASIC_AUTH", False)
    with pytest.raises(ValidationError):  # not blocking withheld callers: not a number
        await run(sdk.check("anonymous", direction="inbound"))

    updated = await run(sdk.account.update(block_anonymous=True))
    assert updated.block_anonymous
    assert (await run(sdk.account.get())).block_anonymous
    assert await run(sdk.account.update()) == updated  # nothing to change

    withheld = await run(sdk.check("Anonymous", direction="inbound"))
    assert withheld == CheckResult(
        None, True, (Match(None, None, "anonymous", None, "block_anonymous"),)
    )
    [many] = await run(sdk.check_many(["private"], direction="inbound"))
    assert (many.blocked, many.number, many.error) == (True, None, None)
    for direction in ("outbound", None):  # withheld only counts in inbound checks
        with pytest.raises(ValidationError):
            await run(sdk.check("anonymous", direction=direction))


async def test_the_account_region_and_time_zone_change(sdk: AnyClient) -> None:
    moved = await run(sdk.account.update(region="GB", timezone="Europe/London"))
    assert moved == Account("main", "GB", "Europe/London", "BASIC_AUTH", False)
    assert (await run(sdk.check("020 7946 0000"))).number == "+442079460000"
    with pytest.raises(ValidationError) as refused:
        await run(sdk.account.update(block_anonymous=True, timezone="Mars/Olympus"))
    assert set(refused.value.errors) == {"timezone"}
    assert "timezone: not an IANA time zone" in str(refused.value)
    assert await run(sdk.account.get()) == moved  # nothing changed


# --- campaigns -------------------------------------------------------------------------------

# The clock fixture's instant, 2026-06-01 12:00 UTC (a Monday), is 17:30 in India.
OPEN_NOW = CallingWindow(("mon", "tue", "wed", "thu", "fri", "sat"), "09:00", "21:00")
CLOSED_NOW = {"days": ["mon", "tue", "wed", "thu", "fri", "sat"], "start": "09:00", "end": "17:00"}
OPENS_AT = datetime(2026, 6, 2, 3, 30, tzinfo=UTC)  # Tuesday 09:00 in India


async def test_groups_have_a_kind_a_scope_and_a_consent_override(sdk: AnyClient) -> None:
    plain = await run(sdk.groups.create("Own list"))
    assert (plain.kind, plain.scope, plain.consent_overrides) == ("block", "global", False)
    registry = await run(sdk.groups.create("Registry", consent_overrides=True))
    consent = await run(sdk.groups.create("Consent", kind="allow", scope="attached"))
    assert (registry.kind, registry.scope, registry.consent_overrides) == ("block", "global", True)
    assert (consent.kind, consent.scope, consent.consent_overrides) == ("allow", "attached", False)
    assert await run(sdk.groups.get(consent.id)) == consent
    listed_roles = {g.name: (g.kind, g.scope) for g in await collect(sdk.groups.list())}
    assert listed_roles["Consent"] == ("allow", "attached")

    rescoped = await run(sdk.groups.update(consent.id, scope="global"))
    assert (rescoped.kind, rescoped.scope) == ("allow", "global")
    lifted = await run(sdk.groups.update(registry.id, consent_overrides=False))
    assert not lifted.consent_overrides
    with pytest.raises(ValidationError) as info:  # consent never overrides consent
        await run(sdk.groups.update(consent.id, consent_overrides=True))
    assert set(info.value.errors) == {"consent_overrides"}
    with pytest.raises(ValidationError):
        await run(sdk.groups.create("Odd", kind="allow", consent_overrides=True))


async def test_campaign_lifecycle(sdk: AnyClient, gateway: Gateway, clock: FakeClock) -> None:
    registry = await run(sdk.groups.create("Registry", consent_overrides=True))
    consent = await run(sdk.groups.create("Consent", kind="allow", scope="attached"))
    created = await run(
        sdk.campaigns.create("Spring", "renewals", OPEN_NOW, group_ids=[consent.id, registry.id])
    )
    assert isinstance(created, Campaign)
    assert (created.name, created.description, created.calling_window) == (
        "Spring",
        "renewals",
        OPEN_NOW,
    )
    assert created.block_groups == (AttachedGroup(registry.id, "Registry", "global", True),)
    assert created.allow_groups == (AttachedGroup(consent.id, "Consent", "attached", False),)
    assert created.group_ids == (registry.id, consent.id)
    assert created.created_at == clock.now
    assert await run(sdk.campaigns.get(created.id)) == created

    bare = await run(sdk.campaigns.create("Bare"))
    assert (bare.calling_window, bare.group_ids) == (None, ())
    gateway.seen.clear()
    campaigns = sdk.campaigns.list()
    assert gateway.seen == []  # nothing sent before iterating
    assert [c.name for c in await collect(campaigns)] == ["Spring", "Bare"]

    clock.advance(minutes=1)
    renamed = await run(sdk.campaigns.update(created.id, name="Summer"))
    assert (renamed.name, renamed.calling_window) == ("Summer", OPEN_NOW)  # the window stays
    assert renamed.updated_at == clock.now
    assert gateway.seen[-1][:2] == ("PATCH", f"/v1/campaigns/{created.id}")
    reshaped = await run(sdk.campaigns.update(created.id, calling_window=CLOSED_NOW))
    assert reshaped.calling_window == CallingWindow(
        ("mon", "tue", "wed", "thu", "fri", "sat"), "09:00", "17:00"
    )
    cleared = await run(sdk.campaigns.update(created.id, calling_window=None))
    assert cleared.calling_window is None
    assert (await run(sdk.campaigns.update(created.id, calling_window=KEEP))) == cleared

    detached = await run(sdk.campaigns.detach(created.id, consent.id))
    assert detached.group_ids == (registry.id,)
    assert (await run(sdk.campaigns.detach(created.id, consent.id))).group_ids == (registry.id,)
    attached = await run(sdk.campaigns.attach(created.id, [consent.id, registry.id]))
    assert attached.group_ids == (registry.id, consent.id)

    await run(sdk.campaigns.delete(bare.id))
    with pytest.raises(NotFound) as missing:
        await run(sdk.campaigns.get(bare.id))
    assert missing.value.type == "urn:callblock:problem:campaign-not-found"
    # Its groups stay.
    assert {g.id for g in await collect(sdk.groups.list())} == {registry.id, consent.id}


async def test_campaign_refusals(sdk: AnyClient, gateway: Gateway) -> None:
    spring = await run(sdk.campaigns.create("Spring"))
    with pytest.raises(Conflict) as taken:
        await run(sdk.campaigns.create("SPRING"))
    assert taken.value.errors == {"name": "already exists"}
    with pytest.raises(ValidationError) as unknown:
        await run(sdk.campaigns.attach(spring.id, [424242]))
    assert set(unknown.value.errors) == {"group_ids"}
    with pytest.raises(ValidationError) as window:
        await run(sdk.campaigns.create("Bad", calling_window={"days": ["mon"], "start": "9"}))
    assert any(field.startswith("calling_window") for field in window.value.errors)
    with pytest.raises(NotFound):
        await run(sdk.campaigns.update(424242, name="Ghost"))
    with pytest.raises(NotFound):
        await run(sdk.check("9876543210", campaign="nope"))
    with pytest.raises(NotFound):
        await run(sdk.check_many(["9876543210"], campaign=424242))

    gateway.seen.clear()
    with pytest.raises(TypeError, match="campaign_id must be an int"):
        await run(sdk.campaigns.get("1"))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="group_ids must be a list"):
        await run(sdk.campaigns.attach(spring.id, 3))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="calling_window"):
        await run(sdk.campaigns.create("X", calling_window="mon-sat"))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="campaign must be an id or a name"):
        await run(sdk.check("9876543210", campaign=True))
    with pytest.raises(ValueError, match="campaign must not be empty"):
        await run(sdk.check_many(["9876543210"], campaign=" "))
    assert gateway.seen == []


async def test_a_check_for_a_campaign_says_why(sdk: AnyClient, gateway: Gateway) -> None:
    own = await run(sdk.groups.create("Own DNC"))
    registry = await run(sdk.groups.create("Registry", consent_overrides=True))
    consent = await run(sdk.groups.create("Consent", kind="allow", scope="attached"))
    await run(sdk.numbers.add(own.id, ["9800000001"]))
    await run(sdk.numbers.add(registry.id, ["9800000002", "9800000003", "9811*"]))
    await run(sdk.numbers.add(consent.id, ["9800000003"]))
    spring = await run(sdk.campaigns.create("Spring", group_ids=[consent.id]))

    blocked = await run(sdk.check("9800000001", "outbound", campaign="spring"))
    assert isinstance(blocked, CampaignCheckResult)
    assert gateway.seen[-1] == (
        "GET",
        "/v1/check/9800000001",
        "campaign=spring&direction=outbound",
    )
    assert (blocked.number, blocked.campaign_id, blocked.campaign_name) == (
        "+919800000001",
        spring.id,
        "Spring",
    )
    assert (blocked.callable, blocked.blocked, blocked.next_callable_at) == (False, True, None)
    assert blocked.matches == (Match(own.id, "Own DNC", "+919800000001", None, "number"),)
    assert blocked.reasons == (
        Reason("blocked", own.id, "Own DNC", "+919800000001", None, None, ()),
    )
    by_prefix = await run(sdk.check("9811000007", campaign=spring.id))
    assert [r.code for r in by_prefix.reasons] == ["blocked_by_prefix"]

    lifted = await run(sdk.check("9800000003", campaign=spring.id))
    assert (lifted.callable, lifted.blocked, lifted.matches) == (True, False, ())
    [reason] = lifted.reasons
    assert (reason.code, reason.group_id, reason.pattern) == (
        "consent_overrides_block",
        registry.id,
        "+919800000003",
    )
    assert reason.allowed_by == Match(consent.id, "Consent", "+919800000003", None, "number")

    await run(sdk.campaigns.update(spring.id, calling_window=CLOSED_NOW))
    later = await run(sdk.check("9800000006", campaign="Spring"))
    assert (later.callable, later.blocked, later.next_callable_at) == (False, False, OPENS_AT)
    assert [(r.code, r.time_zones) for r in later.reasons] == [
        ("outside_calling_hours", ("Asia/Calcutta",))
    ]

    # Without a campaign, the answer is the plain check's, as before campaigns.
    plain = await run(sdk.check("9800000003"))
    assert plain == CheckResult(
        "+919800000003",
        True,
        (Match(registry.id, "Registry", "+919800000003", None, "number"),),
    )


async def test_check_many_for_a_campaign(sdk: AnyClient) -> None:
    own = await run(sdk.groups.create("Own DNC"))
    registry = await run(sdk.groups.create("Registry", consent_overrides=True))
    consent = await run(sdk.groups.create("Consent", kind="allow", scope="attached"))
    await run(sdk.numbers.add(own.id, ["9800000001"]))
    await run(sdk.numbers.add(registry.id, ["9800000003"]))
    await run(sdk.numbers.add(consent.id, ["9800000003"]))
    await run(sdk.campaigns.create("Spring", calling_window=CLOSED_NOW, group_ids=[consent.id]))

    results = await run(
        sdk.check_many(["9800000001", 9800000003, "9800000006", "nope"], campaign="Spring")
    )
    assert results == [
        CampaignBatchResult(
            "9800000001",
            "+919800000001",
            False,
            True,
            (own.id,),
            (BatchReason("blocked", own.id, "+919800000001", None),),
            None,
            None,
        ),
        CampaignBatchResult(
            9800000003,
            "+919800000003",
            False,
            False,
            (),
            (
                BatchReason("consent_overrides_block", registry.id, "+919800000003", consent.id),
                BatchReason("outside_calling_hours", None, None, None),
            ),
            OPENS_AT,
            None,
        ),
        CampaignBatchResult(
            "9800000006",
            "+919800000006",
            False,
            False,
            (),
            (BatchReason("outside_calling_hours", None, None, None),),
            OPENS_AT,
            None,
        ),
        CampaignBatchResult("nope", None, False, False, (), (), None, "not a valid phone number"),
    ]
    # Without a campaign: the plain batch, as before campaigns.
    plain = await run(sdk.check_many(["9800000003"]))
    assert plain == [BatchResult("9800000003", "+919800000003", True, (registry.id,), None)]


def test_an_entry_of_a_server_older_than_its_spaced_forms_still_reads() -> None:
    at = "2026-06-01T12:00:00Z"
    old_entry = {
        "number": "+919876543210",
        "kind": "number",
        "status": "active",
        "expires_at": None,
        "note": None,
        "source": "v1",
        "created_at": at,
        "updated_at": at,
    }
    entry = parse.entry(old_entry)
    assert entry.number == "+919876543210"
    assert (entry.national, entry.international) == (None, None)


def test_answers_of_a_server_older_than_campaigns_still_read() -> None:
    """A group, a change and its group without kind, scope or consent_overrides, and a change
    without campaign: every group of such a server is a global block group."""
    at = "2026-06-01T12:00:00Z"
    old_group = {
        "id": 1,
        "name": "Spam",
        "description": "",
        "direction": "both",
        "active_count": 0,
        "expired_count": 0,
        "created_at": at,
        "updated_at": at,
    }
    group = parse.group(old_group)
    assert (group.kind, group.scope, group.consent_overrides) == ("block", "global", False)
    change = parse.change(
        {
            "version": 1,
            "at": at,
            "action": "create",
            "group_id": 1,
            "group": {"id": 1, "name": "Spam", "description": "", "direction": "both"},
            "upserted": [],
            "removed": [],
            "block_anonymous": None,
            "note": None,
            "continued": False,
            "token": "AQAB",
        }
    )
    assert change.group == ChangedGroup(1, "Spam", "", "both", "block", "global", False)
    assert change.campaign is None


# --- insights --------------------------------------------------------------------------------


@pytest.fixture
def counting(store: Store, clock: FakeClock) -> Iterator[Service]:
    """A service that counts its checks, as the server's processes do; its counts are
    written when a test calls ``flush_counts`` (in-process, no flusher runs)."""
    yield Service(store, clock=clock, count_checks=True)
    wait_for_rechecks()


@pytest.fixture
def counted_gateway(counting: Service, database_url: str) -> Gateway:
    return Gateway(create_app(Settings(database_url=database_url), service=counting))


@pytest.fixture(params=["sync", "async"])
async def counted_sdk(
    request: pytest.FixtureRequest, counting: Service, counted_gateway: Gateway
) -> AsyncIterator[AnyClient]:
    """A client of either kind on an app whose checks are counted."""
    key = counting.create_account("counted").key
    if request.param == "sync":
        with Client(BASE_URL, key, transport=SyncASGITransport(counted_gateway)) as client:
            yield client
    else:
        transport = httpx.ASGITransport(app=counted_gateway)
        async with AsyncClient(BASE_URL, key, transport=transport) as async_client:
            yield async_client


async def test_stats_count_single_and_batch_checks_by_outcome_group_and_campaign(
    counted_sdk: AnyClient, counting: Service, clock: FakeClock
) -> None:
    sdk = counted_sdk
    dnc = await run(sdk.groups.create("DNC"))
    spam = await run(sdk.groups.create("Spam"))
    await run(sdk.numbers.add(dnc.id, ["+919800000001", "140*"]))
    await run(sdk.numbers.add(spam.id, ["+919800000001", "+919800000002"]))
    spring = await run(sdk.campaigns.create("Spring"))
    # 12:00: two single checks, one blocked by both groups.
    assert (await run(sdk.check("9800000001"))).blocked
    assert not (await run(sdk.check("9811111111"))).blocked
    clock.advance(minutes=1)
    # 12:01: a batch (Spam, DNC's prefix, nothing, not a number) and a check for a campaign.
    await run(sdk.check_many(["9800000002", "01401234567", "9811111111", "x"]))
    assert not (await run(sdk.check("9800000002", campaign="Spring"))).callable
    assert counting.flush_counts() == 7

    stats = await run(sdk.stats.get())  # the last 60 minutes up to now
    assert isinstance(stats, Stats)
    assert (stats.bucket, stats.group_id, stats.campaign_id) == ("minute", None, None)
    assert stats.end == datetime(2026, 6, 1, 12, 2, tzinfo=UTC)  # the current minute's end
    assert stats.start == stats.end - timedelta(hours=1)
    assert (stats.checks, stats.blocked, stats.blocked_share) == (7, 4, 4 / 7)
    at = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    assert stats.series == (
        StatsPoint(at, 2, 1, 0, 1),
        StatsPoint(at + timedelta(minutes=1), 5, 3, 1, 3),
    )
    assert stats.by_group == (GroupMatches(spam.id, "Spam", 3), GroupMatches(dnc.id, "DNC", 2))
    # Single checks only, the campaign's included: a batch's numbers count no hits.
    assert {(t.group_name, t.number, t.international, t.hits) for t in stats.top_entries} == {
        ("DNC", "+919800000001", "+91 98000 00001", 1),
        ("Spam", "+919800000001", "+91 98000 00001", 1),
        ("Spam", "+919800000002", "+91 98000 00002", 1),
    }
    # A group's matches per bucket, beside every check; the range given, in days.
    by_spam = await run(
        sdk.stats.get(
            "day",
            start=datetime(2026, 5, 31, 18, 0, tzinfo=ZoneInfo("Asia/Kolkata")),
            end=datetime(2026, 6, 2, tzinfo=UTC),
            group_id=spam.id,
        )
    )
    assert (by_spam.start, by_spam.end) == (datetime(2026, 5, 31, tzinfo=UTC), by_spam.end)
    assert by_spam.series == (StatsPoint(datetime(2026, 6, 1, tzinfo=UTC), 7, 4, 1, 3),)
    assert by_spam.group_id == spam.id
    # A campaign's checks only, by name or id: blocked is "not callable".
    for campaign in ("spring", spring.id):
        mine = await run(sdk.stats.get("hour", campaign=campaign))
        assert (mine.checks, mine.blocked, mine.campaign_id) == (1, 1, spring.id)
        assert mine.by_group == (GroupMatches(spam.id, "Spam", 1),)
    # An empty range of buckets: nothing counted there, and no share to divide by.
    before = await run(sdk.stats.get(end=datetime(2026, 5, 1, tzinfo=UTC)))
    assert (before.checks, before.blocked_share, before.series, before.by_group) == (0, 0.0, (), ())


async def test_stats_refusals(sdk: AnyClient, gateway: Gateway) -> None:
    now = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    with pytest.raises(ValidationError) as backwards:
        await run(sdk.stats.get(start=now, end=now - timedelta(days=1)))
    assert set(backwards.value.errors) == {"to"}
    with pytest.raises(ValidationError) as too_many:
        await run(sdk.stats.get("minute", start=now - timedelta(days=30), end=now))
    assert "more than 5,000 minutes" in too_many.value.errors["from"]
    with pytest.raises(NotFound):
        await run(sdk.stats.get(group_id=999_999))
    with pytest.raises(NotFound):
        await run(sdk.stats.get(campaign="none such"))
    queries = listed(gateway, "/v1/stats")
    assert queries[0] == "bucket=minute&from=2026-06-01T12%3A00%3A00Z&to=2026-05-31T12%3A00%3A00Z"
    gateway.seen.clear()
    # Refused before anything is sent.
    with pytest.raises(ValueError, match="bucket must be one of minute, hour, day"):
        await run(sdk.stats.get("week"))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="timezone-aware"):
        await run(sdk.stats.get(start=datetime(2026, 6, 1)))
    with pytest.raises(TypeError, match="group_id must be an int"):
        await run(sdk.stats.get(group_id="1"))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="campaign must not be empty"):
        await run(sdk.stats.get(campaign=" "))
    with pytest.raises(ValueError, match="days must be 1 or more"):
        sdk.groups.stale(1, days=0)
    with pytest.raises(TypeError, match="days must be an int"):
        await run(sdk.groups.download_stale(1, io.BytesIO(), days="30"))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="binary mode"):
        await run(sdk.groups.download_stale(1, io.StringIO()))  # type: ignore[arg-type]
    assert gateway.seen == []


async def test_stale_entries_are_listed_page_by_page_and_downloaded_as_csv(
    counted_sdk: AnyClient,
    counting: Service,
    counted_gateway: Gateway,
    clock: FakeClock,
    tmp_path: Path,
) -> None:
    sdk = counted_sdk
    group = await run(sdk.groups.create("DNC"))
    numbers = ["+919800000001", "+919800000002", "+919800000003", "140*"]
    await run(sdk.numbers.add(group.id, numbers, note='old, "kept"\nfor years'))
    clock.advance(days=40)
    assert (await run(sdk.check("9800000001"))).blocked  # matched on 2026-07-11
    clock.advance(days=10)
    counting.flush_counts()
    await run(sdk.numbers.add(group.id, ["+919800000009"]))  # not in the group 5 days ago

    stale = await collect(sdk.groups.stale(group.id, days=5, page_size=2))
    assert all(isinstance(e, StaleEntry) for e in stale)
    assert [(e.number, e.kind, e.last_matched_on) for e in stale] == [
        ("+91140*", "prefix", None),
        ("+919800000001", "number", date(2026, 7, 11)),
        ("+919800000002", "number", None),
        ("+919800000003", "number", None),
    ]
    assert stale[1].international == "+91 98000 00001"
    pages = listed(counted_gateway, f"/v1/groups/{group.id}/stale")
    assert len(pages) == 2
    assert pages[0] == "days=5&limit=2"
    assert pages[1].startswith("days=5&limit=2&cursor=")
    # Thirty days: the entry matched ten days ago is not stale; the default is 30.
    assert [e.number for e in await collect(sdk.groups.stale(group.id))] == [
        "+91140*",
        "+919800000002",
        "+919800000003",
    ]

    # The same entries as one CSV file, into a path or a file object.
    folder = tmp_path / "downloads"
    folder.mkdir()
    path = folder / "stale.csv"
    assert await run(sdk.groups.download_stale(group.id, path, days=5)) == 4
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert rows[0] == list(parse.STALE_COLUMNS)
    assert [(r[0], r[4], r[6]) for r in rows[1:]] == [
        ("+91140*", 'old, "kept"\nfor years', ""),
        ("+919800000001", 'old, "kept"\nfor years', "2026-07-11"),
        ("+919800000002", 'old, "kept"\nfor years', ""),
        ("+919800000003", 'old, "kept"\nfor years', ""),
    ]
    into = io.BytesIO(b"before:")
    into.seek(0, io.SEEK_END)  # written from where it stands
    assert await run(sdk.groups.download_stale(group.id, into, days=5)) == 4
    assert into.getvalue() == b"before:" + path.read_bytes()
    assert sorted(p.name for p in folder.iterdir()) == ["stale.csv"]  # no partial file left

    # An unknown group: NotFound, and nothing written (a file there stays as it was).
    with pytest.raises(NotFound):
        await collect(sdk.groups.stale(999_999))
    path.write_text("kept")
    with pytest.raises(NotFound):
        await run(sdk.groups.download_stale(999_999, path))
    assert path.read_text() == "kept"
    with pytest.raises(NotFound):
        await run(sdk.groups.download_stale(999_999, folder / "never.csv"))
    # An answer that is not the stale entries' CSV: an error, and the path is left alone.
    counted_gateway.answer(200, b"a,b\n1,2\n", "text/csv")
    with pytest.raises(CallblockError, match="no column 'number'"):
        await run(sdk.groups.download_stale(group.id, path))
    assert path.read_text() == "kept"
    assert sorted(p.name for p in folder.iterdir()) == ["stale.csv"]


def test_a_stale_entry_reads_its_last_match_day() -> None:
    at = "2026-06-01T12:00:00Z"
    body = {
        "number": "+919876543210",
        "kind": "number",
        "status": "active",
        "expires_at": None,
        "note": None,
        "source": "v1",
        "created_at": at,
        "updated_at": at,
        "last_matched_on": "2026-04-02",
    }
    entry = parse.stale_entry(body)
    assert (entry.number, entry.last_matched_on) == ("+919876543210", date(2026, 4, 2))
    assert parse.stale_entry({**body, "last_matched_on": None}).last_matched_on is None
    with pytest.raises(parse.Malformed, match="'last_matched_on' is not a date"):
        parse.stale_entry({**body, "last_matched_on": "yesterday"})


@pytest.mark.server
async def test_a_real_server_counts_the_checks_the_sdk_reads_back(
    database_url: str, tmp_path: Path
) -> None:
    server = start_server(database_url, stats_flush_seconds="0.3")
    try:
        wait_ready(server)
        key = create_account("counted", database_url=database_url)
        with Client(server.url, key) as client:
            group = client.groups.create("DNC")
            client.numbers.add(group.id, ["+919800000001"])
            client.campaigns.create("Spring")
            assert client.check("9800000001").blocked
            assert not client.check("9811111111").blocked
            client.check_many(["9800000001", "9811111111", "x"])
            assert not client.check("9800000001", campaign="Spring").callable
            deadline = time.monotonic() + 15  # each flush is 0.3 s apart
            while (stats := client.stats.get("hour")).checks < 6 and time.monotonic() < deadline:
                time.sleep(0.1)
            assert (stats.checks, stats.blocked) == (6, 3)
            assert [(p.checks, p.blocked, p.invalid) for p in stats.series] == [(6, 3, 1)]
            assert stats.by_group == (GroupMatches(group.id, "DNC", 3),)
            assert [(t.number, t.hits) for t in stats.top_entries] == [("+919800000001", 2)]
            spring = client.stats.get("day", campaign="Spring", group_id=group.id)
            assert [(p.checks, p.blocked, p.matched) for p in spring.series] == [(1, 1, 1)]
            # Entries added just now are in no stale listing: they were not there a day ago.
            assert list(client.groups.stale(group.id, days=1)) == []
            assert client.groups.download_stale(group.id, tmp_path / "s.csv", days=1) == 0
            header = (tmp_path / "s.csv").read_text().splitlines()
            assert header == [",".join(parse.STALE_COLUMNS)]
            with pytest.raises(NotFound):
                client.stats.get(campaign="none such")
        async with AsyncClient(server.url, key) as async_client:
            assert await async_client.stats.get("hour", end=stats.end) == stats
    finally:
        stop_server(server)


# --- audit -----------------------------------------------------------------------------------


async def test_audit_lists_newest_first_with_filters(sdk: AnyClient, clock: FakeClock) -> None:
    first = await run(sdk.groups.create("First"))
    second = await run(sdk.groups.create("Second"))
    await run(sdk.numbers.add(first.id, ["9876543210"]))
    clock.advance(hours=1)
    later = clock.now
    await run(sdk.numbers.add(second.id, ["9876543210", "9123456780"]))
    await run(sdk.groups.update(first.id, name="Renamed"))
    await run(sdk.numbers.remove(first.id, ["9876543210"]))

    events = await collect(sdk.audit.list(page_size=2))  # 6 events: 3 pages
    assert [e.action for e in events] == ["remove", "rename", "add", "add", "create", "create"]
    assert [e.id for e in events] == sorted((e.id for e in events), reverse=True)
    rename = events[1]
    assert (rename.group_id, rename.surface, rename.count, rename.numbers) == (
        first.id,
        "v1",
        0,
        (),
    )
    assert rename.detail == {
        "name": "Renamed",
        "previous": {"name": "First"},
        "previous_name": "First",
    }
    assert rename.key_id is not None
    assert rename.at == later

    mine = await collect(sdk.audit.list(group_id=second.id))
    assert [(e.action, e.numbers) for e in mine] == [
        ("add", ("+919876543210", "+919123456780")),
        ("create", ()),
    ]
    touching = await collect(sdk.audit.list(number="098765 43210"))
    assert [(e.action, e.group_id) for e in touching] == [
        ("remove", first.id),
        ("add", second.id),
        ("add", first.id),
    ]
    since = await collect(sdk.audit.list(since=later.astimezone(ZoneInfo("America/New_York"))))
    assert [e.action for e in since] == ["remove", "rename", "add"]
    both = await collect(sdk.audit.list(group_id=first.id, number="9876543210", since=later))
    assert [e.action for e in both] == ["remove"]
    before = await collect(sdk.audit.list(until=later))
    assert [e.action for e in before] == [e.action for e in events if e.at < later]
    assert before
    assert all(e.at < later for e in before)


async def test_audit_events_name_the_label_of_the_key_used(
    sdk: AnyClient, connect: Connect
) -> None:
    (own_key,) = await collect(sdk.keys.list())
    issued = await run(sdk.keys.create("nightly import", scopes=["write"]))
    importer = connect(issued.key)
    group = await run(importer.groups.create("Imported"))

    events = await collect(sdk.audit.list())
    assert [(e.action, e.key_id, e.key_label) for e in events] == [
        ("create", issued.id, "nightly import"),
        ("key-issue", own_key.id, ""),  # the account's first key has no label
    ]
    assert events[0].group_id == group.id


def test_an_audit_event_without_a_key_label_still_reads() -> None:
    """A server older than key labels sends none: the event reads, and says nothing of it."""
    event = parse.audit_event(
        {
            "id": 7,
            "at": "2026-06-01T12:00:00Z",
            "surface": "v1",
            "action": "add",
            "group_id": 1,
            "key_id": 3,
            "count": 1,
            "numbers": ["+919876543210"],
            "detail": None,
        }
    )
    assert (event.key_id, event.key_label) == (3, None)


# --- API keys --------------------------------------------------------------------------------


async def test_keys_are_listed_issued_with_scopes_and_revoked(
    sdk: AnyClient, connect: Connect, gateway: Gateway, clock: FakeClock
) -> None:
    (own_key,) = await collect(sdk.keys.list())
    assert isinstance(own_key, ApiKey)
    assert (own_key.label, own_key.scopes, own_key.revoked_at) == (
        "",
        ("admin", "check", "read", "write"),
        None,
    )

    clock.advance(minutes=1)
    issued = await run(sdk.keys.create("dialer 7", scopes=["check"]))
    assert isinstance(issued, IssuedApiKey)
    assert (issued.label, issued.scopes, issued.revoked_at) == ("dialer 7", ("check",), None)
    assert issued.created_at == clock.now
    assert issued.key.startswith(issued.prefix)
    assert issued.key not in repr(issued)  # a logged result does not leak the key
    gateway.seen.clear()
    keys = sdk.keys.list()
    assert gateway.seen == []  # nothing sent before iterating
    listed = await collect(keys)
    assert listed == [
        own_key,
        ApiKey(issued.id, "dialer 7", ("check",), issued.prefix, clock.now, None),
    ]

    # The new key does what its scope allows, and is refused the rest, naming the scope.
    dialer = connect(issued.key)
    assert (await run(dialer.check("9876543210"))).blocked is False
    refusals: list[tuple[Callable[[], Any], str]] = [
        (lambda: dialer.groups.create("Mine"), "write"),
        (lambda: collect(dialer.groups.list()), "read"),
        (lambda: collect(dialer.keys.list()), "admin"),
        (lambda: dialer.keys.create(scopes=["admin"]), "admin"),
    ]
    for attempt, needed in refusals:
        with pytest.raises(Forbidden) as info:
            await run(attempt())
        assert info.value.status == 403
        assert info.value.type == "urn:callblock:problem:scope-missing"
        assert info.value.needed_scope == needed
        assert needed in info.value.detail
    assert [g.name for g in await collect(sdk.groups.list())] == []  # nothing was written

    clock.advance(minutes=1)
    await run(sdk.keys.revoke(issued.id))
    with pytest.raises(AuthError):
        await run(dialer.check("9876543210"))
    await run(sdk.keys.revoke(issued.id))  # a revoked key again: no error
    revoked = (await collect(sdk.keys.list()))[1]
    assert (revoked.id, revoked.revoked_at) == (issued.id, clock.now)


async def test_revoking_an_unknown_or_foreign_key_is_not_found(
    sdk: AnyClient, connect: Connect, other_account: Credentials
) -> None:
    (theirs,) = await collect(connect(other_account.key).keys.list())
    for missing in (theirs.id, 10**9):
        with pytest.raises(NotFound) as info:
            await run(sdk.keys.revoke(missing))
        assert info.value.type == "urn:callblock:problem:key-not-found"
    assert (await collect(connect(other_account.key).keys.list()))[0].revoked_at is None


async def test_key_arguments_refused_before_anything_is_sent(
    sdk: AnyClient, gateway: Gateway
) -> None:
    with pytest.raises(TypeError, match="not a single string"):
        await run(sdk.keys.create("dialer", scopes="check"))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="scopes must be a list of scopes, not NoneType"):
        await run(sdk.keys.create("dialer", scopes=None))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="each of scopes must be a string, not int"):
        await run(sdk.keys.create("dialer", scopes=["check", 3]))  # type: ignore[list-item]
    with pytest.raises(ValueError, match="at least one"):
        await run(sdk.keys.create("dialer", scopes=[]))
    with pytest.raises(TypeError, match="key_id must be an int"):
        await run(sdk.keys.revoke("1"))  # type: ignore[arg-type]
    assert gateway.seen == []

    # Which names are scopes is the API's to say.
    with pytest.raises(ValidationError) as info:
        await run(sdk.keys.create("dialer", scopes=["check", "root"]))  # type: ignore[list-item]
    assert set(info.value.errors) == {"scopes.1"}  # the second of them
    with pytest.raises(ValidationError) as info:
        await run(sdk.keys.create("x" * 65, scopes=["check"]))
    assert set(info.value.errors) == {"label"}
    assert len(await collect(sdk.keys.list())) == 1  # nothing was issued


# --- errors from real answers ------------------------------------------------------------------


async def test_a_wrong_key_is_an_auth_error(connect: Connect) -> None:
    stranger = connect("cb_not-a-real-key")
    with pytest.raises(AuthError) as info:
        await run(stranger.account.get())
    error = info.value
    assert error.status == 401
    assert error.type == "urn:callblock:problem:credentials-refused"
    assert error.title == "Credentials refused"
    assert "Bearer" in error.detail
    assert error.errors == {}
    assert str(error).startswith("401 Credentials refused: The credentials sent were refused: ")
    with pytest.raises(AuthError):
        await collect(stranger.groups.list())


async def test_missing_and_foreign_groups_are_not_found(
    sdk: AnyClient, connect: Connect, other_account: Credentials
) -> None:
    other = connect(other_account.key)
    theirs = await run(other.groups.create("Theirs"))
    await run(other.numbers.add(theirs.id, ["9876543210"]))

    for missing in (theirs.id, 10**9):
        with pytest.raises(NotFound) as info:
            await run(sdk.groups.get(missing))
        assert info.value.status == 404
        assert info.value.type == "urn:callblock:problem:group-not-found"
        assert info.value.detail == "No such group."
        with pytest.raises(NotFound):
            await collect(sdk.numbers.list(missing))
        with pytest.raises(NotFound):
            await run(sdk.numbers.add(missing, ["9123456780"]))
        with pytest.raises(NotFound):
            await run(sdk.numbers.remove(missing, ["9876543210"]))
        with pytest.raises(NotFound):
            await run(sdk.numbers.purge_expired(missing))
        with pytest.raises(NotFound):
            await run(sdk.groups.update(missing, name="Mine now"))
        with pytest.raises(NotFound):
            await run(sdk.groups.delete(missing))
    assert await collect(sdk.audit.list(group_id=theirs.id)) == []
    assert [e.number for e in await collect(other.numbers.list(theirs.id))] == ["+919876543210"]


async def test_a_taken_name_is_a_conflict(sdk: AnyClient) -> None:
    await run(sdk.groups.create("Spam"))
    other = await run(sdk.groups.create("Ham"))
    attempts: list[Callable[[], Any]] = [
        lambda: sdk.groups.create("SPAM"),
        lambda: sdk.groups.update(other.id, name="spam"),
    ]
    for attempt in attempts:
        with pytest.raises(Conflict) as info:
            await run(attempt())
        assert info.value.status == 409
        assert info.value.type == "urn:callblock:problem:name-taken"
        assert info.value.errors == {"name": "already exists"}
    copy = pickle.loads(pickle.dumps(info.value))
    assert type(copy) is Conflict
    assert (copy.args, copy.status, copy.errors, copy.type) == (
        info.value.args,
        409,
        {"name": "already exists"},
        "urn:callblock:problem:name-taken",
    )


async def test_invalid_fields_are_validation_errors_per_field(sdk: AnyClient) -> None:
    with pytest.raises(ValidationError) as info:
        await run(sdk.groups.create("!", description="x" * 60))
    error = info.value
    assert error.status == 422
    assert error.type == "urn:callblock:problem:validation"
    assert set(error.errors) == {"name", "description"}
    assert "2 to 50 characters" in error.errors["name"]

    group = await run(sdk.groups.create("Valid"))
    with pytest.raises(ValidationError) as info:
        await run(sdk.numbers.add(group.id, []))
    assert set(info.value.errors) == {"numbers"}
    with pytest.raises(ValidationError) as info:
        await collect(sdk.groups.list(page_size=0))
    assert set(info.value.errors) == {"limit"}
    with pytest.raises(ValidationError) as info:
        await collect(sdk.audit.list(number="12"))
    assert info.value.errors == {"number": "not a valid phone number or prefix"}
    with pytest.raises(ValidationError) as info:
        await run(sdk.groups.create("Bad direction", direction="sideways"))  # type: ignore[arg-type]
    assert set(info.value.errors) == {"direction"}


async def test_a_body_over_the_limit_is_a_validation_error(sdk: AnyClient) -> None:
    group = await run(sdk.groups.create("Big"))
    with pytest.raises(ValidationError) as info:
        await run(sdk.numbers.add(group.id, ["9" * 1_100_000]))
    assert info.value.status == 413
    assert info.value.type == "urn:callblock:problem:request-body-too-large"


async def test_an_unavailable_store_is_a_server_error(
    sdk: AnyClient, service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unavailable(*_args: object, **_kwargs: object) -> None:
        raise StoreUnavailable("database is locked")

    monkeypatch.setattr(service, "group_detail", unavailable)
    with pytest.raises(ServerError) as info:
        await run(sdk.groups.get(1))
    assert info.value.status == 503
    assert info.value.title == "Service unavailable"


async def test_no_answer_is_a_transport_error() -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nobody listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    for client in (
        Client(f"http://127.0.0.1:{port}", "cb_key", timeout=2),
        AsyncClient(f"http://127.0.0.1:{port}", "cb_key", timeout=2),
    ):
        try:
            with pytest.raises(TransportError) as info:
                await run(client.account.get())
        finally:
            if isinstance(client, Client):
                client.close()
            else:
                await client.aclose()
        assert isinstance(info.value, CallblockError)
        assert info.value.status is None
        assert isinstance(info.value.__cause__, httpx.ConnectError)
        assert "GET /v1/account" in str(info.value)


async def test_a_silent_server_is_a_transport_error() -> None:
    with socket.socket() as silent:  # accepts connections (backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        with Client(url, "cb_key", timeout=0.2) as client, pytest.raises(TransportError) as info:
            client.groups.get(1)
        assert isinstance(info.value.__cause__, httpx.ReadTimeout)
        async with AsyncClient(url, "cb_key", timeout=0.2) as aclient:
            with pytest.raises(TransportError) as info:
                await aclient.groups.get(1)
        assert isinstance(info.value.__cause__, httpx.ReadTimeout)


class _SlowAnswers:
    """A stand-in for the API that reads each request whole, then waits ``delay`` seconds
    before it answers (as the server does while it writes a registry's file)."""

    IMPORTED = b'{"added":2,"updated":0,"repeats":0,"removed":0,"invalid":[],"header":null}'

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        with conn:
            received = b""
            while b"\r\n\r\n" not in received:
                received += conn.recv(65536)
            if b"chunked" in received.lower():  # the file: read to its last chunk
                while not received.endswith(b"0\r\n\r\n"):
                    received += conn.recv(65536)
            threading.Event().wait(self.delay)
            body = self.IMPORTED
            head = (
                f"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {len(body)}"
            )
            conn.sendall(head.encode() + b"\r\nconnection: close\r\n\r\n" + body)

    def close(self) -> None:
        self.listener.close()


async def test_an_import_waits_for_the_answer_beyond_the_timeout(tmp_path: Path) -> None:
    """The timeout bounds connecting and each call's wait, but an import's answer comes
    once the server has written the whole file: it is awaited however long that takes."""
    file = tmp_path / "registry.txt"
    file.write_text("9876543210\n9876543211\n")
    server = _SlowAnswers(delay=0.6)
    try:
        with Client(server.url, "cb_key", timeout=0.2) as client:
            with pytest.raises(TransportError) as info:  # an ordinary call: 0.6 s is too long
                client.groups.get(1)
            assert isinstance(info.value.__cause__, httpx.ReadTimeout)
            assert client.numbers.import_file(1, file).added == 2
        async with AsyncClient(server.url, "cb_key", timeout=0.2) as aclient:
            with pytest.raises(TransportError) as info:
                await aclient.groups.get(1)
            assert isinstance(info.value.__cause__, httpx.ReadTimeout)
            assert (await aclient.numbers.import_file(1, file)).added == 2
    finally:
        server.close()


# --- errors from a gateway in front of the API ---------------------------------------------------


async def test_rate_limited_carries_retry_after(sdk: AnyClient, gateway: Gateway) -> None:
    problem = b'{"type":"urn:example:slow-down","title":"Too many requests","status":429,"detail":"Slow down."}'
    gateway.answer(429, problem, "application/problem+json", retry_after="7")
    with pytest.raises(RateLimited) as info:
        await run(sdk.account.get())
    assert (info.value.status, info.value.retry_after, info.value.detail) == (
        429,
        7.0,
        "Slow down.",
    )
    assert pickle.loads(pickle.dumps(info.value)).retry_after == 7.0
    assert info.value.type == "urn:example:slow-down"

    in_a_minute = format_datetime(datetime.now(UTC) + timedelta(seconds=60), usegmt=True)
    gateway.answer(429, b"slow down", "text/plain", retry_after=in_a_minute)
    with pytest.raises(RateLimited) as info:
        await collect(sdk.groups.list())
    assert info.value.retry_after is not None
    assert 50 < info.value.retry_after <= 60
    assert (info.value.type, info.value.detail) == (None, "slow down")

    gateway.answer(429, b"{}", "application/json")
    with pytest.raises(RateLimited) as info:
        await run(sdk.check("9876543210"))
    assert info.value.retry_after is None


@pytest.mark.parametrize(
    ("status", "body", "content_type", "expected"),
    [
        (502, b"<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html", ServerError),
        (500, b"", "text/plain", ServerError),
        (401, b'{"message": "Unauthorized"}', "application/json", AuthError),
        (403, b"<html>denied by the proxy</html>", "text/html", Forbidden),
        (404, b"no route", "text/plain", NotFound),
        (409, b"[1, 2]", "application/json", Conflict),
        (400, b"bad", "text/plain", ValidationError),
        (413, b"<html>too big</html>", "text/html", ValidationError),
        (405, b'{"detail": "Method Not Allowed"}', "application/json", CallblockError),
    ],
)
async def test_non_problem_bodies_map_by_status(
    sdk: AnyClient,
    gateway: Gateway,
    status: int,
    body: bytes,
    content_type: str,
    expected: type[CallblockError],
) -> None:
    gateway.answer(status, body, content_type)
    with pytest.raises(CallblockError) as info:
        await run(sdk.groups.get(1))
    assert type(info.value) is expected
    assert info.value.status == status
    assert info.value.type is None
    assert info.value.title  # the reason phrase when the body names none
    if isinstance(info.value, Forbidden):
        assert info.value.needed_scope is None


async def test_fastapi_default_validation_bodies_keep_their_fields(
    sdk: AnyClient, gateway: Gateway
) -> None:
    body = b'{"detail": [{"loc": ["body", "name"], "msg": "Field required", "type": "missing"}]}'
    gateway.answer(422, body, "application/json")
    with pytest.raises(ValidationError) as info:
        await run(sdk.groups.create("x"))
    assert info.value.errors == {"name": "Field required"}


async def test_an_unreadable_success_is_a_callblock_error(sdk: AnyClient, gateway: Gateway) -> None:
    gateway.answer(200, b"<html>captive portal</html>", "text/html")
    with pytest.raises(CallblockError) as info:
        await run(sdk.account.get())
    assert type(info.value) is CallblockError
    assert info.value.status == 200
    gateway.answer(
        200, b'{"data": [{"id": "1"}], "count": 1, "next_cursor": null}', "application/json"
    )
    with pytest.raises(CallblockError, match="'id' is not an integer"):
        await collect(sdk.groups.list())
    gateway.answer(200, b'{"data": [], "count": 9, "next_cursor": "same"}', "application/json")
    with pytest.raises(CallblockError, match="does not advance"):
        await collect(sdk.groups.list())


# --- arguments refused before sending ----------------------------------------------------------


async def test_arguments_refused_before_anything_is_sent(sdk: AnyClient, gateway: Gateway) -> None:
    naive = datetime(2030, 1, 1, 12, 0)
    with pytest.raises(ValueError, match="timezone-aware"):
        await run(sdk.numbers.add(1, ["9876543210"], expires_at=naive))
    with pytest.raises(ValueError, match="timezone-aware"):
        sdk.audit.list(since=naive)
    with pytest.raises(TypeError, match="not a single string"):
        await run(sdk.numbers.add(1, "9876543210"))
    with pytest.raises(TypeError, match="not a single string"):
        await run(sdk.check_many("9876543210"))
    with pytest.raises(TypeError, match="group_id must be an int"):
        await run(sdk.groups.get("1/../../account"))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="group_id must be an int"):
        sdk.numbers.list(True)
    with pytest.raises(ValueError, match="must not be empty"):
        await run(sdk.check(""))
    with pytest.raises(ValueError, match="api_key"):
        Client(BASE_URL, "")
    assert gateway.seen == []


# --- imports of files ---------------------------------------------------------------------------


class ReadRecorder(io.BytesIO):
    """A binary file that records the size of each read asked of it."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.sizes: list[int | None] = []

    def read(self, size: int | None = -1, /) -> bytes:
        self.sizes.append(size)
        return super().read(size)


async def numbers_of(sdk: AnyClient, group_id: int) -> list[str]:
    return [entry.number for entry in await collect(sdk.numbers.list(group_id))]


async def test_import_file_adds_from_a_path_named_by_its_base_name(
    sdk: AnyClient, gateway: Gateway, tmp_path: Path
) -> None:
    group = await run(sdk.groups.create("Registry"))
    await run(sdk.numbers.add(group.id, ["9000000001"]))
    path = tmp_path / "dnc-2026-12.csv"
    path.write_text("phone,note\n9876543210,a\n9000000001,b\n+91 98765 43210,c\n")

    result = await run(sdk.numbers.import_file(group.id, path))

    assert result == ImportResult(
        added=1,
        updated=1,
        repeats=1,
        removed=0,
        invalid=(),
        header=HeaderLine(1, ("phone", "note")),
    )
    assert await numbers_of(sdk, group.id) == ["+919000000001", "+919876543210"]
    method, seen_path, query = gateway.seen[-2]  # the listing came after
    assert (method, seen_path) == ("POST", f"/v1/groups/{group.id}/numbers:import")
    assert "file_name=dnc-2026-12.csv" in query
    refreshed = await run(sdk.groups.get(group.id))
    assert refreshed.refreshed_from == "dnc-2026-12.csv"
    assert refreshed.refreshed_at is not None
    # A str path too, and a file_name given is the one recorded.
    plain = tmp_path / "plain.txt"
    plain.write_text("9123456780\n")
    again = await run(sdk.numbers.import_file(group.id, str(plain), file_name="December"))
    assert (again.added, again.header) == (1, None)
    assert (await run(sdk.groups.get(group.id))).refreshed_from == "December"


async def test_import_file_sets_a_note_on_the_files_entries(
    sdk: AnyClient, gateway: Gateway
) -> None:
    group = await run(sdk.groups.create("Noted"))
    file = io.BytesIO(b"9876543210\n9000000001\n")
    result = await run(sdk.numbers.import_file(group.id, file, note="registry June"))
    assert result.added == 2
    assert "note=registry+June" in gateway.seen[-1][2]
    notes = {e.number: e.note for e in await collect(sdk.numbers.list(group.id))}
    assert notes == {"+919000000001": "registry June", "+919876543210": "registry June"}


async def test_import_file_streams_a_file_object_from_where_it_stands(sdk: AnyClient) -> None:
    group = await run(sdk.groups.create("Streamed"))
    numbers = [f"9{index:09d}" for index in range(20_000)]  # 220 kB: several chunks
    file = ReadRecorder(b"skipped,line\n" + "\n".join(numbers).encode())
    file.seek(len(b"skipped,line\n"))

    result = await run(sdk.numbers.import_file(group.id, file, line_format="plain"))

    assert (result.added, result.header, result.invalid) == (20_000, None, ())
    # Read a chunk at a time, never whole, and left open for its owner to close.
    assert len(file.sizes) > 3
    assert all(size is not None and 0 < size <= 64 * 1024 for size in file.sizes)
    assert not file.closed
    refreshed = await run(sdk.groups.get(group.id))
    assert (refreshed.active_count, refreshed.refreshed_from) == (20_000, None)
    assert refreshed.refreshed_at is not None


async def test_a_replace_past_max_removal_is_refused_until_allowed(sdk: AnyClient) -> None:
    group = await run(sdk.groups.create("Replaced"))
    await run(sdk.numbers.add(group.id, [f"900000000{digit}" for digit in range(1, 6)]))
    file = b"9000000001\n9876543210\n"

    with pytest.raises(TooManyRemovals) as refused:
        await run(sdk.numbers.import_file(group.id, io.BytesIO(file), mode="replace"))
    error = refused.value
    assert isinstance(error, Conflict)  # the status's class catches it too
    assert (error.status, error.type) == (409, "urn:callblock:problem:too-many-removals")
    assert (error.removing, error.present, error.max_removal) == (4, 5, 0.2)
    assert len(await numbers_of(sdk, group.id)) == 5  # nothing written
    assert (await run(sdk.groups.get(group.id))).refreshed_at is None

    with pytest.raises(TooManyRemovals) as still:
        await run(
            sdk.numbers.import_file(group.id, io.BytesIO(file), mode="replace", max_removal=0.5)
        )
    assert still.value.max_removal == 0.5

    result = await run(
        sdk.numbers.import_file(group.id, io.BytesIO(file), mode="replace", max_removal=0.8)
    )
    assert (result.added, result.updated, result.removed) == (1, 1, 4)
    assert await numbers_of(sdk, group.id) == ["+919000000001", "+919876543210"]


async def test_a_change_list_adds_and_deletes_in_order(sdk: AnyClient) -> None:
    group = await run(sdk.groups.create("Changes"))
    await run(sdk.numbers.add(group.id, ["9000000001", "9000000002"]))
    file = b"number,what\n9876543210,A\n9000000001,D\n9000000003,+\n9000000003,-\n"

    result = await run(
        sdk.numbers.import_file(group.id, io.BytesIO(file), mode="changes", op_column="what")
    )

    assert (result.added, result.removed) == (1, 1)
    assert result.header == HeaderLine(1, ("number", "what"))
    assert await numbers_of(sdk, group.id) == ["+919000000002", "+919876543210"]


async def test_invalid_lines_refuse_the_file_unless_skipped(sdk: AnyClient) -> None:
    group = await run(sdk.groups.create("Invalid"))
    file = b"9876543210\nnonsense\n9000000001\n12\n"

    with pytest.raises(InvalidLines) as refused:
        await run(sdk.numbers.import_file(group.id, io.BytesIO(file)))
    error = refused.value
    assert isinstance(error, ValidationError)
    assert (error.status, error.type) == (422, "urn:callblock:problem:invalid-lines")
    assert [(line.line, line.input) for line in error.invalid_lines] == [
        (2, "nonsense"),
        (4, "12"),
    ]
    assert all(isinstance(line, InvalidLine) and line.reason for line in error.invalid_lines)
    assert error.total == 2
    assert await numbers_of(sdk, group.id) == []  # nothing written

    result = await run(sdk.numbers.import_file(group.id, io.BytesIO(file), skip_invalid=True))
    assert result.added == 2
    assert result.invalid == error.invalid_lines
    assert await numbers_of(sdk, group.id) == ["+919000000001", "+919876543210"]


async def test_invalid_lines_count_those_the_answer_does_not_list(
    sdk: AnyClient, gateway: Gateway
) -> None:
    listed = {"line": 7, "input": "x", "reason": "not a valid phone number"}
    body = {
        "type": "urn:callblock:problem:invalid-lines",
        "title": "Invalid lines",
        "status": 422,
        "detail": "12,345 invalid lines: nothing was imported.",
        "invalid_lines": [listed],
    }
    gateway.answer(422, json.dumps(body).encode(), "application/problem+json")
    with pytest.raises(InvalidLines) as refused:
        await run(sdk.numbers.import_file(1, io.BytesIO(b"x\n")))
    assert refused.value.invalid_lines == (InvalidLine(7, "x", "not a valid phone number"),)
    assert refused.value.total == 12_345


async def test_import_arguments_refused_before_anything_is_sent(
    sdk: AnyClient, gateway: Gateway, tmp_path: Path
) -> None:
    file = io.BytesIO(b"9876543210\n")
    with pytest.raises(ValueError, match="mode must be one of"):
        await run(sdk.numbers.import_file(1, file, mode="merge"))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_removal must be from 0 to 1"):
        await run(sdk.numbers.import_file(1, file, mode="replace", max_removal=1.5))
    with pytest.raises(ValueError, match="line_format must be one of"):
        await run(sdk.numbers.import_file(1, file, line_format="xml"))  # type: ignore[arg-type]
    with (tmp_path / "numbers.txt").open("w+") as text, pytest.raises(TypeError, match="binary"):
        await run(sdk.numbers.import_file(1, text))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="group_id must be an int"):
        await run(sdk.numbers.import_file("1", file))  # type: ignore[arg-type]
    assert gateway.seen == []


# --- the module's shape ------------------------------------------------------------------------


# The package's modules: those whose public names are the SDK's API, and its private machinery.
API_MODULES = ("_errors", "_models", "_async", "_sync")
MACHINERY_MODULES = ("_parse", "_operations", "_mirror")


def _names_of(path: Path) -> tuple[set[str], set[str]]:
    """The public names a module defines at top level, and every name it imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    defined: set[str] = set()
    imported: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            defined.add(node.name)
        elif isinstance(node, ast.Assign):
            defined.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            defined.add(node.target.id)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            imported.update((a.asname or a.name).split(".")[0] for a in node.names)
    return {name for name in defined if not name.startswith("_")}, imported


def test_all_names_exactly_the_public_names() -> None:
    exported = sdk_module.__all__
    assert len(exported) == len(set(exported))
    for name in exported:
        assert hasattr(sdk_module, name), name

    # Every module of the package is known to be API or machinery, and each one's __all__
    # names exactly the public names it defines.
    package = Path(sdk_module.__file__).parent
    modules = {module.name for module in pkgutil.iter_modules([str(package)])}
    assert modules == set(API_MODULES) | set(MACHINERY_MODULES)
    for name in modules:
        module = importlib.import_module(f"callblock.client.{name}")
        public, _ = _names_of(package / f"{name}.py")
        assert set(module.__all__) == public, name
    # The package exports exactly what its API modules define, each name from one module, and
    # nothing of the machinery.
    api = [importlib.import_module(f"callblock.client.{name}") for name in API_MODULES]
    owners = {name: module for module in api for name in module.__all__}
    assert len(owners) == sum(len(module.__all__) for module in api)
    assert set(exported) == set(owners)
    for name, owner in owners.items():
        assert getattr(sdk_module, name) is getattr(owner, name), name

    # Nothing public appears at run time that is neither exported nor an import.
    init_defines, imported = _names_of(package / "__init__.py")
    assert init_defines == set()  # the package only re-exports
    at_runtime = {name for name in vars(sdk_module) if not name.startswith("_")}
    assert at_runtime - set(exported) <= imported

    namespace: dict[str, Any] = {}
    exec("from callblock.client import *", namespace)
    assert set(namespace) - {"__builtins__"} == set(exported)


def test_the_top_level_package_re_exports_the_sdk() -> None:
    # `from callblock import Client` keeps working, with the very same objects.
    for name in set(callblock.__all__) - {"__version__"}:
        assert name in sdk_module.__all__, name
        assert getattr(callblock, name) is getattr(sdk_module, name), name
    namespace: dict[str, Any] = {}
    exec("from callblock import Client, AsyncClient, NotFound", namespace)
    assert namespace["Client"] is Client
    assert namespace["AsyncClient"] is AsyncClient
    assert namespace["NotFound"] is NotFound


def test_errors_keep_the_name_users_catch_and_pickle() -> None:
    # Defined in a private module, shown and pickled as callblock.client.X, as before the split.
    for cls in (
        CallblockError,
        AuthError,
        Forbidden,
        NotFound,
        Conflict,
        ValidationError,
        RateLimited,
        ServerError,
        TransportError,
        ChangesReset,
        TooManyRemovals,
        InvalidLines,
    ):
        assert cls.__module__ == "callblock.client", cls
        assert getattr(sdk_module, cls.__name__) is cls
    assert b"callblock.client" in pickle.dumps(NotFound("404 Not Found", status=404))
    assert b"_errors" not in pickle.dumps(NotFound("404 Not Found", status=404))
    reset = pickle.loads(pickle.dumps(ChangesReset("reset", status=200, token="AQAB")))
    assert (type(reset), reset.token) == (ChangesReset, "AQAB")
    refused = pickle.loads(pickle.dumps(TooManyRemovals("409", removing=4, present=5)))
    assert (type(refused), refused.removing, refused.present) == (TooManyRemovals, 4, 5)
    lines = (InvalidLine(2, "x", "not a valid phone number"),)
    invalid = pickle.loads(pickle.dumps(InvalidLines("422", invalid_lines=lines, total=9)))
    assert (invalid.invalid_lines, invalid.total) == (lines, 9)
    refused_scope = pickle.loads(pickle.dumps(Forbidden("403", needed_scope="write")))
    assert (type(refused_scope), refused_scope.needed_scope) == (Forbidden, "write")


# --- the sync client is generated from the async one -------------------------------------------

GENERATOR_PATH = Path(__file__).resolve().parent.parent / "tools" / "unasync_client.py"


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("unasync_client", GENERATOR_PATH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_sync_client_is_generated_from_the_async_one() -> None:
    # A hand edit of _sync.py, or an edit of _async.py without regenerating, fails here.
    committed = (Path(sdk_module.__file__).parent / "_sync.py").read_text(encoding="utf-8")
    assert _generator().generate() == committed, (
        "stale _sync.py: run python tools/unasync_client.py"
    )
    assert committed.startswith("# Generated from _async.py by python tools/unasync_client.py")


def test_the_generator_refuses_what_it_cannot_make_sync() -> None:
    generator = _generator()
    source = '"""Doc."""\n\n\nasync def fetch(pool: AsyncPool) -> None:\n    await pool.get()\n'
    with pytest.raises(generator.GeneratorError, match="'AsyncPool' has no sync form"):
        generator.generate(source)
    prose = '"""Doc."""\n\n\nasync def fetch() -> None:\n    """Return the async answer."""\n'
    with pytest.raises(generator.GeneratorError, match="'async' has no sync form"):
        generator.generate(prose)
    plain = '"""Doc."""\n\n\nasync def fetch(client: AsyncClient) -> None:\n    async with client:\n        await client.aclose()\n'
    generated = generator.generate(plain)
    assert (
        "def fetch(client: Client) -> None:\n    with client:\n        client.close()\n"
        in generated
    )


MIRRORS = [
    (Client, AsyncClient),
    (GroupsAPI, AsyncGroupsAPI),
    (NumbersAPI, AsyncNumbersAPI),
    (CampaignsAPI, AsyncCampaignsAPI),
    (AuditAPI, AsyncAuditAPI),
    (AccountAPI, AsyncAccountAPI),
    (KeysAPI, AsyncKeysAPI),
    (StatsAPI, AsyncStatsAPI),
    (Changes, AsyncChanges),
    (Mirror, AsyncMirror),
]
# Methods that are not awaited: listings (async iterators), the change feed (an object to
# iterate, whose `token` is read afterwards) and the mirror's check (answered locally).
NOT_AWAITED = {
    "list": "AsyncIterator[",
    "export": "AsyncIterator[",
    "stale": "AsyncIterator[",
    "changes": "AsyncChanges",
}
LOCAL = {"check": Mirror}


@pytest.mark.parametrize(("sync_cls", "async_cls"), MIRRORS)
def test_the_clients_are_mirror_images(sync_cls: type, async_cls: type) -> None:
    def methods(cls: type) -> dict[str, Any]:
        return {
            name: value
            for name, value in vars(cls).items()
            if callable(value) and not name.startswith("_")
        }

    sync, async_ = methods(sync_cls), methods(async_cls)
    assert set(sync) - {"close"} == set(async_) - {"aclose"}
    for name, method in sync.items():
        if name == "close":
            continue
        twin = async_[name]
        assert inspect.signature(method).parameters == inspect.signature(twin).parameters, name
        assert not inspect.iscoroutinefunction(method)
        local = LOCAL.get(name) is sync_cls
        assert inspect.iscoroutinefunction(twin) == (name not in NOT_AWAITED and not local), name
        returned = inspect.signature(twin).return_annotation
        assert returned.startswith("" if local else NOT_AWAITED.get(name, "")), name
    sync_init = inspect.signature(sync_cls).parameters
    async_init = inspect.signature(async_cls).parameters
    assert [(p.name, p.kind, p.default) for p in sync_init.values()] == [
        (p.name, p.kind, p.default) for p in async_init.values()
    ]


# Each /v1 operation of the OpenAPI document, and the SDK method that sends it (the async
# client has the same, by the test above).
SDK_METHODS: dict[str, Callable[..., Any]] = {
    "listGroups": GroupsAPI.list,
    "createGroup": GroupsAPI.create,
    "getGroup": GroupsAPI.get,
    "updateGroup": GroupsAPI.update,
    "deleteGroup": GroupsAPI.delete,
    "listNumbers": NumbersAPI.list,
    "addNumbers": NumbersAPI.add,
    "removeNumbers": NumbersAPI.remove,  # and purge_expired, with ?status=expired
    "importNumbers": NumbersAPI.import_file,
    "exportNumbers": NumbersAPI.export,
    "checkNumber": Client.check,
    "checkNumbers": Client.check_many,
    "listCampaigns": CampaignsAPI.list,
    "createCampaign": CampaignsAPI.create,
    "getCampaign": CampaignsAPI.get,
    "updateCampaign": CampaignsAPI.update,
    "deleteCampaign": CampaignsAPI.delete,
    "attachGroups": CampaignsAPI.attach,
    "detachGroup": CampaignsAPI.detach,
    "listAuditEvents": AuditAPI.list,
    "listChanges": Client.changes,
    "getAccount": AccountAPI.get,
    "updateAccount": AccountAPI.update,
    "listKeys": KeysAPI.list,
    "createKey": KeysAPI.create,
    "revokeKey": KeysAPI.revoke,
    "getStats": StatsAPI.get,
    "listStaleEntries": GroupsAPI.stale,  # and download_stale, with ?format=csv
}
# Operations the SDK does not wrap yet (the CLI speaks the scrub endpoint itself).
NOT_IN_THE_SDK = {"scrubList", "getLimits"}


def test_every_v1_operation_has_an_sdk_method(app: FastAPI) -> None:
    operations = {
        operation["operationId"]
        for path, methods in app.openapi()["paths"].items()
        if path.startswith("/v1/")
        for operation in methods.values()
    }
    assert operations - NOT_IN_THE_SDK == set(SDK_METHODS)
    assert operations >= NOT_IN_THE_SDK  # an operation wrapped since leaves this set


def test_sync_client_as_a_context_manager(app: FastAPI, main_account: Credentials) -> None:
    with Client(BASE_URL, main_account.key, transport=SyncASGITransport(app)) as client:
        assert client.account.get().username == "main"
        assert main_account.key not in repr(client)
        http = client._http
    assert http.is_closed


async def test_async_client_as_a_context_manager(app: FastAPI, main_account: Credentials) -> None:
    transport = httpx.ASGITransport(app=app)
    async with AsyncClient(BASE_URL, main_account.key, transport=transport) as client:
        assert (await client.account.get()).username == "main"
        assert main_account.key not in repr(client)
        http = client._http
    assert http.is_closed
