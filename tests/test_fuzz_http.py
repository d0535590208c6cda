"""Raw requests at every route the app serves, and at paths it does not.

Hypothesis builds whole requests: any method, valid and broken credentials, any content type
and charset, bodies from nothing to over the size limit (JSON truncated, mis-encoded, nested
a hundred thousand deep, numbers of five thousand digits, NUL bytes; forms, multipart, CSV,
gzip real and fake), query strings with repeated and garbage parameters. Every answer must be:

- never a 5xx (the store is up: not even 503), and one of the documented statuses;
- free of anything internal: a traceback, a source line, a driver's name, an exception class;
- in its surface's error format: ``application/problem+json`` (docs/api.md) off the compat
  paths, ``{"status": ..., "message": ...}`` as ``application/json`` on them (docs/compat.md);
- after a refusal (4xx), the database exactly as before: no row, counter or version moved.

``CALLBLOCK_FUZZ_EXAMPLES`` scales the run (also the schemathesis run of test_openapi.py);
``bench/fuzz.py`` is the long run of the same fuzzer. The requests are drawn in
tests/fuzzing/raw_requests.py and judged in tests/fuzzing/harness.py.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, example, given, settings
from starlette.routing import Route

from callblock.http.compat import ca_apis, v2
from callblock.service import Service
from callblock.store import Store
from tests.fuzzing.harness import Fuzzer, fuzzing, seed
from tests.fuzzing.raw_requests import SERVED, FuzzRequest, requests
from tests.helpers import Credentials, FakeClock

EXAMPLES = int(os.environ.get("CALLBLOCK_FUZZ_EXAMPLES", "300"))


# --- the tests ---------------------------------------------------------------------------------


@pytest.fixture
def fuzzer(
    app: FastAPI, store: Store, service: Service, clock: FakeClock, main_account: Credentials
) -> Iterator[Fuzzer]:
    with fuzzing(app, store, seed(service, clock, main_account)) as fuzzer:
        yield fuzzer


def route_templates(app: FastAPI) -> dict[str, set[str]]:
    """Every route of the app: its path template and the methods it serves (none: all)."""
    found: dict[str, set[str]] = {}

    def walk(routes: list[Any], prefix: str) -> None:
        for route in routes:
            if hasattr(route, "original_router"):  # an included router
                walk(route.original_router.routes, prefix + route.include_context.prefix)
            elif isinstance(route, Route):
                path = (prefix + route.path).replace("{rest:path}", "{rest}")
                found.setdefault(path, set()).update(route.methods or ())

    walk(list(app.routes), "")
    return found


def test_the_fuzzer_targets_every_route_the_app_serves(app: FastAPI) -> None:
    routes = route_templates(app)
    assert set(routes) == set(SERVED)
    # Routes that take every method (the compat endpoints answer 405 themselves) name none.
    routed = {path: methods - {"HEAD"} for path, methods in routes.items() if methods}
    assert routed == {path: set(SERVED[path]) - {"HEAD"} for path in routed}
    assert {v2.PATH, *ca_apis.ENDPOINTS} <= set(SERVED)


# --- bugs this fuzzer found: tried first on every run, failing until src/ is fixed ----------------

# A gzip header, then a deflate block of a type that does not exist: zlib.error, which
# http/v1/files.py does not catch (it catches EOFError and OSError; zlib.error is neither).
CORRUPT_GZIP = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff\x07"
# HTTP Basic with a NUL in the username (and a wrong key): PostgreSQL refuses the NUL when the
# failure is counted against "user:ma\0in" (service._count_failure -> queries.hold_auth_subjects).
NUL_USERNAME_BASIC = "Basic " + base64.b64encode(b"ma\x00in:cbk_wrong").decode()
FOUND: tuple[FuzzRequest, ...] = (
    # 500 on both engines: a damaged gzip upload (docs/api.md: an unreadable file is a 400).
    FuzzRequest(
        "POST", "/v1/scrub", auth="@bearer-key", content_type="text/csv", body=CORRUPT_GZIP
    ),
    FuzzRequest(
        "POST",
        "/v1/groups/1/numbers:import",
        auth="@bearer-key",
        content_type="application/gzip",
        body=CORRUPT_GZIP,
    ),
    # 500 on both engines: an import refused for an invalid line that is not UTF-8 (docs/api.md:
    # 422 with `invalid_lines`). The line's undecodable bytes reach problems.problem as lone
    # surrogates, and Starlette's JSONResponse cannot encode them to UTF-8.
    FuzzRequest(
        "POST",
        "/v1/groups/1/numbers:import",
        auth="@bearer-key",
        content_type="text/csv",
        body=b"\xff",
    ),
    # 404 as problem+json instead of the compat format (docs/compat.md: unknown paths under
    # /ca_apis/ and /CAServicesV3/): the catch-all `{rest:path}` is `.*`, which stops at a
    # newline (%0A) inside the path.
    FuzzRequest("GET", "/ca_apis/x%0Ay", auth="@bearer-key"),
    FuzzRequest("POST", "/CAServicesV3/a%0Ab", auth="@basic-key"),
    # 500 on PostgreSQL only: text with NUL reaches a query (psycopg.DataError: PostgreSQL text
    # fields cannot contain NUL), where SQLite answers 401, 404 or 200.
    FuzzRequest("GET", "/v1/groups", auth=NUL_USERNAME_BASIC),
    FuzzRequest(
        "PUT",
        "/ca_apis/updateBlockNumbers",
        api_key="@key",
        content_type="application/json",
        body=b'{"userName": "ma\\u0000in", "groupName": "Seed one", "blockNumbers": ["9876543210"]}',
    ),
    FuzzRequest(
        "POST",
        ca_apis.TOKEN_PATH,
        api_key="@key",
        content_type="application/json",
        body=b'{"userName": "ma\\u0000in"}',
    ),
    FuzzRequest(
        "PUT",
        "/ca_apis/updateBlockNumbers",
        api_key="@key",
        content_type="application/json",
        body=b'{"userName": "main", "groupName": "Seed\\u0000one", "blockNumbers": ["9876543210"]}',
    ),
    FuzzRequest("GET", "/v1/groups", query="name=%00", auth="@bearer-key"),
    FuzzRequest("GET", "/v1/groups/1/numbers", query="q=%00", auth="@bearer-key"),
    FuzzRequest(
        "POST",
        "/v1/groups/1/numbers",
        auth="@bearer-key",
        content_type="application/json",
        body=b'{"numbers": ["9876543210"], "note": "a\\u0000b"}',
    ),
)


def with_found_examples(test: Any) -> Any:
    """``@example`` of each case in FOUND."""
    for fuzzed in reversed(FOUND):
        test = example(fuzzed=fuzzed)(test)
    return test


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)
@given(fuzzed=requests())
@with_found_examples
def test_any_request_gets_a_documented_clean_answer_and_a_refusal_writes_nothing(
    fuzzer: Fuzzer, fuzzed: FuzzRequest
) -> None:
    problems = fuzzer.run(fuzzed)
    assert not problems, "\n".join([fuzzed.describe(), *problems])
