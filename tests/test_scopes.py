"""API keys with scopes: every `/v1` operation of the OpenAPI document and every compat
endpoint, tried with a key of each scope, refuses exactly the keys outside the scope the
operation needs (403), and lets the others through.

Which scope an operation needs is written here as a rule of its own (what it does: checks and
the feed need `check`, reading needs `read`, changing needs `write`, the account's settings
and keys need `admin`), not read from the implementation; the document's
`x-callblock-scope` must agree with it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest

from callblock.domain import (
    EVERY_SCOPE,
    RequestedNumber,
    Scope,
    Surface,
    granted,
)
from callblock.service import Service
from tests.helpers import Credentials, FakeClock, basic, bearer, snapshot

pytestmark = pytest.mark.anyio

COMPAT_ENDPOINTS = [  # the compat spec's table: every endpoint changes block lists
    ("POST", "/CAServicesV3/blockNumberGroupV2.php"),
    ("PUT", "/CAServicesV3/blockNumberGroupV2.php"),
    ("DELETE", "/CAServicesV3/blockNumberGroupV2.php"),
    ("POST", "/ca_apis/createBlockNumber"),
    ("PUT", "/ca_apis/updateBlockNumbers"),
    ("PUT", "/ca_apis/updateBlockNumber"),
    ("DELETE", "/ca_apis/deleteBlockNumber"),
    ("DELETE", "/ca_apis/deleteBlockNumberGroup"),
    ("POST", "/ca_apis/CAToken/generateToken"),
]
COMPAT_REFUSAL = {"status": "error", "message": "API key not allowed to change block lists"}


def needed_scope(method: str, path: str) -> Scope | None:
    """What an operation does, as the scopes are documented (docs/api.md, Keys and scopes)."""
    if path.startswith(("/v1/check", "/v1/changes")):
        return Scope.CHECK
    if path == "/v1/account":
        return None if method == "get" else Scope.ADMIN
    if path.startswith("/v1/keys"):
        return Scope.ADMIN
    if method == "get" or path.endswith("/scrub"):
        return Scope.READ
    return Scope.WRITE


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            if operation.get("security"):  # an operation that takes credentials
                yield method, path, operation


@pytest.fixture
def keys(service: Service, main_account: Credentials) -> dict[Scope, str]:
    """A key of each single scope of the main account."""
    return {
        scope: service.issue_key(main_account.username, f"only {scope}", [scope.value]).key
        for scope in Scope
    }


async def test_every_v1_operation_refuses_exactly_the_keys_outside_its_scope(
    client: httpx.AsyncClient,
    service: Service,
    main_account: Credentials,
    keys: dict[Scope, str],
) -> None:
    document = (await client.get("/openapi.json")).json()
    actor = service.authenticate_key(main_account.key, Surface.V1)
    group = service.create_group(
        actor, "Seeded", "", [RequestedNumber("+919876543210", "+919876543210")], None
    ).group.id
    campaign = service.create_campaign(actor, "Seeded campaign", "", None).id
    tried, wrong = 0, []
    for method, path, operation in operations(document):
        needed = needed_scope(method, path)
        documented = operation.get("x-callblock-scope")
        if documented != (needed.value if needed else None):
            wrong.append(f"{method} {path}: documented {documented!r}, needs {needed}")
        for scope, key in keys.items():
            url = path.replace("{group_id}", str(group)).replace("{campaign_id}", str(campaign))
            url = url.replace("{number}", "9876543210")
            if "{key_id}" in url:  # a key of its own, which the request may revoke
                spare = service.issue_key(main_account.username, "spare", ["check"])
                url = url.replace("{key_id}", str(spare.key_id))
            assert "{" not in url, url
            body = None if method in ("get", "delete") else b"{}"
            answer = await client.request(
                method.upper(),
                url,
                headers={**bearer(key), "Content-Type": "application/json"},
                content=body,
            )
            tried += 1
            allowed = needed is None or needed in granted({scope})
            here = f"{method.upper()} {path} with a {scope} key"
            if allowed and answer.status_code == 403:
                wrong.append(f"{here}: refused: {answer.text[:200]}")
            elif not allowed and answer.status_code != 403:
                wrong.append(f"{here}: {answer.status_code}, not 403")
            elif not allowed:
                assert needed is not None
                problem = answer.json()
                assert answer.headers["content-type"] == "application/problem+json"
                assert problem["type"] == "urn:callblock:problem:scope-missing"
                assert problem["needed_scope"] == needed.value
                assert f"`{needed}`" in problem["detail"]
            assert answer.status_code < 500, f"{here}: {answer.status_code}"
    assert wrong == []
    walked = len(list(operations(document)))
    assert walked >= 25  # the document's operations that take credentials, every one
    assert tried == walked * len(Scope)


async def test_every_compat_endpoint_needs_a_write_key(
    client: httpx.AsyncClient, main_account: Credentials, keys: dict[Scope, str]
) -> None:
    wrong = []
    for method, path in COMPAT_ENDPOINTS:
        for scope, key in keys.items():
            fields = {"userName": main_account.username, "name": "Compat", "numbers": []}
            headers = {"apiKey": key, "Content-Type": "application/json"}
            if path.startswith("/CAServicesV3/"):
                headers = {**basic(main_account.username, key), **headers}
            answer = await client.request(method, path, headers=headers, content=json.dumps(fields))
            here = f"{method} {path} with a {scope} key"
            if scope is Scope.WRITE:  # through (the token endpoint: to its own next refusal,
                # this account authenticating with keys, not tokens)
                refused = answer.json().get("message") == COMPAT_REFUSAL["message"]
                if answer.status_code == 401 or refused:
                    wrong.append(f"{here}: refused {answer.status_code} {answer.text}")
                continue
            expected = dict(COMPAT_REFUSAL)
            if path.endswith("generateToken"):  # the token endpoint's own shape
                expected = {"status": "false", "message": COMPAT_REFUSAL["message"], "data": None}
            if answer.status_code != 403 or answer.json() != expected:
                wrong.append(f"{here}: {answer.status_code} {answer.text}")
    assert wrong == []


async def test_a_key_issued_by_an_admin_key_works_within_its_scopes_only(
    client: httpx.AsyncClient, main_account: Credentials
) -> None:
    issued = await client.post(
        "/v1/keys",
        json={"label": "Dialer, floor 2", "scopes": ["check"]},
        headers=bearer(main_account),
    )
    assert issued.status_code == 201
    body = issued.json()
    assert (body["label"], body["scopes"], body["revoked_at"]) == (
        "Dialer, floor 2",
        ["check"],
        None,
    )
    assert body["key"].startswith(body["prefix"])
    dialer = body["key"]
    assert (await client.get("/v1/check/9876543210", headers=bearer(dialer))).status_code == 200
    refused = await client.post("/v1/groups", json={"name": "Mine"}, headers=bearer(dialer))
    assert refused.status_code == 403
    assert refused.json()["needed_scope"] == "write"
    assert (await client.get("/v1/groups", headers=bearer(main_account))).json()["count"] == 0
    listed = (await client.get("/v1/keys", headers=bearer(main_account))).json()["data"]
    assert [(k["label"], k["scopes"]) for k in listed] == [
        ("", sorted(s.value for s in EVERY_SCOPE)),  # the account's first key: every scope
        ("Dialer, floor 2", ["check"]),
    ]
    assert all("key" not in k for k in listed)
    revoked = await client.delete(f"/v1/keys/{body['id']}", headers=bearer(main_account))
    assert revoked.status_code == 204
    assert (await client.get("/v1/check/9876543210", headers=bearer(dialer))).status_code == 401


@pytest.mark.parametrize(
    ("sent", "field", "said"),
    [
        ({"scopes": []}, "scopes", "List should have at least 1 item"),
        ({"scopes": ["check", "delete"]}, "scopes.1", "Input should be 'check', 'read'"),
        ({"scopes": ["READ"]}, "scopes.0", "Input should be 'check', 'read'"),
        ({"label": "x" * 65, "scopes": ["read"]}, "label", "too long"),
        ({"label": "tab\there", "scopes": ["read"]}, "label", "a character not allowed"),
    ],
)
async def test_an_invalid_key_request_is_422_and_issues_nothing(
    client: httpx.AsyncClient,
    main_account: Credentials,
    sent: dict[str, Any],
    field: str,
    said: str,
) -> None:
    answer = await client.post("/v1/keys", json=sent, headers=bearer(main_account))
    assert answer.status_code == 422
    assert answer.json()["errors"][field].startswith(said)
    listed = (await client.get("/v1/keys", headers=bearer(main_account))).json()
    assert listed["count"] == 1


async def test_keys_of_another_account_answer_like_keys_of_nothing(
    client: httpx.AsyncClient,
    service: Service,
    main_account: Credentials,
    other_account: Credentials,
) -> None:
    """Another account's key id is revoked as a key id that exists nowhere is: the same 404,
    and nothing changes (its key goes on working, nothing is audited)."""
    theirs = (await client.get("/v1/keys", headers=bearer(other_account))).json()["data"][0]
    nowhere = theirs["id"] + 1000
    before = snapshot(service.store)
    answers = [
        await client.delete(f"/v1/keys/{key_id}", headers=bearer(main_account))
        for key_id in (theirs["id"], nowhere)
    ]
    assert [a.status_code for a in answers] == [404, 404]
    assert answers[0].json() == answers[1].json()
    assert answers[0].json()["type"] == "urn:callblock:problem:key-not-found"
    assert snapshot(service.store) == before
    assert (await client.get("/v1/account", headers=bearer(other_account))).status_code == 200
    listed = (await client.get("/v1/keys", headers=bearer(main_account))).json()["data"]
    assert theirs["id"] not in [k["id"] for k in listed]


async def test_the_history_names_the_key_and_the_page(
    client: httpx.AsyncClient, service: Service, main_account: Credentials
) -> None:
    writer = service.issue_key(main_account.username, "Supervisor Asha", ["write"]).key
    page = {**bearer(writer), "X-Callblock-Client": "page"}
    made = await client.post("/v1/groups", json={"name": "From the page"}, headers=page)
    assert made.status_code == 201
    await client.post("/v1/groups", json={"name": "From a script"}, headers=bearer(writer))
    issued = await client.post(
        "/v1/keys", json={"label": "Dialer", "scopes": ["check"]}, headers=bearer(main_account)
    )
    events = (await client.get("/v1/audit", headers=bearer(main_account))).json()["data"]
    seen = [(e["action"], e["surface"], e["key_label"]) for e in events]
    assert seen == [
        ("key-issue", "v1", ""),
        ("create", "v1", "Supervisor Asha"),
        ("create", "page", "Supervisor Asha"),
    ]
    assert events[0]["detail"] == {
        "key_id": issued.json()["id"],
        "label": "Dialer",
        "scopes": "check",
    }


def test_an_existing_key_keeps_every_scope_after_the_migration() -> None:
    """Migration 0010's default for keys issued before it: all four scopes."""
    from callblock.store import tables

    default = tables.api_keys.c.scopes.server_default
    assert default is not None
    text = str(getattr(default, "arg", ""))
    assert set(re.split(",", text)) == {s.value for s in EVERY_SCOPE}


async def test_the_keys_listing_says_when_each_key_was_last_used(
    client: httpx.AsyncClient, service: Service, main_account: Credentials, clock: FakeClock
) -> None:
    used = service.issue_key(main_account.username, "Used", ["check"])
    service.issue_key(main_account.username, "Unused", ["check"])
    assert (await client.get("/v1/check/9876543210", headers=bearer(used.key))).status_code == 200
    listed = (await client.get("/v1/keys", headers=bearer(main_account))).json()["data"]
    assert all(k["last_used_at"] is None for k in listed)  # the request did not write it
    used_at = clock.now
    clock.advance(minutes=1)
    assert service.write_key_use() == 2  # as the refresher does: the two keys used
    listed = (await client.get("/v1/keys", headers=bearer(main_account))).json()["data"]
    last_used = {k["label"]: k["last_used_at"] for k in listed}
    assert last_used["Unused"] is None
    assert datetime.fromisoformat(last_used["Used"]) == used_at
    later = service.issue_key(main_account.username, "Later", ["check"])
    assert (await client.get("/v1/check/9876543210", headers=bearer(later.key))).status_code == 200
    assert service.write_key_use() == 0  # the next write waits for the minute to pass
    assert service.write_key_use(due_only=False) == 1
