"""The V2 endpoint beyond the shared vectors: encodings, validation, expiry, isolation."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from callblock.domain import StoreUnavailable
from callblock.service import Service
from callblock.store import Store
from tests.helpers import V2, Credentials, FakeClock, entry_rows, snapshot

pytestmark = pytest.mark.anyio

GOOD = {"name": "Spam callers", "description": "Known spam", "blockNumbers": "9876543210"}


async def create(client: httpx.AsyncClient, who: Credentials, **fields: Any) -> httpx.Response:
    return await client.post(V2, json={**GOOD, **fields}, headers=who.basic)


async def new_group(client: httpx.AsyncClient, who: Credentials, **fields: Any) -> int:
    response = await create(client, who, **fields)
    assert response.status_code == 200, response.text
    group_id: int = response.json()["output"]["lastInsertId"]
    return group_id


# --- authentication ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        "Basic",
        "Basic !!!notbase64",
        "Basic bWFpbg==",  # "main" without a colon
        "Bearer sometoken",
        "basic " + "x" * 5000,
    ],
)
async def test_malformed_basic_header_is_refused(
    client: httpx.AsyncClient, main_account: Credentials, header: str
) -> None:
    response = await client.post(V2, json=GOOD, headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json() == {"status": "error", "message": "Authentication failed"}


async def test_a_key_works_only_with_its_own_username(
    client: httpx.AsyncClient, main_account: Credentials, other_account: Credentials
) -> None:
    crossed = Credentials("main", other_account.key)
    response = await client.post(V2, json=GOOD, headers=crossed.basic)
    assert response.status_code == 401


async def test_every_key_of_an_account_authenticates(
    client: httpx.AsyncClient, service: Service, main_account: Credentials
) -> None:
    second = Credentials("main", service.issue_key("main").key)
    response = await create(client, second)
    assert response.status_code == 200


# --- body encodings ---------------------------------------------------------------------------


async def test_urlencoded_with_php_list_keys(
    client: httpx.AsyncClient, main_account: Credentials
) -> None:
    body = (
        "name=Legal+hold&description=Court+order"
        "&blockNumbers[]=9876543210&blockNumbers[]=%2B91+91234+56780"
    )
    response = await client.post(
        V2,
        content=body,
        headers={**main_account.basic, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200, response.text
    out = response.json()
    assert out["input"]["blockNumbers"] == ["9876543210", "+91 91234 56780"]
    assert out["output"]["succes"] == ["+919876543210", "+919123456780"]


async def test_multipart_form(client: httpx.AsyncClient, main_account: Credentials) -> None:
    response = await client.post(
        V2,
        data={"name": "Opt outs", "description": "Asked not to be called"},
        files={"blockNumber": (None, "9876543210,9123456780")},
        headers=main_account.basic,
    )
    assert response.status_code == 200, response.text
    assert response.json()["output"]["succes"] == ["+919876543210", "+919123456780"]


async def test_json_sent_as_a_form_is_read_as_json(
    client: httpx.AsyncClient, main_account: Credentials
) -> None:
    response = await client.post(
        V2,
        content=json.dumps(GOOD),
        headers={**main_account.basic, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200, response.text


async def test_numbers_as_integers_and_arrays_of_comma_strings(
    client: httpx.AsyncClient, main_account: Credentials
) -> None:
    response = await create(
        client, main_account, blockNumbers=[9876543210, "9123456780, 9811122233"]
    )
    assert response.status_code == 200, response.text
    assert response.json()["input"]["blockNumbers"] == [9876543210, "9123456780, 9811122233"]
    assert response.json()["output"]["succes"] == [
        "+919876543210",
        "+919123456780",
        "+919811122233",
    ]


async def test_unknown_fields_are_ignored(
    client: httpx.AsyncClient, main_account: Credentials
) -> None:
    response = await create(client, main_account, colour="blue", extra={"a": 1})
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"{not json", "application/json"),
        (b"[1, 2, 3]", "application/json"),
        (b'"a string"', "application/json"),
        (b'{"name": "\xff\xfe"}', "application/json"),
        (b"[" * 100_000 + b"]" * 100_000, "application/json"),
        (b"\x00\x01\x02", "application/octet-stream"),
        (b'{"name": NaN}', "application/json"),
        (b'{"name": Infinity}', "application/json"),
        (b"--boundary\r\nbroken", "multipart/form-data; boundary=boundary"),
        (b"name=%ff%fe", "application/x-www-form-urlencoded"),
    ],
)
async def test_undecodable_body_is_invalid_and_writes_nothing(
    client: httpx.AsyncClient,
    store: Store,
    main_account: Credentials,
    content: bytes,
    content_type: str,
) -> None:
    before = snapshot(store)
    response = await client.post(
        V2, content=content, headers={**main_account.basic, "Content-Type": content_type}
    )
    assert response.status_code == 400
    assert response.json() == {"status": "error", "message": "Invalid request body"}
    assert snapshot(store) == before


async def test_body_over_one_mebibyte_is_refused(
    client: httpx.AsyncClient, store: Store, main_account: Credentials
) -> None:
    before = snapshot(store)
    big = json.dumps({**GOOD, "description": "x" * (1024 * 1024)})
    response = await client.post(
        V2, content=big, headers={**main_account.basic, "Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json() == {"status": "error", "message": "Request body too large"}

    async def chunks() -> Any:  # no Content-Length: the limit holds on the stream itself
        for _ in range(20):
            yield b" " * 65536
        yield big.encode()

    response = await client.post(
        V2, content=chunks(), headers={**main_account.basic, "Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert snapshot(store) == before


# --- validation (all-or-nothing) ----------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["ब्लॉक सूची", "AB", "a" * 50, "Spam_callers-2.0", "  Trimmed name  ", "9to5", "Ünïcödé"],
)
async def test_valid_names(client: httpx.AsyncClient, main_account: Credentials, name: str) -> None:
    response = await create(client, main_account, name=name)
    assert response.status_code == 200, response.text
    assert response.json()["input"]["name"] == name


@pytest.mark.parametrize(
    "name",
    ["s@n", "@n", "s@", "A", "a" * 51, "  A  ", "", "_leading", "-dash", "tab\there", "emoji 😀"],
)
async def test_invalid_names_report_the_value_as_sent(
    client: httpx.AsyncClient, store: Store, main_account: Credentials, name: str
) -> None:
    before = snapshot(store)
    response = await create(client, main_account, name=name)
    assert response.status_code == 400
    assert response.json() == {
        "status": "error",
        "message": "invalid data",
        "errors": {"name": f"Name ({name}) allows 2 to 50 characters only"},
    }
    assert snapshot(store) == before


async def test_every_invalid_field_is_reported_in_one_answer(
    client: httpx.AsyncClient, store: Store, main_account: Credentials
) -> None:
    before = snapshot(store)
    response = await create(
        client,
        main_account,
        name="@",
        description="x" * 51,
        blockNumbers=["9876543210", "12ab45", 7, True, None],
        expiryDate="tomorrow",
    )
    assert response.status_code == 400
    assert response.json() == {
        "status": "error",
        "message": "invalid data",
        "errors": {
            "name": "Name (@) allows 2 to 50 characters only",
            "description": f"Description ({'x' * 51}) allows 2 to 50 characters only",
            "blockNumbers": "Blocknumbers data contains invalid format of numbers",
            "expiryDate": "expiryDate must be a future date in YYYY-MM-DD HH:MM:SS format",
        },
        "invalidNumbers": ["12ab45", 7, True, None],
    }
    assert snapshot(store) == before


@pytest.mark.parametrize(
    ("numbers", "message"),
    [
        ([], "BlockNumbers is required"),
        ("", "BlockNumbers is required"),
        (" , ,", "BlockNumbers is required"),
        ([str(9100000000 + i) for i in range(101)], "Maximum 100 numbers are allowed per request"),
        (
            ",".join(str(9100000000 + i) for i in range(101)),
            "Maximum 100 numbers are allowed per request",
        ),
    ],
)
async def test_number_count_rules(
    client: httpx.AsyncClient, store: Store, main_account: Credentials, numbers: Any, message: str
) -> None:
    before = snapshot(store)
    response = await create(client, main_account, blockNumbers=numbers)
    assert response.status_code == 400
    assert response.json()["errors"] == {"blockNumbers": message}
    assert snapshot(store) == before


async def test_one_hundred_numbers_is_allowed(
    client: httpx.AsyncClient, store: Store, main_account: Credentials
) -> None:
    numbers = [str(9100000000 + i) for i in range(100)]
    group_id = await new_group(client, main_account, blockNumbers=numbers)
    assert len(entry_rows(store, group_id)) == 100


@pytest.mark.parametrize(
    "fields",
    [
        {"name": None},
        {"description": None},
        {"blockNumbers": None},
    ],
)
async def test_null_required_field_is_a_missing_parameter(
    client: httpx.AsyncClient, main_account: Credentials, fields: dict[str, Any]
) -> None:
    response = await create(client, main_account, **fields)
    assert response.status_code == 400
    assert response.json() == {"status": "error", "message": "Parameters are mandatory"}


async def test_wrong_types_get_documented_answers(
    client: httpx.AsyncClient, store: Store, main_account: Credentials
) -> None:
    before = snapshot(store)
    response = await create(
        client, main_account, name=["list"], description={"a": 1}, blockNumbers={"x": 1}
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "name": 'Name (["list"]) allows 2 to 50 characters only',
        "description": 'Description ({"a": 1}) allows 2 to 50 characters only',
        "blockNumbers": "Blocknumbers data contains invalid format of numbers",
    }
    assert snapshot(store) == before


@pytest.mark.parametrize("description", ["nul\x00byte", "\ud800 lone"])
async def test_unstorable_text_is_invalid_not_a_crash(
    client: httpx.AsyncClient, store: Store, main_account: Credentials, description: str
) -> None:
    before = snapshot(store)
    body = json.dumps({**GOOD, "description": description})  # ASCII escapes survive the trip
    response = await client.post(
        V2, content=body, headers={**main_account.basic, "Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["description"]
    assert snapshot(store) == before


@pytest.mark.parametrize("description", ["line\nbreak", "tab\there", "bell\x07"])
async def test_other_control_characters_are_kept_in_descriptions(
    client: httpx.AsyncClient, main_account: Credentials, description: str
) -> None:
    response = await create(client, main_account, description=description)
    assert response.status_code == 200, response.text
    assert response.json()["input"]["description"] == description


@pytest.mark.parametrize(
    "group_id_json",
    ['"' + "1" * 4301 + '"', '"' + "9" * 20 + '"', "1" * 4500, "1e999", "-" + "1" * 4500],
    ids=["digits-4301", "digits-20", "int-4500", "float-overflow", "negative-int-4500"],
)
async def test_group_ids_too_large_for_any_integer_are_invalid_group_ids(
    client: httpx.AsyncClient, main_account: Credentials, group_id_json: str
) -> None:
    body = '{"Id": ' + group_id_json + ', "blockNumbers": "9876543210"}'
    for method in ("PUT", "DELETE"):
        response = await client.request(
            method,
            V2,
            content=body,
            headers={**main_account.basic, "Content-Type": "application/json"},
        )
        assert response.status_code == 404, (method, response.text)
        assert response.json() == {"status": "error", "message": "Invalid group id"}
    query = await client.delete(
        V2, params={"id": "1" * 4301, "blockNumbers": "9876543210"}, headers=main_account.basic
    )
    assert query.status_code == 404


async def test_a_huge_json_integer_is_an_invalid_number(
    client: httpx.AsyncClient, main_account: Credentials
) -> None:
    huge = "9" * 5000
    body = '{"name": "Huge", "description": "Huge", "blockNumbers": [9876543210, ' + huge + "]}"
    response = await client.post(
        V2, content=body, headers={**main_account.basic, "Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["invalidNumbers"] == [huge]


async def test_many_form_fields_reach_the_number_limit_not_a_body_error(
    client: httpx.AsyncClient, main_account: Credentials
) -> None:
    body = "name=Many&description=Many&" + "&".join(["blockNumbers[]=9000000131"] * 1001)
    response = await client.post(
        V2,
        content=body,
        headers={**main_account.basic, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "blockNumbers": "Maximum 100 numbers are allowed per request"
    }


async def test_a_repeated_plain_form_key_keeps_its_last_value_as_php_does(
    client: httpx.AsyncClient, main_account: Credentials
) -> None:
    body = "name=First&name=Second&description=Kept&blockNumbers=9876543210&blockNumbers=9123456780"
    response = await client.post(
        V2,
        content=body,
        headers={**main_account.basic, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["input"]["name"] == "Second"
    assert response.json()["output"]["succes"] == ["+919876543210", "+919123456780"]


async def test_names_are_unique_case_insensitively_per_account(
    client: httpx.AsyncClient, store: Store, main_account: Credentials
) -> None:
    await new_group(client, main_account, name="Ünïcödé List")
    before = snapshot(store)
    response = await create(client, main_account, name=" üNÏCÖDÉ list ")
    assert response.status_code == 409
    assert response.json() == {
        "status": "error",
        "message": "invalid data",
        "errors": {"name": "Name ( üNÏCÖDÉ list ) already exists"},
    }
    assert snapshot(store) == before


async def test_validation_comes_before_the_group_lookup(
    client: httpx.AsyncClient, main_account: Credentials
) -> None:
    response = await client.put(
        V2, json={"Id": 999999, "blockNumbers": ["12ab45"]}, headers=main_account.basic
    )
    assert response.status_code == 400
    response = await client.put(
        V2, json={"Id": 999999, "blockNumbers": ["9876543210"]}, headers=main_account.basic
    )
    assert response.status_code == 404


@pytest.mark.parametrize(
    "group_id", ["abc", -1, 0, 1.5, True, "", 2**70, "1 OR 1=1", [1], {"a": 1}]
)
async def test_unusable_group_ids_are_invalid_group_ids(
    client: httpx.AsyncClient, main_account: Credentials, group_id: Any
) -> None:
    for method in ("PUT", "DELETE"):
        response = await client.request(
            method,
            V2,
            json={"id": group_id, "blockNumbers": "9876543210"},
            headers=main_account.basic,
        )
        assert response.status_code == 404, (method, group_id)
        assert response.json() == {"status": "error", "message": "Invalid group id"}


# --- expiry and time zones ----------------------------------------------------------------------


async def test_expiry_is_read_in_the_account_time_zone(
    client: httpx.AsyncClient, store: Store, service: Service, clock: FakeClock
) -> None:
    # The clock stands at 2026-06-01 12:00:00 UTC = 17:30:00 in Kolkata = 08:00:00 in New York.
    kolkata = Credentials("kolkata", service.create_account("kolkata").key)
    new_york = Credentials(
        "ny", service.create_account("ny", region="US", timezone="America/New_York").key
    )

    not_future = await create(client, kolkata, expiryDate="2026-06-01 17:30:00")
    assert not_future.status_code == 400
    group_id = await new_group(client, kolkata, expiryDate="2026-06-01 17:30:01")
    expires = entry_rows(store, group_id)["+919876543210"].expires_at
    assert expires.replace(tzinfo=UTC) == datetime(2026, 6, 1, 12, 0, 1, tzinfo=UTC)

    assert (await create(client, new_york, expiryDate="2026-06-01 08:00:00")).status_code == 400
    ny_group = await new_group(
        client, new_york, blockNumbers="(415) 555-2671", expiryDate="2026-12-01 08:00:00"
    )
    # December in New York is UTC-5 (standard time), June was UTC-4.
    expires = entry_rows(store, ny_group)["+14155552671"].expires_at
    assert expires.replace(tzinfo=UTC) == datetime(2026, 12, 1, 13, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "expiry",
    [
        "2099-13-01 00:00:00",
        "2099-02-30 00:00:00",
        "2099-12-31",
        "2099-12-31T23:59:59",
        "2099-12-31 23:59:59Z",
        " 2099-12-31 23:59:59",
        "2099-12-31 24:00:00",
        4102444799,
        "\uff12\uff10\uff19\uff19-12-31 23:59:59"  # fullwidth digits,
        "9999-12-31 23:59:59 ",
    ],
)
async def test_malformed_expiry_is_refused(
    client: httpx.AsyncClient, store: Store, main_account: Credentials, expiry: Any
) -> None:
    before = snapshot(store)
    response = await create(client, main_account, expiryDate=expiry)
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["expiryDate"]
    assert snapshot(store) == before


async def test_latest_expiry_survives_conversion(
    client: httpx.AsyncClient, service: Service, store: Store
) -> None:
    # 9999-12-31 23:59:59 in Honolulu is past the last instant a datetime holds in UTC: it is
    # kept as that last instant.
    who = Credentials("hnl", service.create_account("hnl", timezone="Pacific/Honolulu").key)
    group_id = await new_group(client, who, expiryDate="9999-12-31 23:59:59")
    expires = entry_rows(store, group_id)["+919876543210"].expires_at
    assert expires.replace(tzinfo=UTC) == datetime.max.replace(tzinfo=UTC)


async def test_readding_refreshes_expiry_and_counts_as_inserted_not_new(
    client: httpx.AsyncClient, store: Store, main_account: Credentials
) -> None:
    group_id = await new_group(client, main_account, expiryDate="2030-01-01 00:00:00")
    response = await client.put(
        V2,
        json={
            "Id": str(group_id),
            "blockNumbers": ["9876543210"],
            "expiryDate": "2031-01-01 05:30:00",
        },
        headers=main_account.basic,
    )
    assert response.status_code == 200
    assert response.json()["output"] == {
        "succes": ["+919876543210"],
        "error": [],
        "new": 0,
        "inserted": 1,
    }
    row = entry_rows(store, group_id)["+919876543210"]
    assert row.expires_at.replace(tzinfo=UTC) == datetime(2031, 1, 1, 0, 0, tzinfo=UTC)

    # No expiryDate means no expiry, also for a number that had one.
    await client.put(
        V2, json={"Id": group_id, "blockNumbers": "9876543210"}, headers=main_account.basic
    )
    assert entry_rows(store, group_id)["+919876543210"].expires_at is None


async def test_expired_entries_stay_in_the_group_until_removed(
    client: httpx.AsyncClient, store: Store, main_account: Credentials, clock: FakeClock
) -> None:
    group_id = await new_group(client, main_account, expiryDate="2026-06-01 17:30:05")
    clock.advance(seconds=10)
    assert "+919876543210" in entry_rows(store, group_id)
    response = await client.request(
        "DELETE",
        V2,
        json={"id": group_id, "blockNumbers": "9876543210"},
        headers=main_account.basic,
    )
    assert response.json()["output"] == {"success": ["+919876543210"], "error": [], "deleted": 1}


# --- update and delete ---------------------------------------------------------------------------


async def test_create_reports_repeats_within_the_request(
    client: httpx.AsyncClient, main_account: Credentials
) -> None:
    response = await create(
        client, main_account, blockNumbers="9876543210, 09876543210,919876543210,9123456780"
    )
    assert response.json()["output"]["succes"] == ["+919876543210", "+919123456780"]
    assert response.json()["output"]["error"] == ["09876543210", "919876543210"]


async def test_delete_by_query_string_and_by_form(
    client: httpx.AsyncClient, store: Store, main_account: Credentials
) -> None:
    group_id = await new_group(client, main_account, blockNumbers="9876543210,9123456780")
    response = await client.delete(
        V2, params={"id": group_id, "blockNumbers": "9876543210"}, headers=main_account.basic
    )
    assert response.status_code == 200, response.text
    assert response.json()["output"]["deleted"] == 1
    response = await client.request(
        "DELETE",
        V2,
        data={"Id": str(group_id), "blockNumber": "9123456780"},
        headers=main_account.basic,
    )
    assert response.json()["output"] == {"success": ["+919123456780"], "error": [], "deleted": 1}
    assert entry_rows(store, group_id) == {}


async def test_delete_requires_an_id(client: httpx.AsyncClient, main_account: Credentials) -> None:
    response = await client.request(
        "DELETE", V2, json={"blockNumbers": "9876543210"}, headers=main_account.basic
    )
    assert response.status_code == 400
    assert response.json() == {"status": "error", "message": "Parameters are mandatory"}


# --- isolation ------------------------------------------------------------------------------------


async def test_another_accounts_group_is_answered_as_nonexistent(
    client: httpx.AsyncClient, store: Store, main_account: Credentials, other_account: Credentials
) -> None:
    theirs = await new_group(client, other_account)
    before = snapshot(store)
    for method in ("PUT", "DELETE"):
        foreign = await client.request(
            method,
            V2,
            json={"Id": theirs, "blockNumbers": "9876543210"},
            headers=main_account.basic,
        )
        missing = await client.request(
            method,
            V2,
            json={"Id": theirs + 1000, "blockNumbers": "9876543210"},
            headers=main_account.basic,
        )
        assert foreign.status_code == missing.status_code == 404
        assert foreign.content == missing.content
    assert snapshot(store) == before


# --- HTTP details ---------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "PATCH", "OPTIONS", "PROPFIND"])
async def test_other_methods_are_not_allowed(
    client: httpx.AsyncClient, main_account: Credentials, method: str
) -> None:
    response = await client.request(method, V2, headers=main_account.basic)
    assert response.status_code == 405
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"status": "error", "message": "Method not allowed"}


async def test_unknown_compat_paths_answer_json_404(client: httpx.AsyncClient) -> None:
    for path in ("/CAServicesV3/other.php", "/ca_apis/nothing"):
        response = await client.post(path)
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/json"
        assert response.json()["status"] == "error"


async def test_unexpected_failure_is_a_bare_internal_error(
    client: httpx.AsyncClient,
    service: Service,
    main_account: Credentials,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def explode(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(service, "create_group", explode)
    response = await create(client, main_account)
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"status": "error", "message": "Internal error"}
    assert "secret internal detail" not in response.text
    assert "secret internal detail" in caplog.text  # the detail goes to the server log


async def test_store_unavailable_is_a_503_with_a_json_body(
    client: httpx.AsyncClient,
    service: Service,
    main_account: Credentials,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def locked(*_args: Any, **_kwargs: Any) -> None:
        raise StoreUnavailable("database is locked")

    monkeypatch.setattr(service, "create_group", locked)
    response = await create(client, main_account)
    assert response.status_code == 503
    assert response.json() == {"status": "error", "message": "Service unavailable"}


async def test_every_change_is_audited_with_surface_and_key(
    client: httpx.AsyncClient, store: Store, service: Service, main_account: Credentials
) -> None:
    from sqlalchemy import select

    from callblock.store.tables import audit_events

    group_id = await new_group(client, main_account, blockNumbers="9876543210,9123456780")
    await client.put(
        V2, json={"Id": group_id, "blockNumbers": "9811122233"}, headers=main_account.basic
    )
    await client.request(
        "DELETE",
        V2,
        json={"id": group_id, "blockNumbers": "9811122233"},
        headers=main_account.basic,
    )
    with store.read() as conn:
        events = conn.execute(select(audit_events).order_by(audit_events.c.id)).all()
    assert [(e.action, e.count, json.loads(e.sample)) for e in events] == [
        ("create", 2, ["+919876543210", "+919123456780"]),
        ("add", 1, ["+919811122233"]),
        ("remove", 1, ["+919811122233"]),
    ]
    assert {e.surface for e in events} == {"compat-v2"}
    assert {e.group_id for e in events} == {group_id}
    assert all(e.key_id is not None for e in events)
