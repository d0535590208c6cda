"""Credential abuse and request rates: the failed-authentication limit (kept in the store, so
shared by every process), key revocation, and the per-account request rate."""

from __future__ import annotations

import asyncio
import sqlite3
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from callblock.domain import AuthenticationFailed, AuthMode, AuthThrottled, Surface
from callblock.http.app import create_app
from callblock.service import Service
from callblock.settings import Settings
from callblock.store import Store
from callblock.store.migrate import upgrade
from callblock.throttle import AUTH_FAILURES_ALLOWED, RequestRate
from tests.helpers import Credentials, FakeClock, basic, bearer

pytestmark = pytest.mark.anyio

GROUPS = "/v1/groups"
V2 = "/CAServicesV3/blockNumberGroupV2.php"
TOKEN = "/ca_apis/CAToken/generateToken"
WRONG_KEY = "cbk_" + "x" * 43


@asynccontextmanager
async def client_from(app: FastAPI, address: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client whose requests come from ``address``."""
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://callblock.test") as c:
        yield c


async def fail_times(client: httpx.AsyncClient, count: int) -> None:
    for _ in range(count):
        assert (await client.get(GROUPS, headers=bearer(WRONG_KEY))).status_code == 401


async def test_an_address_with_ten_failures_gets_429_with_retry_after(app: FastAPI) -> None:
    async with client_from(app, "203.0.113.7") as client:
        await fail_times(client, AUTH_FAILURES_ALLOWED)
        refused = await client.get(GROUPS, headers=bearer(WRONG_KEY))
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"] == "urn:callblock:problem:too-many-failed-authentications"


async def test_a_right_key_from_an_address_at_its_limit_gets_through_and_wrong_ones_do_not(
    app: FastAPI, service: Service, main_account: Credentials, other_account: Credentials
) -> None:
    """One misconfigured dialer does not lock out its host: a key is a 256-bit secret that
    proves itself, so only the failures are throttled."""
    fresh_key = service.issue_key("main").key  # never used: this process does not know it
    async with client_from(app, "203.0.113.8") as client:
        await fail_times(client, AUTH_FAILURES_ALLOWED)
        assert (await client.get(GROUPS, headers=bearer(WRONG_KEY))).status_code == 429
        assert (await client.get(GROUPS, headers=bearer(fresh_key))).status_code == 200
        basic_right = await client.get(GROUPS, headers=basic("other", other_account.key))
        assert basic_right.status_code == 200  # a username with no failures of its own
        # A success clears nothing: the next wrong key is still refused, uncounted.
        assert (await client.get(GROUPS, headers=bearer(WRONG_KEY))).status_code == 429
        assert (await client.get(GROUPS, headers=basic("other", WRONG_KEY))).status_code == 429


async def test_the_username_limit_still_refuses_its_right_key_from_anywhere(
    app: FastAPI, service: Service, main_account: Credentials, clock: FakeClock
) -> None:
    fresh_key = service.issue_key("main").key
    for i in range(AUTH_FAILURES_ALLOWED):
        async with client_from(app, f"198.51.100.{i + 1}") as client:
            assert (await client.get(GROUPS, headers=basic("main", WRONG_KEY))).status_code == 401
    async with client_from(app, "198.51.100.100") as client:
        during = await client.get(GROUPS, headers=basic("main", fresh_key))
        assert during.status_code == 429  # a username under attack stays limited
        clock.advance(seconds=61)
        after = await client.get(GROUPS, headers=basic("main", fresh_key))
    assert after.status_code == 200


async def test_failures_of_a_username_count_whatever_address_they_come_from(
    app: FastAPI, main_account: Credentials, other_account: Credentials
) -> None:
    for i in range(AUTH_FAILURES_ALLOWED):
        async with client_from(app, f"198.51.100.{i + 1}") as client:
            wrong = await client.post(V2, headers=basic("main", WRONG_KEY), json={})
            assert wrong.status_code == 401
    async with client_from(app, "198.51.100.200") as client:
        refused = await client.post(V2, headers=basic("main", main_account.key), json={})
        # The same fresh address may still sign in as someone else.
        other = await client.post(V2, headers=basic("other", other_account.key), json={})
    assert refused.status_code == 429
    assert refused.content == b'{"status": "error", "message": "Too many requests"}'
    assert refused.headers["content-type"] == "application/json"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert other.status_code != 429


async def test_the_token_endpoint_is_limited_in_the_compat_shape(
    app: FastAPI, service: Service, main_account: Credentials
) -> None:
    service.set_auth_mode("main", AuthMode.TOKEN_AUTH)
    async with client_from(app, "192.0.2.50") as client:
        for _ in range(AUTH_FAILURES_ALLOWED):
            wrong = await client.post(TOKEN, json={"userName": "main"}, headers={"apiKey": "x"})
            assert wrong.status_code == 401
        refused = await client.post(
            TOKEN, json={"userName": "main"}, headers={"apiKey": main_account.key}
        )
    assert refused.status_code == 429
    assert refused.json() == {"status": "error", "message": "Too many requests"}


async def test_simultaneous_wrong_attempts_get_exactly_the_allowed_answers(
    app: FastAPI, main_account: Credentials
) -> None:
    async with client_from(app, "192.0.2.77") as client:
        answers = await asyncio.gather(
            *(client.post(V2, headers=basic("main", WRONG_KEY), json={}) for _ in range(30))
        )
    assert Counter(a.status_code for a in answers) == {401: AUTH_FAILURES_ALLOWED, 429: 20}


def test_failures_counted_by_one_process_limit_another(
    store: Store, clock: FakeClock, main_account: Credentials
) -> None:
    node_a, node_b = Service(store, clock=clock), Service(store, clock=clock)
    for _ in range(AUTH_FAILURES_ALLOWED):
        with pytest.raises(AuthenticationFailed):
            node_a.authenticate("main", WRONG_KEY, Surface.V1, "192.0.2.1")
    with pytest.raises(AuthThrottled) as refused:
        node_b.authenticate("main", main_account.key, Surface.V1, "192.0.2.99")
    assert 1 <= refused.value.retry_after <= 60


def test_a_right_key_alone_from_an_address_another_process_throttles_is_let_in(
    store: Store, clock: FakeClock, main_account: Credentials
) -> None:
    node_a, node_b = Service(store, clock=clock), Service(store, clock=clock)
    for _ in range(AUTH_FAILURES_ALLOWED):
        with pytest.raises(AuthenticationFailed):
            node_a.authenticate_key(WRONG_KEY, Surface.V1, "192.0.2.1")
    with pytest.raises(AuthThrottled):
        node_b.authenticate_key(WRONG_KEY, Surface.V1, "192.0.2.1")
    actor = node_b.authenticate_key(main_account.key, Surface.V1, "192.0.2.1")
    assert actor.account.username == "main"


async def test_refused_attempts_do_not_extend_the_lockout(app: FastAPI, clock: FakeClock) -> None:
    async with client_from(app, "192.0.2.88") as client:
        await fail_times(client, AUTH_FAILURES_ALLOWED)
        clock.advance(seconds=30)
        for _ in range(50):  # an attacker that keeps trying while refused
            assert (await client.get(GROUPS, headers=bearer(WRONG_KEY))).status_code == 429
        clock.advance(seconds=31)  # the first failures are a minute old now
        assert (await client.get(GROUPS, headers=bearer(WRONG_KEY))).status_code == 401


async def test_a_key_this_process_just_checked_keeps_working_through_a_lockout(
    app: FastAPI, main_account: Credentials
) -> None:
    """A running dialer is not locked out by someone guessing from the same address."""
    async with client_from(app, "192.0.2.90") as client:
        assert (await client.get(GROUPS, headers=bearer(main_account.key))).status_code == 200
        await fail_times(client, AUTH_FAILURES_ALLOWED)
        assert (await client.get(GROUPS, headers=bearer(WRONG_KEY))).status_code == 429
        assert (await client.get(GROUPS, headers=bearer(main_account.key))).status_code == 200


# --- revocation ---------------------------------------------------------------------------


async def test_a_revoked_key_and_its_tokens_stop_working_at_once(
    app: FastAPI, client: httpx.AsyncClient, service: Service, main_account: Credentials
) -> None:
    spare = service.issue_key("main")
    assert (await client.get(GROUPS, headers=bearer(spare.key))).status_code == 200
    service.set_auth_mode("main", AuthMode.TOKEN_AUTH)
    issued = await client.post(TOKEN, json={"userName": "main"}, headers={"apiKey": spare.key})
    token = issued.json()["token"]
    body = {"userName": "main", "groupName": "none", "blockNumbers": "9876543210"}
    create = "/ca_apis/createBlockNumber"
    before = await client.post(create, json=body, headers=bearer(token))
    assert before.status_code != 401

    assert service.revoke_key("main", spare.key_id) is True

    assert (await client.get(GROUPS, headers=bearer(spare.key))).status_code == 401
    after = await client.post(create, json=body, headers=bearer(token))
    assert after.status_code == 401
    assert (await client.get(GROUPS, headers=bearer(main_account.key))).status_code == 200
    assert service.revoke_key("main", spare.key_id) is False  # already revoked


async def test_a_revoked_key_is_refused_but_not_counted_as_a_guess(
    app: FastAPI, service: Service, main_account: Credentials
) -> None:
    """A dialer still using a revoked key must not lock out its neighbours' address."""
    spare = service.issue_key("main")
    service.revoke_key("main", spare.key_id)
    async with client_from(app, "192.0.2.91") as client:
        for _ in range(3 * AUTH_FAILURES_ALLOWED):
            assert (await client.get(GROUPS, headers=bearer(spare.key))).status_code == 401
        assert (await client.get(GROUPS, headers=bearer(main_account.key))).status_code == 200


# --- request rate -------------------------------------------------------------------------


@pytest.fixture
def limited_app(store: Store, clock: FakeClock, database_url: str) -> FastAPI:
    service = Service(store, clock=clock, request_rate=RequestRate(per_second=0.5, burst=5))
    return create_app(Settings(database_url=database_url), service=service)


async def test_an_account_past_its_rate_gets_429_and_others_do_not(
    limited_app: FastAPI,
) -> None:
    service: Service = limited_app.state.service
    busy, calm = service.create_account("busy").key, service.create_account("calm").key
    async with client_from(limited_app, "192.0.2.10") as client:
        answers = [await client.get(GROUPS, headers=bearer(busy)) for _ in range(6)]
        assert [a.status_code for a in answers] == [200] * 5 + [429]
        assert answers[-1].json()["type"] == "urn:callblock:problem:rate-limited"
        assert int(answers[-1].headers["Retry-After"]) >= 1
        check = await client.get("/v1/check/9876543210", headers=bearer(busy))
        assert check.status_code == 429  # checks count too
        compat = await client.post(V2, headers=basic("busy", busy), json={})
        assert compat.status_code == 429
        assert compat.json() == {"status": "error", "message": "Too many requests"}
        assert (await client.get(GROUPS, headers=bearer(calm))).status_code == 200


def test_the_rate_refills_over_time() -> None:
    now = [0.0]
    rate = RequestRate(per_second=2, burst=2, clock=lambda: now[0])
    assert rate.admit(1) is None
    assert rate.admit(1) is None
    assert rate.admit(1) == 1
    now[0] += 0.5  # one request's worth
    assert rate.admit(1) is None
    assert rate.admit(1) == 1
    assert RequestRate(per_second=0, burst=1).admit(1) is None  # 0: no limit


async def test_a_right_key_stays_refused_however_often_it_is_sent_during_a_username_lockout(
    app: FastAPI, service: Service, main_account: Credentials
) -> None:
    """A key that passed its check but met its username's lockout must not be remembered as
    good: its next request would otherwise get in past the limit."""
    fresh = service.issue_key("main")
    for i in range(AUTH_FAILURES_ALLOWED):  # a username locked from elsewhere
        async with client_from(app, f"198.51.100.{i + 1}") as client:
            await client.post(V2, headers=basic("main", WRONG_KEY), json={})
    async with client_from(app, "198.51.100.99") as client:
        for path in (GROUPS, GROUPS, "/v1/check/9876543210", GROUPS):
            answer = await client.get(path, headers=basic("main", fresh.key))
            assert answer.status_code == 429, path


def test_failures_are_still_limited_while_the_store_cannot_take_them(
    tmp_path: Path, clock: FakeClock
) -> None:
    """A locked SQLite file refuses writes but still reads: keys can be checked, failures
    cannot be written. The process counts them itself until the store is back."""
    url = f"sqlite:///{tmp_path / 'locked.db'}"
    store = Store.from_url(url, busy_timeout=0.1)
    try:
        upgrade(store.engine)
        service = Service(store, clock=clock)
        key = service.create_account("main").key
        holder = sqlite3.connect(tmp_path / "locked.db", isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            for _ in range(AUTH_FAILURES_ALLOWED):
                with pytest.raises(AuthenticationFailed):
                    service.authenticate("main", WRONG_KEY, Surface.V1, "192.0.2.5")
            with pytest.raises(AuthThrottled):
                service.authenticate("main", key, Surface.V1, "192.0.2.6")
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        clock.advance(seconds=61)
        assert service.authenticate("main", key, Surface.V1, "192.0.2.6").account.username == "main"
    finally:
        store.dispose()
