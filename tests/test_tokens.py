"""Tokens: lifetime, invalidation, the rolling-hour limit, modes, secrets and tampering."""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx
import jwt
import pytest

from callblock.domain import AuthenticationFailed, AuthMode, Surface, TokenExpired
from callblock.service import Service
from callblock.store import Store
from callblock.throttle import AUTH_FAILURES_ALLOWED
from callblock.tokens import TokenCodec
from tests.helpers import Credentials, FakeClock, bearer

pytestmark = pytest.mark.anyio

TOKEN = "/ca_apis/CAToken/generateToken"
UPDATE = "/ca_apis/updateBlockNumbers"


@pytest.fixture
def tok(service: Service) -> Credentials:
    credentials = Credentials("tok", service.create_account("tok").key)
    service.set_auth_mode("tok", AuthMode.TOKEN_AUTH)
    return credentials


async def issue(client: httpx.AsyncClient, who: Credentials) -> httpx.Response:
    return await client.post(TOKEN, json={"userName": who.username}, headers={"apiKey": who.key})


async def token_of(client: httpx.AsyncClient, who: Credentials) -> str:
    response = await issue(client, who)
    assert response.status_code == 200, response.text
    token: str = response.json()["token"]
    return token


async def use(client: httpx.AsyncClient, who: Credentials, token: str) -> httpx.Response:
    """An authenticated request whose only possible success-path answer is 404 (no groups)."""
    return await client.put(
        UPDATE,
        json={"userName": who.username, "groupName": "none", "blockNumbers": "9876543210"},
        headers=bearer(token),
    )


async def test_a_token_lives_sixty_minutes_to_the_second(
    client: httpx.AsyncClient, tok: Credentials, clock: FakeClock
) -> None:
    token = await token_of(client, tok)
    clock.advance(minutes=59, seconds=59)
    assert (await use(client, tok, token)).status_code == 404  # authenticated
    clock.advance(seconds=1)
    expired = await use(client, tok, token)
    assert expired.status_code == 401
    assert expired.json() == {"status": "false", "message": "Token Expired", "data": None}


async def test_a_new_token_invalidates_every_earlier_one(
    client: httpx.AsyncClient, tok: Credentials
) -> None:
    first = await token_of(client, tok)
    second = await token_of(client, tok)
    third = await token_of(client, tok)
    for old in (first, second):
        response = await use(client, tok, old)
        assert response.json() == {"status": "error", "message": "Authentication failed"}
    assert (await use(client, tok, third)).status_code == 404


async def test_ten_tokens_per_rolling_hour(
    client: httpx.AsyncClient, tok: Credentials, clock: FakeClock
) -> None:
    for _ in range(4):
        await token_of(client, tok)
    clock.advance(minutes=30)
    for _ in range(6):
        await token_of(client, tok)
    clock.advance(minutes=29, seconds=59)  # the first four are 59:59 old: still in the hour
    refused = await issue(client, tok)
    assert refused.status_code == 429
    assert refused.json() == {
        "status": "false",
        "message": "Token generation limit exceeded",
        "data": None,
    }
    clock.advance(seconds=1)  # now they are an hour old: four places free
    for _ in range(4):
        await token_of(client, tok)
    assert (await issue(client, tok)).status_code == 429


async def test_refused_requests_do_not_use_up_the_limit(
    client: httpx.AsyncClient, tok: Credentials, clock: FakeClock
) -> None:
    for _ in range(AUTH_FAILURES_ALLOWED):
        wrong = await client.post(TOKEN, json={"userName": "tok"}, headers={"apiKey": "cbk_x"})
        assert wrong.status_code == 401
    clock.advance(seconds=61)  # past the failed-authentication limit's window
    for _ in range(10):
        await token_of(client, tok)


async def test_fourteen_simultaneous_requests_give_ten_tokens(
    client: httpx.AsyncClient, tok: Credentials
) -> None:
    responses = await asyncio.gather(*(issue(client, tok) for _ in range(14)))
    assert Counter(r.status_code for r in responses) == {200: 10, 429: 4}
    tokens = [r.json()["token"] for r in responses if r.status_code == 200]
    working = [t for t in tokens if (await use(client, tok, t)).status_code == 404]
    assert len(working) == 1  # only the newest of the ten


async def test_switching_mode_switches_the_accepted_credential(
    client: httpx.AsyncClient, service: Service, tok: Credentials
) -> None:
    token = await token_of(client, tok)
    service.set_auth_mode("tok", AuthMode.BASIC_AUTH)
    assert (await use(client, tok, token)).status_code == 401
    with_key = await client.put(
        UPDATE,
        json={"userName": "tok", "groupName": "none", "blockNumbers": "9876543210"},
        headers={"apiKey": tok.key},
    )
    assert with_key.status_code == 404
    assert (await issue(client, tok)).status_code == 403


def test_workers_without_a_configured_secret_share_the_stored_one(
    store: Store, clock: FakeClock
) -> None:
    first_worker = Service(store, clock=clock)
    second_worker = Service(store, clock=clock)
    key = first_worker.create_account("tok").key
    first_worker.set_auth_mode("tok", AuthMode.TOKEN_AUTH)
    token = first_worker.issue_token("tok", key)
    actor = second_worker.authenticate_by_mode("tok", None, token, Surface.COMPAT_CA_APIS)
    assert actor.account.username == "tok"
    # A service configured with its own secret does not accept it.
    with pytest.raises(AuthenticationFailed):
        Service(store, clock=clock, secret_key="x" * 40).authenticate_by_mode(
            "tok", None, token, Surface.COMPAT_CA_APIS
        )


@pytest.mark.parametrize(
    "claims",
    [
        {"sub": "tok", "jti": "a", "iat": 1, "exp": "soon", "iss": "callblock"},
        {"sub": 7, "jti": "a", "iat": 1, "exp": 4102444800, "iss": "callblock"},
        {"sub": "tok", "jti": "a", "iat": 1, "exp": 4102444800, "iss": "someone-else"},
        {"sub": "tok", "jti": "a", "iat": 1, "exp": 10**20, "iss": "callblock"},
        {"sub": "tok", "iat": 1, "exp": 4102444800, "iss": "callblock"},
    ],
)
def test_malformed_claims_are_refused(
    service: Service, tok: Credentials, claims: dict[str, object]
) -> None:
    service.issue_token("tok", tok.key)
    secret = "s" * 40
    forged = jwt.encode(claims, secret, algorithm="HS256")
    checker = Service(service.store, clock=service.clock, secret_key=secret)
    with pytest.raises(AuthenticationFailed):
        checker.authenticate_by_mode("tok", None, forged, Surface.COMPAT_CA_APIS)


def test_an_expired_genuine_token_says_so(
    service: Service, tok: Credentials, clock: FakeClock
) -> None:
    token = service.issue_token("tok", tok.key)
    clock.advance(hours=2)
    with pytest.raises(TokenExpired):
        service.authenticate_by_mode("tok", None, token, Surface.COMPAT_CA_APIS)


def test_short_secrets_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 32 bytes"):
        TokenCodec("short")


async def test_keys_and_tokens_never_reach_the_log(
    client: httpx.AsyncClient, tok: Credentials, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    token = await token_of(client, tok)
    await use(client, tok, token)
    await use(client, tok, token + "x")
    await client.post(TOKEN, json={"userName": "tok"}, headers={"apiKey": tok.key + "x"})
    assert tok.key not in caplog.text
    assert token not in caplog.text
