"""The `/v1` API through plain HTTP, in-process: resources, checks, audit and errors."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import anyio
import httpx
import pytest

from callblock.domain import GroupById, RequestedNumber, Surface
from callblock.service import AUTH_CACHE_SECONDS, Service
from tests.helpers import V2, Credentials, FakeClock, bearer, new_group, problem, snapshot

pytestmark = pytest.mark.anyio


async def add(
    client: httpx.AsyncClient, who: Credentials, group_id: int, numbers: list[Any], **fields: Any
) -> httpx.Response:
    return await client.post(
        f"/v1/groups/{group_id}/numbers", json={"numbers": numbers, **fields}, headers=bearer(who)
    )


async def check(
    client: httpx.AsyncClient, who: Credentials, number: str, direction: str | None = None
) -> dict[str, Any]:
    params = {"direction": direction} if direction else {}
    response = await client.get(f"/v1/check/{number}", params=params, headers=bearer(who))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


# --- authentication and errors ------------------------------------------------------------------


async def test_bearer_and_basic_both_authenticate(
    client: httpx.AsyncClient, main_account: Credentials
) -> None:
    assert (await client.get("/v1/groups", headers=bearer(main_account))).status_code == 200
    assert (await client.get("/v1/groups", headers=main_account.basic)).status_code == 200


@pytest.mark.parametrize(
    ("headers", "kind"),
    [
        ({}, "authentication-required"),
        ({"Authorization": "Bearer"}, "authentication-required"),
        ({"Authorization": "Bearer "}, "authentication-required"),
        ({"Authorization": "Basic !!"}, "authentication-required"),
        ({"Authorization": "Bearer cbk_nope"}, "credentials-refused"),
        ({"Authorization": "cbk_nope"}, "credentials-refused"),
    ],
)
async def test_missing_or_wrong_credentials_are_a_401_problem(
    client: httpx.AsyncClient, main_account: Credentials, headers: dict[str, str], kind: str
) -> None:
    response = await client.get("/v1/groups", headers=headers)
    problem(response, 401)
    assert "Bearer" in response.headers["www-authenticate"]
    body = response.json()
    assert body["status"] == 401
    assert set(body) >= {"type", "title", "status", "detail"}
    assert body["type"] == f"urn:callblock:problem:{kind}"


async def test_no_credentials_are_told_how_to_send_a_key(client: httpx.AsyncClient) -> None:
    body = (await client.get("/v1/groups")).json()
    assert body["title"] == "Authentication required"
    assert body["detail"].startswith("Send an API key as `Authorization: Bearer <key>`")


async def test_refused_credentials_say_so_alike_whether_or_not_the_username_exists(
    client: httpx.AsyncClient, service: Service, main_account: Credentials
) -> None:
    revoked = service.issue_key("main")
    service.revoke_key("main", revoked.key_id)
    answers = {
        "wrong key": await client.get("/v1/groups", headers=bearer("cbk_" + "x" * 43)),
        "revoked key": await client.get("/v1/groups", headers=bearer(revoked.key)),
        "not a key": await client.get("/v1/groups", headers=bearer("hunter2")),
        "wrong key of a username": await client.get("/v1/groups", auth=("main", "cbk_" + "x" * 43)),
        "unknown username": await client.get("/v1/groups", auth=("nobody", main_account.key)),
        "unknown username, wrong key": await client.get("/v1/groups", auth=("nobody", "pw")),
    }
    bodies = {what: answer.json() for what, answer in answers.items()}
    assert {answer.status_code for answer in answers.values()} == {401}
    assert {json.dumps(body, sort_keys=True) for body in bodies.values()} == {
        json.dumps(bodies["wrong key"], sort_keys=True)
    }
    refused = bodies["wrong key"]
    assert refused["type"] == "urn:callblock:problem:credentials-refused"
    assert refused["title"] == "Credentials refused"
    assert refused["detail"].startswith("The credentials sent were refused")


async def test_validation_errors_name_each_field(
    client: httpx.AsyncClient, store: Any, main_account: Credentials
) -> None:
    before = snapshot(store)
    response = await client.post(
        "/v1/groups", json={"name": "s@n", "description": "x" * 51}, headers=bearer(main_account)
    )
    problem(response, 422)
    assert set(response.json()["errors"]) == {"name", "description"}
    response = await client.post(
        "/v1/groups", json={"name": "Fine", "direction": "sideways"}, headers=bearer(main_account)
    )
    assert response.status_code == 422
    assert "direction" in response.json()["errors"]
    assert snapshot(store) == before


async def test_malformed_json_is_a_400_problem(
    client: httpx.AsyncClient, main_account: Credentials
) -> None:
    response = await client.post(
        "/v1/groups",
        content=b"{nope",
        headers={**bearer(main_account), "Content-Type": "application/json"},
    )
    problem(response, 400)


async def test_a_json_body_sent_as_curl_d_sends_it_is_a_415_naming_the_header(
    client: httpx.AsyncClient, store: Any, main_account: Credentials
) -> None:
    """`curl -d '{...}'` sends application/x-www-form-urlencoded: the answer says which header
    to send, not that the body is not a dictionary."""
    before = snapshot(store)
    form = await client.post(
        "/v1/groups",
        content=b'{"name": "Spam"}',
        headers={**bearer(main_account), "Content-Type": "application/x-www-form-urlencoded"},
    )
    body = problem(form, 415)
    assert body["type"] == "urn:callblock:problem:unsupported-media-type"
    assert "`application/x-www-form-urlencoded`" in body["detail"]
    assert "`Content-Type: application/json`" in body["detail"]
    assert "dictionary" not in form.text
    assert form.headers["accept-post"] == "application/json"
    bare = await client.patch("/v1/account", content=b"{}", headers=bearer(main_account))
    assert problem(bare, 415)["detail"].startswith("The body came without a Content-Type")
    assert bare.headers["accept-patch"] == "application/json"
    assert snapshot(store) == before


async def test_every_operation_with_a_json_body_refuses_another_media_type_alike(
    client: httpx.AsyncClient, service: Service, store: Any, main_account: Credentials
) -> None:
    actor = service.authenticate_key(main_account.key, Surface.V1)
    group_id = service.create_group(actor, "Target", "", [], None).group.id
    campaign_id = service.create_campaign(actor, "Spring offers", "", None).id
    document = (await client.get("/openapi.json")).json()
    before = snapshot(store)
    refused = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            media = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if media is None:
                continue
            here = f"{method.upper()} {path}"
            example = next(iter(media["examples"].values()))["value"]  # a valid body
            url = path.format(group_id=group_id, campaign_id=campaign_id)
            answer = await client.request(
                method.upper(),
                url,
                content=json.dumps(example).encode(),
                headers={**bearer(main_account), "Content-Type": "text/plain"},
            )
            assert answer.status_code == 415, f"{here}: {answer.text}"
            assert "`Content-Type: application/json`" in answer.json()["detail"], here
            assert "415" in operation["responses"], f"{here}: 415 not declared"
            refused.append(here)
    assert len(refused) >= 8, refused
    assert snapshot(store) == before


async def test_oversized_bodies_are_a_413_problem(
    client: httpx.AsyncClient, main_account: Credentials
) -> None:
    response = await client.post(
        "/v1/groups",
        content=b'{"name": "' + b"x" * (2 * 1024 * 1024) + b'"}',
        headers={**bearer(main_account), "Content-Type": "application/json"},
    )
    problem(response, 413)


async def test_unknown_paths_and_methods_are_problems(
    client: httpx.AsyncClient, main_account: Credentials
) -> None:
    missing = await client.get("/v1/nothing", headers=bearer(main_account))
    problem(missing, 404)
    wrong = await client.put("/v1/groups", headers=bearer(main_account))
    assert wrong.status_code == 405
    assert set(wrong.headers["allow"].split(", ")) == {"GET", "POST"}


async def test_name_conflicts_are_409(client: httpx.AsyncClient, main_account: Credentials) -> None:
    await new_group(client, main_account, "Legal hold")
    response = await client.post(
        "/v1/groups", json={"name": "LEGAL HOLD"}, headers=bearer(main_account)
    )
    assert response.status_code == 409
    assert response.json()["errors"] == {"name": "already exists"}
    other = await new_group(client, main_account, "Other")
    renamed = await client.patch(
        f"/v1/groups/{other['id']}", json={"name": "legal hold"}, headers=bearer(main_account)
    )
    assert renamed.status_code == 409


# --- groups ------------------------------------------------------------------------------------


async def test_group_lifecycle(client: httpx.AsyncClient, main_account: Credentials) -> None:
    group = await new_group(
        client, main_account, "Opt outs", description="Asked", direction="outbound"
    )
    assert group["direction"] == "outbound"
    assert (group["active_count"], group["expired_count"]) == (0, 0)
    gid = group["id"]
    patched = await client.patch(
        f"/v1/groups/{gid}",
        json={"name": "Opt-outs", "direction": "both"},
        headers=bearer(main_account),
    )
    assert patched.status_code == 200
    assert (patched.json()["name"], patched.json()["direction"], patched.json()["description"]) == (
        "Opt-outs",
        "both",
        "Asked",
    )
    got = await client.get(f"/v1/groups/{gid}", headers=bearer(main_account))
    assert got.json()["name"] == "Opt-outs"
    deleted = await client.delete(f"/v1/groups/{gid}", headers=bearer(main_account))
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert (await client.get(f"/v1/groups/{gid}", headers=bearer(main_account))).status_code == 404


async def test_group_listing_pages_and_filters(
    client: httpx.AsyncClient, main_account: Credentials
) -> None:
    for i in range(5):
        await new_group(client, main_account, f"List {i}")
    await new_group(client, main_account, "Other name")
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, "name": "list"}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get("/v1/groups", params=params, headers=bearer(main_account))).json()
        assert page["count"] == 5
        seen.extend(g["name"] for g in page["data"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"List {i}" for i in range(5)]
    bad = await client.get("/v1/groups", params={"cursor": "garbage"}, headers=bearer(main_account))
    assert bad.status_code == 422
    assert "cursor" in bad.json()["errors"]


async def test_counts_of_active_and_expired_entries(
    client: httpx.AsyncClient, main_account: Credentials, clock: FakeClock
) -> None:
    gid = (await new_group(client, main_account))["id"]
    soon = (clock.now + timedelta(seconds=10)).isoformat()
    await add(client, main_account, gid, ["9876543210", "9123456780"], expires_at=soon)
    await add(client, main_account, gid, ["9811122233"])
    clock.advance(seconds=10)
    group = (await client.get(f"/v1/groups/{gid}", headers=bearer(main_account))).json()
    assert (group["active_count"], group["expired_count"]) == (1, 2)
    for status, expected in (("active", 1), ("expired", 2), ("all", 3)):
        page = await client.get(
            f"/v1/groups/{gid}/numbers", params={"status": status}, headers=bearer(main_account)
        )
        assert page.json()["count"] == expected
        assert {e["status"] for e in page.json()["data"]} <= {"active", "expired"}


# --- entries -----------------------------------------------------------------------------------


async def test_add_reports_added_updated_and_invalid(
    client: httpx.AsyncClient, main_account: Credentials
) -> None:
    gid = (await new_group(client, main_account))["id"]
    first = await add(
        client, main_account, gid, ["9876543210", "140*", "bad", "+999*"], note="abuse"
    )
    assert first.json() == {
        "added": 2,
        "updated": 0,
        "invalid": [
            {"input": "bad", "reason": "not a valid phone number"},
            {"input": "+999*", "reason": "not a valid prefix"},
        ],
    }
    again = await add(client, main_account, gid, ["+91 98765 43210", 9123456780])
    assert again.json() == {"added": 1, "updated": 1, "invalid": []}
    entries = (await client.get(f"/v1/groups/{gid}/numbers", headers=bearer(main_account))).json()
    by_number = {e["number"]: e for e in entries["data"]}
    assert by_number["+91140*"]["kind"] == "prefix"
    assert by_number["+919876543210"]["note"] == "abuse"  # kept when re-added without a note
    assert by_number["+919876543210"]["source"] == "v1"


async def test_a_prefix_that_can_never_match_says_why(
    client: httpx.AsyncClient, main_account: Credentials
) -> None:
    gid = (await new_group(client, main_account))["id"]
    answer = await add(client, main_account, gid, ["+91140123456789*", "+1234567890123*"])
    assert answer.json()["invalid"] == [
        {
            "input": "+91140123456789*",
            "reason": "not a valid prefix: no valid number of +91 starts with 140123456789",
        },
        {
            "input": "+1234567890123*",
            "reason": "not a valid prefix: longer than any number of +1 (at most 10 digits after it)",
        },
    ]


async def test_all_or_nothing_writes_nothing_when_any_input_is_invalid(
    client: httpx.AsyncClient, store: Any, main_account: Credentials
) -> None:
    gid = (await new_group(client, main_account))["id"]
    before = snapshot(store)
    response = await add(client, main_account, gid, ["9876543210", "nope"], all_or_nothing=True)
    assert response.status_code == 422
    assert response.json()["errors"] == {"numbers.1": "not valid"}
    assert snapshot(store) == before


@pytest.mark.parametrize(
    "body",
    [
        {"numbers": []},
        {"numbers": ["9876543210"] * 10_001},
        {"numbers": ["9876543210"], "expires_at": "2020-01-01T00:00:00Z"},
        {"numbers": ["9876543210"], "expires_at": "2030-01-01T00:00:00"},  # no offset
        {"numbers": ["9876543210"], "expires_at": 1900000000},
        {"numbers": [True]},
        {"numbers": ["9876543210"], "colour": "red"},
    ],
)
async def test_invalid_add_requests_write_nothing(
    client: httpx.AsyncClient, store: Any, main_account: Credentials, body: dict[str, Any]
) -> None:
    gid = (await new_group(client, main_account))["id"]
    before = snapshot(store)
    response = await client.post(
        f"/v1/groups/{gid}/numbers", json=body, headers=bearer(main_account)
    )
    problem(response, 422)
    assert snapshot(store) == before


async def test_remove_reports_removed_and_not_found(
    client: httpx.AsyncClient, main_account: Credentials
) -> None:
    gid = (await new_group(client, main_account))["id"]
    await add(client, main_account, gid, ["9876543210", "140*"])
    response = await client.request(
        "DELETE",
        f"/v1/groups/{gid}/numbers",
        json={"numbers": ["09876543210", "140*", "9123456780", "zzz"]},
        headers=bearer(main_account),
    )
    assert response.json() == {
        "removed": 2,
        "not_found": ["9123456780"],
        "invalid": [{"input": "zzz", "reason": "not a valid phone number"}],
    }
    assert not (await check(client, main_account, "1401112223"))["blocked"]


async def test_paging_through_25000_entries(
    client: httpx.AsyncClient, service: Service, main_account: Credentials
) -> None:
    actor = service.authenticate_key(main_account.key, Surface.V1)
    numbers = [RequestedNumber(str(n), f"+91{n}") for n in range(9000000000, 9000025000)]
    group = service.create_group(actor, "Big", "", numbers, None).group
    seen = 0
    last = ""
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 1000}
        if cursor:
            params["cursor"] = cursor
        page = await client.get(
            f"/v1/groups/{group.id}/numbers", params=params, headers=bearer(main_account)
        )
        body = page.json()
        assert body["count"] == 25_000
        for entry in body["data"]:
            assert entry["number"] > last  # every entry once, in order
            last = entry["number"]
        seen += len(body["data"])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == 25_000
    found = await client.get(
        f"/v1/groups/{group.id}/numbers", params={"q": "9000012345"}, headers=bearer(main_account)
    )
    assert [e["number"] for e in found.json()["data"]] == ["+919000012345"]


@pytest.mark.parametrize("limit", [1, 2, 3, 4, 100])
async def test_paging_lists_prefixes_and_numbers_each_once(
    client: httpx.AsyncClient, main_account: Credentials, limit: int
) -> None:
    group = await new_group(client, main_account, "Mixed")
    patterns = ["140*", "+1415*", "+659*", "+447*", "9876543210", "+14155550123", "9123456780"]
    added = await client.post(
        f"/v1/groups/{group['id']}/numbers",
        json={"numbers": patterns},
        headers=bearer(main_account),
    )
    assert added.json()["added"] == len(patterns)
    listed: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": limit} | ({"cursor": cursor} if cursor else {})
        page = await client.get(
            f"/v1/groups/{group['id']}/numbers", params=params, headers=bearer(main_account)
        )
        assert page.status_code == 200, page.text
        listed += [e["number"] for e in page.json()["data"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert sorted(listed) == sorted(
        ["+91140*", "+1415*", "+659*", "+447*", "+919876543210", "+14155550123", "+919123456780"]
    )
    assert len(listed) == len(set(listed))


@pytest.mark.parametrize(
    ("first", "then"),
    [
        ({"status": "active"}, {"status": "expired"}),
        ({"status": "active"}, {}),
        ({"q": "6"}, {"q": "60"}),
    ],
)
async def test_a_cursor_is_refused_by_the_same_listing_with_other_filters(
    client: httpx.AsyncClient,
    main_account: Credentials,
    first: dict[str, str],
    then: dict[str, str],
) -> None:
    group = await new_group(client, main_account, "Filtered")
    await client.post(
        f"/v1/groups/{group['id']}/numbers",
        json={"numbers": ["9876543210", "9876543211", "9600000000"]},
        headers=bearer(main_account),
    )
    url = f"/v1/groups/{group['id']}/numbers"
    page = await client.get(url, params={"limit": 1, **first}, headers=bearer(main_account))
    cursor = page.json()["next_cursor"]
    assert cursor is not None
    same = await client.get(
        url, params={"limit": 1, "cursor": cursor, **first}, headers=bearer(main_account)
    )
    assert same.status_code == 200
    other = await client.get(
        url, params={"limit": 1, "cursor": cursor, **then}, headers=bearer(main_account)
    )
    assert other.status_code == 422
    assert other.json()["errors"] == {"cursor": "not a cursor"}


async def listed(
    client: httpx.AsyncClient, who: Credentials, group_id: int, **params: Any
) -> list[dict[str, Any]]:
    answer = await client.get(f"/v1/groups/{group_id}/numbers", params=params, headers=bearer(who))
    assert answer.status_code == 200, answer.text
    data: list[dict[str, Any]] = answer.json()["data"]
    return data


async def test_the_search_finds_a_number_in_every_spelling_its_check_takes(
    client: httpx.AsyncClient, main_account: Credentials
) -> None:
    group = await new_group(client, main_account, "Searched")
    added = await add(client, main_account, group["id"], ["9800000001", "9800000017", "140*"])
    assert added.json()["added"] == 3
    for spelling in ("09800000001", "+91 98000 00001", "0091 98000 00001", "98000-00001"):
        assert (await check(client, main_account, spelling))["blocked"], spelling
        found = await listed(client, main_account, group["id"], q=spelling)
        assert [entry["number"] for entry in found] == ["+919800000001"], spelling
    # A part still finds every entry containing it, spelt as stored or nationally.
    for part in ("98000", "098000", "+9198000"):
        found = await listed(client, main_account, group["id"], q=part)
        assert [entry["number"] for entry in found] == ["+919800000001", "+919800000017"]
    for prefix in ("140", "140*", "0140*", "+91140*"):
        found = await listed(client, main_account, group["id"], q=prefix)
        assert [entry["number"] for entry in found] == ["+91140*"], prefix
    answer = await client.get(
        f"/v1/groups/{group['id']}/numbers",
        params={"q": "09800000002"},
        headers=bearer(main_account),
    )
    assert (answer.json()["data"], answer.json()["count"]) == ([], 0)


async def test_a_listing_gives_each_entry_in_its_national_and_international_forms(
    client: httpx.AsyncClient, main_account: Credentials
) -> None:
    group = await new_group(client, main_account, "Formatted")
    await add(client, main_account, group["id"], ["09876543210", "+44 20 7946 0958", "140*"])
    forms = {
        entry["number"]: (entry["national"], entry["international"])
        for entry in await listed(client, main_account, group["id"])
    }
    assert forms == {
        "+91140*": ("0140*", "+91 140*"),
        "+442079460958": ("020 7946 0958", "+44 20 7946 0958"),
        "+919876543210": ("098765 43210", "+91 98765 43210"),
    }


async def test_an_import_sets_its_note_on_the_files_entries(
    client: httpx.AsyncClient, main_account: Credentials
) -> None:
    group = await new_group(client, main_account, "Noted")
    await add(client, main_account, group["id"], ["9800000001", "9800000002"], note="old")
    url = f"/v1/groups/{group['id']}/numbers:import"
    feed = await client.get("/v1/changes", headers=bearer(main_account))
    since = feed.json()["next"]

    async def notes() -> dict[str, str | None]:
        return {e["number"]: e["note"] for e in await listed(client, main_account, group["id"])}

    answer = await client.post(
        url,
        params={"note": "registry 2026-06"},
        content=b"9800000001\n9800000003\n",
        headers=bearer(main_account),
    )
    assert answer.status_code == 200, answer.text
    assert await notes() == {
        "+919800000001": "registry 2026-06",  # already there: it gets the note too
        "+919800000002": "old",  # not in the file: kept
        "+919800000003": "registry 2026-06",
    }
    # Without a note, an import leaves the notes as they are.
    answer = await client.post(url, content=b"9800000002\n", headers=bearer(main_account))
    assert answer.status_code == 200, answer.text
    assert (await notes())["+919800000002"] == "old"
    # A replace without expiries writes every entry of the file when it carries a note.
    answer = await client.post(
        url,
        params={"mode": "replace", "max_removal": "1", "note": "replaced"},
        content=b"9800000002\n9800000004\n",
        headers=bearer(main_account),
    )
    assert answer.status_code == 200, answer.text
    assert await notes() == {"+919800000002": "replaced", "+919800000004": "replaced"}
    # A change list sets it on the entries it adds.
    answer = await client.post(
        url,
        params={"mode": "changes", "note": "listed"},
        content=b"A,9800000005\nD,9800000004\n",
        headers=bearer(main_account),
    )
    assert answer.status_code == 200, answer.text
    assert await notes() == {"+919800000002": "replaced", "+919800000005": "listed"}
    # The change feed tells each change's note, as it does an add's.
    feed = await client.get("/v1/changes", params={"since": since}, headers=bearer(main_account))
    changes = feed.json()["changes"]
    assert [c["note"] for c in changes] == ["registry 2026-06", None, "replaced", "listed"]


@pytest.mark.parametrize("note", ["x" * 501, "nul\x00inside"])
async def test_an_import_with_a_note_breaking_the_rule_writes_nothing(
    client: httpx.AsyncClient, main_account: Credentials, note: str
) -> None:
    group = await new_group(client, main_account, "Refused note")
    answer = await client.post(
        f"/v1/groups/{group['id']}/numbers:import",
        params={"note": note},
        content=b"9800000001\n",
        headers=bearer(main_account),
    )
    assert problem(answer, 422)["errors"] == {"note": "up to 500 characters, without NUL"}
    assert await listed(client, main_account, group["id"]) == []


# --- checks ------------------------------------------------------------------------------------


async def test_check_blocks_until_the_expiry_second(
    client: httpx.AsyncClient, main_account: Credentials, clock: FakeClock
) -> None:
    gid = (await new_group(client, main_account))["id"]
    expiry = clock.now + timedelta(seconds=30)
    await add(client, main_account, gid, ["9876543210"], expires_at=expiry.isoformat())
    blocked = await check(client, main_account, "9876543210")
    assert blocked["blocked"] is True
    assert blocked["matches"] == [
        {
            "group_id": gid,
            "group_name": "Spam",
            "pattern": "+919876543210",
            "expires_at": expiry.isoformat().replace("+00:00", "Z"),
            "rule": "number",
        }
    ]
    clock.advance(seconds=29, microseconds=999_999)
    assert (await check(client, main_account, "9876543210"))["blocked"] is True
    clock.advance(microseconds=1)
    assert (await check(client, main_account, "9876543210")) == {
        "number": "+919876543210",
        "blocked": False,
        "matches": [],
    }


async def test_prefixes_block_every_number_that_starts_with_them(
    client: httpx.AsyncClient, main_account: Credentials
) -> None:
    gid = (await new_group(client, main_account, "Telemarketing"))["id"]
    await add(client, main_account, gid, ["140*", "+9198765*"])
    for number in ("1401234567", "+91 140 999 8888", "9876500000"):
        result = await check(client, main_account, number)
        assert result["blocked"], number
        assert result["matches"][0]["rule"] == "prefix"
    assert not (await check(client, main_account, "9141234567"))["blocked"]
    many = await client.post(
        "/v1/check", json={"numbers": ["1401234567", "9123456780"]}, headers=bearer(main_account)
    )
    assert [r["group_ids"] for r in many.json()["results"]] == [[gid], []]


async def test_direction_decides_which_groups_count(
    client: httpx.AsyncClient, main_account: Credentials
) -> None:
    inbound = (await new_group(client, main_account, "Abusers", direction="inbound"))["id"]
    outbound = (await new_group(client, main_account, "DNC", direction="outbound"))["id"]
    both = (await new_group(client, main_account, "Legal", direction="both"))["id"]
    await add(client, main_account, inbound, ["9000000001", "9000000003"])
    await add(client, main_account, outbound, ["9000000002", "9000000003"])
    await add(client, main_account, both, ["9000000003"])

    def groups(result: dict[str, Any]) -> set[int]:
        return {m["group_id"] for m in result["matches"]}

    assert groups(await check(client, main_account, "9000000001", "inbound")) == {inbound}
    assert groups(await check(client, main_account, "9000000001", "outbound")) == set()
    assert groups(await check(client, main_account, "9000000002", "inbound")) == set()
    assert groups(await check(client, main_account, "9000000003", "inbound")) == {inbound, both}
    assert groups(await check(client, main_account, "9000000003", "outbound")) == {outbound, both}
    assert groups(await check(client, main_account, "9000000003")) == {inbound, outbound, both}
    # Changing a group's direction takes effect at once.
    await client.patch(
        f"/v1/groups/{inbound}", json={"direction": "outbound"}, headers=bearer(main_account)
    )
    assert groups(await check(client, main_account, "9000000001", "outbound")) == {inbound}


@pytest.mark.parametrize("caller", ["anonymous", "PRIVATE", "unknown", "Withheld", "%20"])
async def test_withheld_callers_are_blocked_inbound_when_the_account_says_so(
    client: httpx.AsyncClient, main_account: Credentials, caller: str
) -> None:
    off = await client.get(
        f"/v1/check/{caller}", params={"direction": "inbound"}, headers=bearer(main_account)
    )
    assert off.status_code == 422  # not a number, and no rule blocks it
    patched = await client.patch(
        "/v1/account", json={"block_anonymous": True}, headers=bearer(main_account)
    )
    assert patched.json()["block_anonymous"] is True
    result = await check(client, main_account, caller, "inbound")
    assert result["blocked"] is True
    assert result["matches"][0]["rule"] == "block_anonymous"
    outbound = await client.get(
        f"/v1/check/{caller}", params={"direction": "outbound"}, headers=bearer(main_account)
    )
    assert outbound.status_code == 422
    many = await client.post(
        "/v1/check",
        json={"numbers": ["", " " if caller == "%20" else caller], "direction": "inbound"},
        headers=bearer(main_account),
    )
    assert [r["blocked"] for r in many.json()["results"]] == [True, True]


async def test_the_region_and_time_zone_change_after_creation_audited(
    client: httpx.AsyncClient, main_account: Credentials
) -> None:
    before = await check(client, main_account, "020 7946 0000")
    assert before["number"] != "+442079460000"  # read as Indian
    patched = await client.patch(
        "/v1/account",
        json={"region": "gb", "timezone": "Europe/London"},
        headers=bearer(main_account),
    )
    assert patched.status_code == 200, patched.text
    assert patched.json() == {
        "username": "main",
        "region": "GB",
        "timezone": "Europe/London",
        "auth_mode": "BASIC_AUTH",
        "block_anonymous": False,
    }
    assert (await client.get("/v1/account", headers=bearer(main_account))).json() == (
        patched.json()
    )
    # The next requests read national numbers as British: a check, and a write.
    assert (await check(client, main_account, "020 7946 0000"))["number"] == "+442079460000"
    gid = (await new_group(client, main_account))["id"]
    added = await add(client, main_account, gid, ["020 7946 0001"])
    assert added.status_code == 200, added.text
    assert (await check(client, main_account, "+442079460001"))["blocked"] is True
    audit = await client.get("/v1/audit", headers=bearer(main_account))
    settings = [e for e in audit.json()["data"] if e["action"] == "settings"]
    assert [e["detail"] for e in settings] == [
        {
            "region": "GB",
            "previous_region": "IN",
            "timezone": "Europe/London",
            "previous_timezone": "Asia/Kolkata",
        }
    ]
    again = await client.patch("/v1/account", json={"region": "GB"}, headers=bearer(main_account))
    assert again.json()["region"] == "GB"
    audit = await client.get("/v1/audit", headers=bearer(main_account))
    assert [e["action"] for e in audit.json()["data"]].count("settings") == 1  # nothing changed


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"region": "XX"}, {"region"}),
        ({"region": "GBR"}, {"region"}),
        ({"region": 44}, {"region"}),
        ({"timezone": "Mars/Olympus"}, {"timezone"}),
        ({"timezone": "../../etc/passwd"}, {"timezone"}),
        ({"timezone": ""}, {"timezone"}),
        ({"block_anonymous": True, "region": "GB", "timezone": "Nowhere"}, {"timezone"}),
        ({"region": "ZZ", "timezone": "Nowhere"}, {"region", "timezone"}),
    ],
)
async def test_an_unknown_region_or_time_zone_is_a_422_naming_it_and_changes_nothing(
    client: httpx.AsyncClient,
    store: Any,
    main_account: Credentials,
    body: dict[str, Any],
    fields: set[str],
) -> None:
    before = snapshot(store)
    refused = await client.patch("/v1/account", json=body, headers=bearer(main_account))
    assert set(problem(refused, 422)["errors"]) == fields
    assert snapshot(store) == before
    account = (await client.get("/v1/account", headers=bearer(main_account))).json()
    assert (account["region"], account["timezone"], account["block_anonymous"]) == (
        "IN",
        "Asia/Kolkata",
        False,
    )


def test_a_region_changed_through_one_process_reads_numbers_so_in_another(
    store: Any, clock: FakeClock, main_account: Credentials
) -> None:
    """Each process reads the region from the credentials it keeps: a change elsewhere
    must reach them (as the server's index refresher does, within a second)."""
    writer, reader = Service(store, clock=clock), Service(store, clock=clock)
    reader.load_index()
    known = reader.authenticate_key(main_account.key, Surface.V1)
    assert reader.checking_actor(main_account.key, Surface.V1) is not None
    assert reader.check(known, "020 7946 0000", None).number != "+442079460000"
    writer.update_settings(writer.authenticate_key(main_account.key, Surface.V1), region="GB")
    reader.refresh_index()
    assert reader.checking_actor(main_account.key, Surface.V1) is None  # to be checked again
    moved = reader.authenticate_key(main_account.key, Surface.V1)
    assert moved.account.region == "GB"
    assert reader.check(moved, "020 7946 0000", None).number == "+442079460000"


async def test_batch_check_answers_in_input_order(
    client: httpx.AsyncClient, main_account: Credentials
) -> None:
    gid = (await new_group(client, main_account))["id"]
    await add(client, main_account, gid, ["9876543210"])
    inputs = ["9876543210", "nonsense", 9876543210, "9123456780", None]
    response = await client.post(
        "/v1/check", json={"numbers": inputs}, headers=bearer(main_account)
    )
    results = response.json()["results"]
    assert [r["input"] for r in results] == inputs
    assert [r["blocked"] for r in results] == [True, False, True, False, False]
    assert results[1]["number"] is None
    assert results[1]["error"] == "not a valid phone number"


async def test_batch_check_takes_100000_numbers(
    client: httpx.AsyncClient, main_account: Credentials
) -> None:
    numbers = [str(9000000000 + i) for i in range(100_000)]
    response = await client.post(
        "/v1/check", json={"numbers": numbers}, headers=bearer(main_account)
    )
    assert response.status_code == 200
    assert len(response.json()["results"]) == 100_000
    too_many = await client.post(
        "/v1/check", json={"numbers": [*numbers, "1"]}, headers=bearer(main_account)
    )
    assert too_many.status_code == 422


async def test_invalid_single_check_is_422(
    client: httpx.AsyncClient, main_account: Credentials
) -> None:
    response = await client.get("/v1/check/12ab45", headers=bearer(main_account))
    assert response.status_code == 422
    assert response.json()["errors"] == {"number": "not a valid phone number"}
    response = await client.get(
        "/v1/check/9876543210", params={"direction": "both"}, headers=bearer(main_account)
    )
    assert response.status_code == 422


async def test_compat_writes_are_seen_by_v1_checks_at_once(
    client: httpx.AsyncClient, main_account: Credentials
) -> None:
    assert not (await check(client, main_account, "9876543210"))["blocked"]  # index loaded
    created = await client.post(
        V2,
        json={"name": "Compat", "description": "From V2", "blockNumbers": "9876543210"},
        headers=main_account.basic,
    )
    gid = created.json()["output"]["lastInsertId"]
    assert (await check(client, main_account, "9876543210"))["matches"][0]["group_id"] == gid
    await client.request(
        "DELETE", V2, json={"id": gid, "blockNumbers": "9876543210"}, headers=main_account.basic
    )
    assert not (await check(client, main_account, "9876543210"))["blocked"]


# --- isolation ---------------------------------------------------------------------------------


async def test_another_accounts_ids_are_answered_as_nonexistent(
    client: httpx.AsyncClient, store: Any, main_account: Credentials, other_account: Credentials
) -> None:
    theirs = (await new_group(client, other_account, "Theirs"))["id"]
    await add(client, other_account, theirs, ["9876543210"])
    before = snapshot(store)
    missing = theirs + 1000
    requests = [
        ("GET", "/v1/groups/{}", None),
        ("PATCH", "/v1/groups/{}", {"name": "Mine now"}),
        ("DELETE", "/v1/groups/{}", None),
        ("GET", "/v1/groups/{}/numbers", None),
        ("POST", "/v1/groups/{}/numbers", {"numbers": ["9123456780"]}),
        ("DELETE", "/v1/groups/{}/numbers", {"numbers": ["9876543210"]}),
    ]
    for method, path, body in requests:
        foreign = await client.request(
            method, path.format(theirs), json=body, headers=bearer(main_account)
        )
        absent = await client.request(
            method, path.format(missing), json=body, headers=bearer(main_account)
        )
        assert foreign.status_code == absent.status_code == 404, (method, path)
        assert foreign.json() == absent.json()
    assert not (await check(client, main_account, "9876543210"))["blocked"]
    audit = await client.get("/v1/audit", params={"group_id": theirs}, headers=bearer(main_account))
    assert audit.json()["count"] == 0
    assert snapshot(store) == before


# --- audit -------------------------------------------------------------------------------------


async def test_every_change_through_every_surface_is_audited(
    client: httpx.AsyncClient, service: Service, main_account: Credentials, clock: FakeClock
) -> None:
    gid = (await new_group(client, main_account, "Audited"))["id"]
    await add(client, main_account, gid, ["9876543210"])
    await add(client, main_account, gid, ["9876543210"], expires_at="2030-01-01T00:00:00Z")
    await client.patch(
        f"/v1/groups/{gid}", json={"name": "Audited 2"}, headers=bearer(main_account)
    )
    await client.patch(
        f"/v1/groups/{gid}", json={"direction": "inbound"}, headers=bearer(main_account)
    )
    await client.put(V2, json={"Id": gid, "blockNumbers": "9123456780"}, headers=main_account.basic)
    await client.request(
        "DELETE",
        f"/v1/groups/{gid}/numbers",
        json={"numbers": ["9876543210"]},
        headers=bearer(main_account),
    )
    await client.delete(f"/v1/groups/{gid}", headers=bearer(main_account))
    events = (await client.get("/v1/audit", headers=bearer(main_account))).json()["data"]
    assert [(e["action"], e["surface"], e["count"]) for e in events] == [
        ("delete", "v1", 1),
        ("remove", "v1", 1),
        ("add", "compat-v2", 1),
        ("update", "v1", 0),
        ("rename", "v1", 0),
        ("expire-refresh", "v1", 1),
        ("add", "v1", 1),
        ("create", "v1", 0),
    ]
    assert events[4]["detail"]["previous_name"] == "Audited"
    assert events[4]["detail"]["previous"] == {"name": "Audited"}
    assert events[3]["detail"] == {"direction": "inbound", "previous": {"direction": "both"}}
    assert all(e["key_id"] is not None for e in events)
    by_number = await client.get(
        "/v1/audit", params={"number": "09876543210"}, headers=bearer(main_account)
    )
    assert [e["action"] for e in by_number.json()["data"]] == ["remove", "expire-refresh", "add"]
    clock.advance(minutes=5)
    await new_group(client, main_account, "Later")
    since = (clock.now - timedelta(minutes=1)).isoformat()
    recent = await client.get("/v1/audit", params={"since": since}, headers=bearer(main_account))
    assert [e["action"] for e in recent.json()["data"]] == ["create"]
    older = await client.get("/v1/audit", params={"until": since}, headers=bearer(main_account))
    assert [e["action"] for e in older.json()["data"]] == [e["action"] for e in events]
    assert older.json()["count"] == len(events)
    window = {"since": events[-1]["at"], "until": since}
    assert (await client.get("/v1/audit", params=window, headers=bearer(main_account))).json()[
        "count"
    ] == len(events)
    empty = await client.get(
        "/v1/audit", params={"since": since, "until": since}, headers=bearer(main_account)
    )
    assert (empty.status_code, empty.json()["count"]) == (200, 0)
    paged = await client.get("/v1/audit", params={"limit": 3}, headers=bearer(main_account))
    rest = await client.get(
        "/v1/audit",
        params={"limit": 100, "cursor": paged.json()["next_cursor"]},
        headers=bearer(main_account),
    )
    ids = [e["id"] for e in paged.json()["data"] + rest.json()["data"]]
    assert ids == sorted(ids, reverse=True)
    assert len(ids) == 9


# --- health ------------------------------------------------------------------------------------


async def test_health_and_readiness(client: httpx.AsyncClient, app: Any, service: Service) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok", "checks": {}}
    assert (await client.get("/readyz")).status_code == 503  # index not loaded yet
    service.load_index()
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "checks": {"store": "ok", "index": "loaded"}}


async def test_openapi_document(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    assert document["openapi"].startswith("3.1")
    operations = {op["operationId"] for path in document["paths"].values() for op in path.values()}
    assert {
        "listGroups",
        "createGroup",
        "checkNumber",
        "checkNumbers",
        "listAuditEvents",
    } <= operations
    assert "Problem" in document["components"]["schemas"]
    assert (await client.get("/docs")).status_code == 200


def test_cross_process_writes_are_seen_after_a_refresh(
    store: Any, clock: FakeClock, main_account: Credentials
) -> None:
    writer = Service(store, clock=clock)
    reader = Service(store, clock=clock)
    reader.load_index()
    actor_w = writer.authenticate_key(main_account.key, Surface.V1)
    actor_r = reader.authenticate_key(main_account.key, Surface.V1)
    group = writer.create_group(
        actor_w, "Shared", "", [RequestedNumber("x", "+919876543210")], None
    )
    assert not reader.check(actor_r, "9876543210", None).blocked  # not refreshed yet
    assert reader.refresh_index() == 1
    assert reader.check(actor_r, "9876543210", None).blocked
    # A write here when the reader missed one elsewhere: the reader reloads, never skips.
    writer.add_numbers(
        actor_w, GroupById(group.group.id), [RequestedNumber("y", "+919123456780")], None
    )
    reader.add_numbers(
        actor_r, GroupById(group.group.id), [RequestedNumber("z", "+919811122233")], None
    )
    for number in ("9876543210", "9123456780", "9811122233"):
        assert reader.check(actor_r, number, None).blocked, number
    assert reader.refresh_index() == 0


async def test_a_known_key_checks_without_waiting_on_the_store(
    client: httpx.AsyncClient, service: Service, main_account: Credentials
) -> None:
    group = await new_group(client, main_account, "Held")
    await client.post(
        f"/v1/groups/{group['id']}/numbers",
        json={"numbers": ["9876543210"]},
        headers=bearer(main_account),
    )
    assert (await check(client, main_account, "9876543210"))["blocked"]
    released = threading.Event()
    real_read = service.store.read

    @contextmanager
    def held_read() -> Iterator[Any]:
        assert released.wait(timeout=30)  # the store hangs until the test lets it go
        with real_read() as conn:
            yield conn

    service.store.read = held_read  # type: ignore[method-assign]
    try:
        await anyio.sleep(AUTH_CACHE_SECONDS + 0.1)  # the credential is due for a re-check
        with anyio.fail_after(10):  # it would wait for the store forever
            answer = await check(client, main_account, "9876543210")
            many = await client.post(
                "/v1/check", json={"numbers": ["9876543210"]}, headers=bearer(main_account)
            )
        assert answer["blocked"]
        assert many.json()["results"][0]["blocked"]
    finally:
        released.set()
        service.store.read = real_read  # type: ignore[method-assign]
        for thread in threading.enumerate():  # let the re-check finish before the store goes
            if thread.name == "key-recheck":
                thread.join(timeout=30)
