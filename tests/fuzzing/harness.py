"""The fuzzer: the app in this process on a seeded store, a fuzzed request sent to it, and its
answer judged against the documented invariants:

- never a 5xx (the store is up: not even 503), and one of the documented statuses;
- free of anything internal: a traceback, a source line, a driver's name, an exception class;
- in its surface's error format: ``application/problem+json`` (docs/api.md) off the compat
  paths, ``{"status": ..., "message": ...}`` as ``application/json`` on them (docs/compat.md);
- after a refusal (4xx), the database exactly as before: no row, counter or version moved.
"""

from __future__ import annotations

import asyncio
import builtins
import gc
import gzip
import inspect
import json
import logging
import zlib
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import anyio.from_thread
import httpx
import sqlalchemy.exc
from fastapi import FastAPI
from sqlalchemy import Table, func, select

from callblock import domain, files
from callblock.domain import AuthMode, RequestedNumber, Surface, TokenLimitExceeded
from callblock.http import docs
from callblock.http.compat import ca_apis, errors
from callblock.http.problems import MEDIA_TYPE as PROBLEM_MEDIA_TYPE
from callblock.service import Service
from callblock.store import Store
from callblock.store.tables import accounts, api_keys, audit_events, entries, groups, tokens
from tests.fuzzing.raw_requests import BASE_URL, FuzzRequest
from tests.helpers import Credentials, FakeClock

COMPAT_PREFIXES = ("/CAServicesV3/", "/ca_apis/")

# --- the answers the docs allow ---------------------------------------------------------------

# docs/api.md, docs/compat.md: 403 and 429 from the token endpoint, 429 from the request rates.
DOCUMENTED = frozenset({200, 201, 204, 307, 400, 401, 403, 404, 405, 409, 413, 415, 422, 429})
# Never in any answer, unless the request itself carried it (an echoed input is not a leak).
LEAK_MARKERS = ("Traceback", 'File "', "sqlalchemy", "psycopg", "Internal error")
# The answers that describe the API itself: schema names such as `ValidationError` belong there,
# and the documents' scripts name JavaScript's `TypeError` and its kin.
DOCUMENTS = frozenset({"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc", *docs.ASSETS})


def _exception_names() -> frozenset[str]:
    """Exception class names of Python, the drivers, the HTTP stack and callblock itself."""
    modules = [builtins, domain, errors, files, sqlalchemy.exc, json, zlib, gzip, httpx]
    names = {
        name
        for module in modules
        for name, value in vars(module).items()
        if inspect.isclass(value)
        and issubclass(value, BaseException)
        and not issubclass(value, Warning)
        and len(name) > 6  # "error" (zlib's) is a word
    }
    names |= {"JSONDecodeError", "MultiPartException", "ClientDisconnect", "HTTPException"}
    return frozenset(names)


EXCEPTION_NAMES = _exception_names()

# --- the app under test: seeded accounts and groups, in-process requests -------------------------


@dataclass
class Seeded:
    """The accounts the fuzzer's credentials name, and what it needs to resolve them."""

    service: Service
    clock: FakeClock
    main: Credentials
    other: Credentials
    token_user: Credentials
    groups: tuple[int, ...] = ()  # the seeded groups' ids
    token: str = ""
    token_issued: datetime | None = None

    def refresh_token(self) -> None:
        """A current token of the TOKEN_AUTH account (it lasts an hour of the fake clock)."""
        issued = self.token_issued
        if issued is not None and self.clock() - issued < timedelta(minutes=30):
            return
        try:
            self.token = self.service.issue_token(self.token_user.username, self.token_user.key)
        except TokenLimitExceeded:  # the fuzzer took them all this hour: keep the last one
            return
        self.token_issued = self.clock()

    def take_token(self, answer: Answer) -> None:
        """A token the fuzzer got issued is now the only valid one: use it from now on."""
        if answer.status == 200:
            self.token = json.loads(answer.content)["token"]
            self.token_issued = self.clock()

    def resolve_auth(self, symbol: str) -> bytes:
        main, other = self.main, self.other
        forged = self.token.rpartition(".")[0] + ".c2lnbmF0dXJl"
        match symbol:
            case "@bearer-key":
                value = f"Bearer {main.key}"
            case "@basic-key":
                value = main.basic["Authorization"]
            case "@bare-key":
                value = main.key
            case "@basic-other-user":
                value = Credentials(other.username, main.key).basic["Authorization"]
            case "@bearer-other-key":
                value = f"Bearer {other.key}"
            case "@bearer-token":
                value = f"Bearer {self.token}"
            case "@bare-token":
                value = self.token
            case "@bearer-wrong-key":
                value = "Bearer cbk_" + "x" * 43
            case "@basic-wrong-key":
                value = Credentials(main.username, "cbk_" + "y" * 43).basic["Authorization"]
            case "@bearer-forged-token":
                value = f"Bearer {forged}"
            case _:
                value = symbol
        return value.encode("latin-1")

    def resolve_api_key(self, symbol: str) -> bytes:
        match symbol:
            case "@key":
                value = self.main.key
            case "@token-user-key":
                value = self.token_user.key
            case "@wrong-key":
                value = "cbk_" + "z" * 43
            case _:
                value = symbol
        return value.encode("latin-1")


def seed(service: Service, clock: FakeClock, main: Credentials) -> Seeded:
    """A second account, a TOKEN_AUTH account with a token, and groups with entries; the check
    index loaded (as the app's lifespan would), so that readiness answers 200."""
    other = Credentials("other", service.create_account("other").key)
    token_user = Credentials("tokens", service.create_account("tokens").key)
    service.set_auth_mode("tokens", AuthMode.TOKEN_AUTH)
    numbers = [RequestedNumber("9876543210", "+919876543210"), RequestedNumber("140*", "+91140*")]
    groups = []
    for credentials in (main, other):
        actor = service.authenticate_key(credentials.key, Surface.V1)
        groups.append(service.create_group(actor, "Seed one", "seeded", numbers, None).group.id)
        groups.append(service.create_group(actor, "Seed two", "", [], None).group.id)
    service.load_index()
    seeded = Seeded(service, clock, main, other, token_user, tuple(groups))
    seeded.refresh_token()
    return seeded


@dataclass(frozen=True)
class Answer:
    status: int
    headers: httpx.Headers
    content: bytes


class InProcess:
    """Requests to the ASGI app from synchronous code, on an event loop in a thread."""

    def __init__(self, app: FastAPI, portal: anyio.from_thread.BlockingPortal) -> None:
        # An exception escaping the app is answered 500 by Starlette: judge that answer.
        self.transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        self.portal = portal

    def send(self, request: httpx.Request) -> Answer:
        return self.portal.call(self._send, request)

    async def _send(self, request: httpx.Request) -> Answer:
        response = await self.transport.handle_async_request(request)
        try:
            content = await response.aread()
        finally:
            await response.aclose()
        return Answer(response.status_code, response.headers, content)


@contextmanager
def in_process(app: FastAPI) -> Iterator[InProcess]:
    with anyio.from_thread.start_blocking_portal() as portal:
        yield InProcess(app, portal)


async def _pieces(body: bytes, count: int) -> AsyncIterator[bytes]:
    step = max(1, -(-len(body) // count))
    for start in range(0, len(body), step):
        yield body[start : start + step]


def build(request: FuzzRequest, seeded: Seeded) -> httpx.Request:
    headers: list[tuple[bytes, bytes]] = []
    if request.auth is not None:
        headers.append((b"Authorization", seeded.resolve_auth(request.auth)))
    if request.api_key is not None:
        headers.append((b"apiKey", seeded.resolve_api_key(request.api_key)))
    if request.content_type is not None:
        headers.append((b"Content-Type", request.content_type.encode("latin-1")))
    if request.content_encoding is not None:
        headers.append((b"Content-Encoding", request.content_encoding.encode("latin-1")))
    if request.declared_length is not None and not request.chunks:
        headers.append((b"Content-Length", request.declared_length.encode()))
    headers.extend(
        (name.encode(), value.encode("latin-1")) for name, value in request.extra_headers
    )
    url = httpx.URL(BASE_URL + request.path + ("?" + request.query if request.query else ""))
    content: bytes | AsyncIterator[bytes] = request.body
    if request.chunks:
        content = _pieces(request.body, request.chunks)
    return httpx.Request(request.method, url, headers=headers, content=content)


# --- the invariants --------------------------------------------------------------------------


def _aggregates(table: Table, *columns: Any) -> list[Any]:
    return [select(column).select_from(table).scalar_subquery() for column in columns]


# What any write would move: counts, newest ids, change counters, settings, tokens. Failed
# authentications (`auth_failures`) are written on purpose by a 401: not looked at.
FINGERPRINT = select(
    *_aggregates(
        accounts,
        func.count(),
        func.sum(accounts.c.data_version),
        func.sum(accounts.c.auth_version),
        func.count().filter(accounts.c.auth_mode == AuthMode.TOKEN_AUTH.value),
        func.count().filter(accounts.c.block_anonymous),
    ),
    *_aggregates(api_keys, func.count(), func.count(api_keys.c.revoked_at)),
    *_aggregates(groups, func.count(), func.max(groups.c.id), func.max(groups.c.updated_at)),
    *_aggregates(entries, func.count(), func.max(entries.c.updated_at)),
    *_aggregates(audit_events, func.count(), func.max(audit_events.c.id)),
    *_aggregates(tokens, func.count(), func.max(tokens.c.id)),
)


def fingerprint(store: Store) -> tuple[Any, ...]:
    """The database in a few numbers: any write changes at least one."""
    with store.read() as conn:
        return tuple(conn.execute(FINGERPRINT).one())


def _is_json(media_type: str) -> bool:
    return media_type == "application/json" or media_type.endswith("+json")


def _leaks(request: FuzzRequest, sent: httpx.Request, route: str, text: str) -> list[str]:
    carried = (sent.url.raw_path + b" " + bytes(request.body)).decode("latin-1")
    carried += " ".join(v.decode("latin-1") for _, v in sent.headers.raw)
    markers = [*LEAK_MARKERS]
    if route not in DOCUMENTS:
        markers += EXCEPTION_NAMES
    return [m for m in markers if m in text and m not in carried]


def judge(
    request: FuzzRequest, sent: httpx.Request, answer: Answer, wrote: bool, logged: list[str]
) -> list[str]:
    """Every broken invariant of one answer, described; empty when it is a good answer."""
    found: list[str] = []
    route = sent.url.path  # as the app sees it: percent-decoded
    compat = route.startswith(COMPAT_PREFIXES)
    media_type = answer.headers.get("content-type", "").split(";")[0].strip().lower()
    text = answer.content.decode("utf-8", "replace")
    if answer.status >= 500:
        found.append(f"answered {answer.status}")
    elif answer.status not in DOCUMENTED:
        found.append(f"answered {answer.status}, which no document names")
    if leaks := _leaks(request, sent, route, text):
        found.append(f"the answer shows {leaks}")
    if wrote:
        found.append(f"refused ({answer.status}), yet the database changed")
    body: Any = None
    if request.method == "HEAD" and not answer.content:
        # A HEAD answer is the GET answer's head: no body to judge. (An error to a HEAD is
        # still a whole answer, judged below.)
        return [*found, f"answer: {answer.status} {media_type}"] if found else []
    if _is_json(media_type):
        try:
            body = json.loads(answer.content)
        except ValueError as exc:
            found.append(f"a {media_type} answer that is not JSON: {exc}")
    if answer.status >= 400:
        if compat:
            if media_type != "application/json":
                found.append(f"a compat error as {media_type!r}, not application/json")
            elif not (
                isinstance(body, dict)
                and body.get("status") in ("error", "false")
                and isinstance(body.get("message"), str)
            ):
                found.append("a compat error without its status and message")
        elif media_type != PROBLEM_MEDIA_TYPE:
            found.append(f"an error as {media_type!r}, not {PROBLEM_MEDIA_TYPE}")
        elif not (
            isinstance(body, dict)
            and body.get("status") == answer.status
            and str(body.get("type", "")).startswith("urn:callblock:problem:")
            and isinstance(body.get("title"), str)
            and isinstance(body.get("detail"), str)
        ):
            found.append("a problem without type, title, status (the answer's) and detail")
    if found:
        found.append(f"answer: {answer.status} {media_type} {answer.content[:500]!r}")
        # The end of each logged traceback: the innermost frames and the exception.
        found.extend("log: " + "\n".join(record.splitlines()[-12:]) for record in logged)
    return found


class ErrorLog(logging.Handler):
    """Collects what the app logs at ERROR and above (an unexpected failure's traceback)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))  # which keeps the traceback's text in the record
        # Let go of the traceback's frames, and of all they hold: what the app left open there
        # is then collected, and reported, at the end of this test.
        record.exc_info = None

    def take(self) -> list[str]:
        lines, self.lines = self.lines, []
        return lines


@dataclass
class Fuzzer:
    """Sends fuzzed requests and judges each answer; keeps a tally by status."""

    http: InProcess
    store: Store
    seeded: Seeded
    statuses: Counter[int] = field(default_factory=Counter)
    log: ErrorLog = field(default_factory=ErrorLog)

    def run(self, request: FuzzRequest) -> list[str]:
        """The broken invariants of this request's answer."""
        self.seeded.refresh_token()
        sent = build(request, self.seeded)
        before = fingerprint(self.store)
        self.log.take()
        answer = self.http.send(sent)
        self.statuses[answer.status] += 1
        wrote = answer.status >= 400 and fingerprint(self.store) != before
        if answer.status == 401:
            # Failed authentications lock a username or an address out for a minute after
            # ten: let the minute pass, so that the next requests with a good key get in.
            self.seeded.clock.advance(seconds=61)
        if sent.url.path == ca_apis.TOKEN_PATH:
            self.seeded.take_token(answer)
        return judge(request, sent, answer, wrote, self.log.take())


@contextmanager
def fuzzing(app: FastAPI, store: Store, seeded: Seeded) -> Iterator[Fuzzer]:
    """A fuzzer on ``app``. At the end, a collection: whatever the app left open (a temporary
    file, a connection) is reported now, as a ResourceWarning, and not in some later test."""
    logger = logging.getLogger("callblock")
    with in_process(app) as http:
        fuzzer = Fuzzer(http, store, seeded)
        logger.addHandler(fuzzer.log)
        try:
            yield fuzzer
        finally:
            logger.removeHandler(fuzzer.log)
            gc.collect()


class Http:
    """A synchronous face on the in-process app, for hypothesis' synchronous tests."""

    def __init__(self, app: FastAPI) -> None:
        self.transport = httpx.ASGITransport(app=app)

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        async def send() -> httpx.Response:
            async with httpx.AsyncClient(transport=self.transport, base_url="http://t") as c:
                return await c.request(method, url, **kwargs)

        return asyncio.run(send())

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)
