"""Isolation between accounts: another account's ids answer exactly like ids of nothing.

The contract (shared/spec/cloudagent-compat.md, section 1): no request of one account can
read, change or learn the existence of another account's data; a foreign group id answers
exactly like a group id that does not exist.

The operations probed are enumerated from the app itself: every `/v1` operation of the
OpenAPI document with an id-bearing parameter (``*_id``, ``id``) and every compat endpoint
(``/CAServicesV3/...``, ``/ca_apis/...``) whose body or query names a group. Account A (the
caller) sends each of them with every id of account B (live groups and a deleted one) and
with ids that exist nowhere (a gap left by a purged third account, and one beyond any id):
status, headers and body must be identical, byte for byte. Afterwards B's rows, and what B
sees through the API, must be exactly what they were.

Beside group ids: cursors (which carry row ids), change feed tokens (B's are refused like
forged ones, and A's feed holds nothing of B's), B's group names (free for A to use, and
unknown to A's lookups), B's numbers (invisible to A's checks, scrubs, history and removal
from every group) and B's username (A's key under it fails like under a name nobody has).
"""

from __future__ import annotations

import base64
import csv
import io
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from starlette.routing import Route

from callblock.http.compat import ca_apis, wire
from callblock.numbers import normalise
from callblock.service import Service
from callblock.store import Store
from callblock.store.tables import (
    accounts,
    api_keys,
    audit_events,
    audit_numbers,
    entries,
    groups,
    tokens,
)
from tests.helpers import V2, Credentials, FakeClock, add_numbers, bearer, new_group, snapshot

pytestmark = pytest.mark.anyio

# An id no row has ever had (ids are sequential; 63 bits is the API's upper bound).
NOWHERE_ID = 2**62 + 7

A_NUMBER = "9811122233"  # in A's first group: the checks' positive control
B_NUMBERS = ["9876543210", "+91 91234 56780"]  # in B's "Blocked callers"
B_PREFIX = "140*"  # ditto, a prefix entry
B_PREFIXED_NUMBER = "01401234567"  # a number B's prefix blocks
B_EXPIRING = "9988776655"  # in "Blocked callers", expired by the time A probes
B_VENDOR_NUMBERS = ["9000000001", "9000000002"]  # in B's "Vendors" (V2, with an expiry)
B_NIGHT_NUMBER = "9700000001"  # in B's "Night shift" (ca_apis)
B_TEMPORARY_NUMBER = "9812345678"  # was in B's deleted group
NOWHERE_NUMBERS = ["9123000001", "9123000002"]  # in no group of anyone
ALL_B_NUMBERS = [
    *B_NUMBERS,
    B_PREFIXED_NUMBER,
    B_EXPIRING,
    *B_VENDOR_NUMBERS,
    B_NIGHT_NUMBER,
    B_TEMPORARY_NUMBER,
]

NOT_FOUND_PROBLEM = {
    "type": "urn:callblock:problem:group-not-found",
    "title": "Not found",
    "status": 404,
    "detail": "No such group.",
}
EMPTY_PAGE = {"data": [], "count": 0, "next_cursor": None}
COMPAT_INVALID_GROUP = {"status": "error", "message": "Invalid group id"}


# --- what a probe sends and what it gets ------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """Everything a client can observe of a response."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def __str__(self) -> str:
        return f"{self.status} {dict(self.headers)} {self.body.decode(errors='replace')}"

    def json(self) -> Any:
        """The body as JSON; None when it is not JSON (a CSV, say)."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None


async def answer(client: httpx.AsyncClient, method: str, url: str, **request: Any) -> Answer:
    response = await client.request(method, url, **request)
    return Answer(response.status_code, tuple(response.headers.multi_items()), response.content)


def ok(response: httpx.Response) -> Any:
    assert response.is_success, response.text
    return response.json() if response.content else None


@dataclass(frozen=True)
class Comparison:
    """Answers to one request shape, sent once per id: all must equal the reference answer,
    itself the first id that exists nowhere."""

    request: str
    answers: dict[str, Answer]
    reference: str

    def differences(self) -> list[str]:
        expected = self.answers[self.reference]
        return [
            f"{self.request}\n    with {label}: {got}\n    with {self.reference}: {expected}"
            for label, got in self.answers.items()
            if got != expected
        ]


def one_of_each(nowhere: Mapping[str, Any], foreign: Mapping[str, Any]) -> dict[str, Any]:
    """The reference value of nothing and B's first: for request shapes that vary only how
    the same lookup is reached (the full sets go through it once per operation)."""
    first = next(iter(nowhere))
    other = next(iter(foreign))
    return {first: nowhere[first], other: foreign[other]}


def report(comparisons: Iterable[Comparison]) -> str:
    lines = [line for c in comparisons for line in c.differences()]
    return f"{len(lines)} foreign ids answered unlike nonexistent ones:\n" + "\n".join(lines)


# --- the two accounts --------------------------------------------------------------------------


@dataclass(frozen=True)
class World:
    """A's groups surround every other group id: A's first group was created before anything
    of B, A's last after. The gap group and gap events belonged to a third account whose
    group was deleted and whose history was erased: ids between A's, existing nowhere."""

    a: Credentials
    b: Credentials
    a_start: str  # A's change feed token before anything was written
    b_start: str  # B's
    a_groups: tuple[int, int]
    a_events: tuple[int, ...]
    b_groups: dict[str, int]  # live groups by name
    b_deleted_group: tuple[str, int]  # name and id; still named in B's history
    b_events: tuple[int, ...]
    gap_group: int
    gap_events: tuple[int, ...]

    @property
    def foreign_group_ids(self) -> dict[str, int]:
        ids = {f"B's group {name!r} ({gid})": gid for name, gid in self.b_groups.items()}
        name, gid = self.b_deleted_group
        return {**ids, f"B's deleted group {name!r} ({gid})": gid}

    @property
    def nowhere_group_ids(self) -> dict[str, int]:
        return {
            f"a never-used id ({NOWHERE_ID})": NOWHERE_ID,
            f"an erased group's id ({self.gap_group})": self.gap_group,
        }

    @property
    def foreign_group_names(self) -> dict[str, str]:
        names = {f"B's group name {name!r}": name for name in self.b_groups}
        first = next(iter(self.b_groups))
        names[f"B's group name {first!r} in capitals"] = first.upper()
        names[f"B's group name {first!r} padded with spaces"] = f"  {first}  "
        deleted = self.b_deleted_group[0]
        return {**names, f"B's deleted group name {deleted!r}": deleted}

    @property
    def nowhere_group_names(self) -> dict[str, str]:
        return {"a name nobody uses": "Nobody has this", "another unused name": "Never existed"}


async def event_ids(client: httpx.AsyncClient, who: Credentials) -> tuple[int, ...]:
    page = ok(await client.get("/v1/audit", params={"limit": 1000}, headers=bearer(who)))
    return tuple(sorted(event["id"] for event in page["data"]))


def erase_history(store: Store, username: str) -> tuple[int, ...]:
    """Delete every audit event of the account: their ids then exist nowhere."""
    with store.write() as conn:
        account_id = conn.execute(
            select(accounts.c.id).where(accounts.c.username == username)
        ).scalar_one()
        ids = tuple(
            conn.execute(select(audit_events.c.id).where(audit_events.c.account_id == account_id))
            .scalars()
            .all()
        )
        conn.execute(audit_numbers.delete().where(audit_numbers.c.event_id.in_(ids)))
        conn.execute(audit_events.delete().where(audit_events.c.id.in_(ids)))
    return ids


@pytest.fixture
async def world(
    client: httpx.AsyncClient,
    service: Service,
    store: Store,
    clock: FakeClock,
    main_account: Credentials,
    other_account: Credentials,
) -> World:
    a, b = main_account, other_account
    a_start = ok(await client.get("/v1/changes", headers=bearer(a)))["next"]
    b_start = ok(await client.get("/v1/changes", headers=bearer(b)))["next"]
    a_first = (await new_group(client, a, "Mine first"))["id"]
    await add_numbers(client, a, a_first, [A_NUMBER])

    # B: groups on every surface, numbers, a prefix, expiries, a rename, an update, a deletion.
    blocked = (await new_group(client, b, "Blocked callers", description="B's main list"))["id"]
    await add_numbers(client, b, blocked, [*B_NUMBERS, B_PREFIX], note="from B")
    soon = (clock.now + timedelta(hours=1)).isoformat()
    await add_numbers(client, b, blocked, [B_EXPIRING], expires_at=soon)
    vendors = ok(
        await client.post(
            V2,
            json={
                "name": "Vendors",
                "description": "B's vendors",
                "blockNumbers": B_VENDOR_NUMBERS,
                "expiryDate": "2031-01-01 00:00:00",
            },
            headers=b.basic,
        )
    )
    night = ok(
        await client.post(
            "/ca_apis/createBlockNumber",
            json={
                "userName": b.username,
                "name": "Night shift",
                "description": "B at night",
                "blockNumbers": [B_NIGHT_NUMBER],
            },
            headers={"apiKey": b.key},
        )
    )
    temporary = (await new_group(client, b, "Temporary"))["id"]
    await add_numbers(client, b, temporary, [B_TEMPORARY_NUMBER])
    ok(
        await client.patch(
            f"/v1/groups/{temporary}", json={"name": "Temporary old"}, headers=bearer(b)
        )
    )
    ok(await client.delete(f"/v1/groups/{temporary}", headers=bearer(b)))
    ok(
        await client.patch(
            f"/v1/groups/{blocked}",
            json={"description": "B's main list, reviewed", "direction": "both"},
            headers=bearer(b),
        )
    )

    # A third account's group and history, erased: ids between A's that exist nowhere.
    c = Credentials("gone", service.create_account("gone").key)
    gap = (await new_group(client, c, "Gone"))["id"]
    await add_numbers(client, c, gap, [B_NUMBERS[0]])
    ok(await client.delete(f"/v1/groups/{gap}", headers=bearer(c)))
    gap_events = erase_history(store, c.username)

    a_last = (await new_group(client, a, "Mine last"))["id"]
    clock.advance(hours=2)  # B's B_EXPIRING entry is now expired
    world = World(
        a=a,
        b=b,
        a_start=a_start,
        b_start=b_start,
        a_groups=(a_first, a_last),
        a_events=await event_ids(client, a),
        b_groups={
            "Blocked callers": blocked,
            "Vendors": vendors["output"]["lastInsertId"],
            "Night shift": night["output"]["lastInsertId"],
        },
        b_deleted_group=("Temporary old", temporary),
        b_events=await event_ids(client, b),
        gap_group=gap,
        gap_events=gap_events,
    )
    # The layout the cursor probes rely on: every other id lies strictly between A's.
    others = [*world.foreign_group_ids.values(), gap]
    assert a_first < min(others) <= max(others) < a_last
    assert len(world.b_events) >= 8
    assert len(gap_events) >= 3
    others_events = [*world.b_events, *gap_events]
    assert world.a_events[1] < min(others_events) <= max(others_events) < world.a_events[-1]
    return world


# --- B's state, stored and seen -----------------------------------------------------------------


def stored_rows_of(store: Store, username: str) -> dict[str, list[Any]]:
    """Every row that belongs to the account, in a fixed order."""
    with store.read() as conn:
        account_id = conn.execute(
            select(accounts.c.id).where(accounts.c.username == username)
        ).scalar_one()
        group_ids = select(groups.c.id).where(groups.c.account_id == account_id)
        event_ids = select(audit_events.c.id).where(audit_events.c.account_id == account_id)
        return {
            "account": list(conn.execute(select(accounts).where(accounts.c.id == account_id))),
            "api_keys": list(
                conn.execute(
                    select(api_keys).where(api_keys.c.account_id == account_id).order_by("id")
                )
            ),
            "tokens": list(
                conn.execute(select(tokens).where(tokens.c.account_id == account_id).order_by("id"))
            ),
            "groups": list(
                conn.execute(select(groups).where(groups.c.account_id == account_id).order_by("id"))
            ),
            "entries": list(
                conn.execute(
                    select(entries)
                    .where(entries.c.group_id.in_(group_ids))
                    .order_by(entries.c.group_id, entries.c.number)
                )
            ),
            "audit_events": list(
                conn.execute(
                    select(audit_events)
                    .where(audit_events.c.account_id == account_id)
                    .order_by("id")
                )
            ),
            "audit_numbers": list(
                conn.execute(
                    select(audit_numbers)
                    .where(audit_numbers.c.event_id.in_(event_ids))
                    .order_by(audit_numbers.c.event_id, audit_numbers.c.number)
                )
            ),
        }


def entries_without_a_group(store: Store) -> list[Any]:
    """Entries written under a group id that has no group (a deleted group's, or one that never was)."""
    with store.read() as conn:
        return list(
            conn.execute(select(entries).where(entries.c.group_id.not_in(select(groups.c.id))))
        )


async def seen_by(
    client: httpx.AsyncClient, who: Credentials, group_ids: Iterable[int]
) -> dict[str, bytes]:
    """What the account sees of its own data through the API, as raw bytes."""
    seen = {
        "groups": (await client.get("/v1/groups", headers=bearer(who))).content,
        "audit": (
            await client.get("/v1/audit", params={"limit": 1000}, headers=bearer(who))
        ).content,
        "checks": (
            await client.post("/v1/check", json={"numbers": ALL_B_NUMBERS}, headers=bearer(who))
        ).content,
        # The token of the account's version now: any write of it would move it.
        "changes": (await client.get("/v1/changes", headers=bearer(who))).content,
    }
    for gid in group_ids:
        group = await client.get(f"/v1/groups/{gid}", headers=bearer(who))
        listing = await client.get(
            f"/v1/groups/{gid}/numbers", params={"limit": 1000}, headers=bearer(who)
        )
        export = await client.get(f"/v1/groups/{gid}/numbers.csv", headers=bearer(who))
        seen[f"group {gid}"] = group.content
        seen[f"numbers {gid}"] = listing.content
        seen[f"export {gid}"] = export.content
    return seen


async def state_of_b(client: httpx.AsyncClient, store: Store, world: World) -> dict[str, Any]:
    return {
        "stored": stored_rows_of(store, world.b.username),
        "seen": await seen_by(client, world.b, world.foreign_group_ids.values()),
        "orphan entries": entries_without_a_group(store),
    }


def assert_b_has_data_to_lose(state: dict[str, Any], world: World) -> None:
    """The state compared after the probes is B's real data, not an empty shell."""
    stored = state["stored"]
    assert len(stored["groups"]) == 3
    assert len(stored["entries"]) == 3 + 1 + 2 + 1  # numbers and prefix, expired, vendors, night
    assert any(row.expires_at is not None for row in stored["entries"])
    assert len(stored["audit_events"]) == len(world.b_events)
    assert stored["audit_numbers"]
    checks = json.loads(state["seen"]["checks"])["results"]
    assert [r["blocked"] for r in checks] == [True, True, True, False, True, True, True, False]
    assert state["orphan entries"] == []


# --- /v1: every id-bearing parameter of the OpenAPI document ------------------------------------


@dataclass(frozen=True)
class Probe:
    """One request shape of an operation; the id goes where the enumerated parameter is."""

    label: str
    json: Any = None
    content: bytes | None = None
    params: Mapping[str, str] = field(default_factory=dict)
    own_status: int = 200  # the answer on the caller's own group (the positive control)


# A placeholder in a probe's query for the token of A's feed before A wrote anything.
A_START = "<A's first change feed token>"
CSV_OF_B_NUMBERS = b"number,expires\n9876543210,\n9123456780,2031-01-01T00:00:00Z\n"
CSV_WITH_AN_INVALID_LINE = b"number\n9876543210\nnot a number\n"

# Request shapes per operation; insertion order is the positive control's order (the
# group is deleted last). Numbers and names are B's, so a leak would touch B's data.
V1_PROBES: dict[str, list[Probe]] = {
    "getGroup": [Probe("plain")],
    "listNumbers": [
        Probe("plain"),
        Probe("status and text filter", params={"status": "expired", "q": "99887"}),
        Probe("one per page", params={"limit": "1"}),
    ],
    "exportNumbers": [Probe("plain")],
    "getStats": [Probe("plain"), Probe("by the day", params={"bucket": "day"})],
    "listStaleEntries": [
        Probe("plain"),
        Probe("a day, one per page", params={"days": "1", "limit": "1"}),
        Probe("as CSV", params={"format": "csv"}),
    ],
    "listAuditEvents": [
        Probe("plain"),
        Probe("and a number of B's", params={"number": B_NUMBERS[0]}),
        Probe("and since", params={"since": "2020-01-01T00:00:00Z", "limit": "1"}),
    ],
    "addNumbers": [
        Probe("B's numbers", json={"numbers": B_NUMBERS}),
        Probe(
            "B's prefix with expiry and note",
            json={"numbers": [B_PREFIX], "expires_at": "2031-01-01T00:00:00Z", "note": "A's"},
        ),
        Probe("all or nothing", json={"numbers": B_NUMBERS, "all_or_nothing": True}),
        Probe("some invalid", json={"numbers": [B_VENDOR_NUMBERS[0], "not a number"]}),
        Probe("only invalid inputs", json={"numbers": ["not a number"]}),
    ],
    "importNumbers": [
        Probe("csv", content=CSV_OF_B_NUMBERS),
        Probe(
            "csv with named columns",
            content=CSV_OF_B_NUMBERS,
            params={"column": "number", "expiry_column": "expires"},
        ),
        Probe("invalid lines, refused", content=CSV_WITH_AN_INVALID_LINE, own_status=422),
        Probe(
            "invalid lines, skipped",
            content=CSV_WITH_AN_INVALID_LINE,
            params={"skip_invalid": "true"},
        ),
    ],
    "removeNumbers": [
        Probe("B's numbers and prefix", json={"numbers": [*B_NUMBERS, B_PREFIX]}),
        Probe("only invalid inputs", json={"numbers": ["not a number"]}),
        Probe("the expired entries (B's group has one)", params={"status": "expired"}),
    ],
    "updateGroup": [
        Probe("rename", json={"name": "Taken over"}),
        Probe("rename to another of B's names", json={"name": "Night shift"}),
        Probe("describe", json={"description": "changed by A"}),
        Probe("redirect", json={"direction": "inbound"}),
        Probe("all at once", json={"name": "All", "description": "d", "direction": "outbound"}),
        Probe("nothing to change", json={}),
    ],
    "listChanges": [
        Probe("without a token"),
        Probe("since A's first token", params={"since": A_START}),
        Probe("one change an answer", params={"since": A_START, "limit": "1"}),
    ],
    "deleteGroup": [Probe("plain", own_status=204)],
}


# What an id of nothing answers: proof that the probe reached the group lookup (a probe
# refused earlier, say for its body, would compare equal whatever the id).
def no_changes(body: Any) -> bool:
    """A feed answer with no changes (its `next`, the token of A's version, is A's own)."""
    return isinstance(body, dict) and body.get("changes") == [] and body.get("reset") is False


V1_ANSWER_FOR_NOTHING: dict[str, tuple[int, Any]] = {
    "listAuditEvents": (200, EMPTY_PAGE),
    "listChanges": (200, no_changes),
}


@dataclass(frozen=True)
class IdParameter:
    operation_id: str
    method: str
    path: str
    name: str
    location: str  # path or query

    def request(
        self, probe: Probe, value: int, who: Credentials, a_start: str = ""
    ) -> dict[str, Any]:
        url = self.path
        params = {k: a_start if v == A_START else v for k, v in probe.params.items()}
        if self.location == "path":
            url = url.replace("{" + self.name + "}", str(value))
        else:
            params[self.name] = str(value)
        request: dict[str, Any] = {"url": url, "params": params, "headers": bearer(who)}
        if probe.json is not None:
            request["json"] = probe.json
        if probe.content is not None:
            request["content"] = probe.content
            request["headers"] = {**request["headers"], "Content-Type": "text/csv"}
        return request

    def __str__(self) -> str:
        return f"{self.method} {self.path} ({self.operation_id}) {self.location} {self.name}"


def names_an_id(name: str) -> bool:
    return name.lower() == "id" or name.endswith("_id")


def v1_id_parameters(app: FastAPI) -> list[IdParameter]:
    """Every id-bearing parameter of every /v1 operation, from the OpenAPI document."""
    found = []
    for path, operations in app.openapi()["paths"].items():
        if not path.startswith("/v1/"):
            continue
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                if names_an_id(parameter["name"]):
                    found.append(
                        IdParameter(
                            operation["operationId"],
                            method.upper(),
                            path,
                            parameter["name"],
                            parameter["in"],
                        )
                    )
    return found


def v1_body_fields_naming_ids(app: FastAPI) -> set[str]:
    """Id-like fields of any /v1 request body (none today: ids travel in paths and queries)."""
    document = app.openapi()
    schemas = document["components"]["schemas"]
    found = set()
    for path, operations in document["paths"].items():
        for operation in operations.values():
            for content in operation.get("requestBody", {}).get("content", {}).values():
                reference = content.get("schema", {}).get("$ref")
                if path.startswith("/v1/") and reference:
                    schema = schemas[reference.rsplit("/", 1)[1]]
                    found |= {
                        f"{operation['operationId']}.{name}"
                        for name in schema.get("properties", {})
                        if names_an_id(name)
                    }
    return found


# Operations whose path names a campaign: a second id space, probed with B's campaign ids by
# tests/test_campaigns.py::test_another_accounts_campaigns_answer_like_campaigns_of_nothing
# (detachGroup's group id included: it is looked up among the caller's campaign's groups).
CAMPAIGN_OPERATIONS = {
    "getCampaign",
    "updateCampaign",
    "deleteCampaign",
    "attachGroups",
    "detachGroup",
}


# Operations whose path names an API key: a third id space, probed with B's key ids by
# tests/test_scopes.py::test_keys_of_another_account_answer_like_keys_of_nothing.
KEY_OPERATIONS = {"revokeKey"}


def v1_group_id_parameters(app: FastAPI) -> list[IdParameter]:
    return [
        p
        for p in v1_id_parameters(app)
        if p.operation_id not in CAMPAIGN_OPERATIONS | KEY_OPERATIONS
    ]


def assert_enumeration_is_covered(app: FastAPI, parameters: list[IdParameter]) -> None:
    campaign_operations = {p.operation_id for p in v1_id_parameters(app) if p.name == "campaign_id"}
    assert campaign_operations == CAMPAIGN_OPERATIONS
    key_operations = {p.operation_id for p in v1_id_parameters(app) if p.name == "key_id"}
    assert key_operations == KEY_OPERATIONS
    operations = {p.operation_id for p in parameters}
    assert len(parameters) >= 9, f"only {len(parameters)} id parameters found: {parameters}"
    assert operations == set(V1_PROBES), (
        "id-bearing /v1 operations and the probes differ: add probes for "
        f"{sorted(operations - set(V1_PROBES))}, drop {sorted(set(V1_PROBES) - operations)}"
    )
    assert v1_body_fields_naming_ids(app) == set(), "a /v1 body carries an id: probe it here"


async def test_v1_answers_another_accounts_ids_like_ids_of_nothing_and_changes_nothing(
    app: FastAPI, client: httpx.AsyncClient, store: Store, world: World
) -> None:
    """Every id parameter of every /v1 operation, each request shape: B's group ids answer
    like ids of nothing, nothing at all is written, and B's data and view are unchanged.
    Then the same request shapes are sent with A's own group and must do their work (the
    positive control: equal answers are not two refusals of a malformed request)."""
    parameters = v1_group_id_parameters(app)
    assert_enumeration_is_covered(app, parameters)
    b_before = await state_of_b(client, store, world)
    assert_b_has_data_to_lose(b_before, world)
    everything_before = snapshot(store)

    comparisons = []
    unreached = []
    ids = {**world.nowhere_group_ids, **world.foreign_group_ids}
    reference = next(iter(world.nowhere_group_ids))
    for parameter in parameters:
        for position, probe in enumerate(V1_PROBES[parameter.operation_id]):
            values = (
                ids
                if position == 0
                else one_of_each(world.nowhere_group_ids, world.foreign_group_ids)
            )
            answers = {
                label: await answer(
                    client,
                    parameter.method,
                    **parameter.request(probe, value, world.a, world.a_start),
                )
                for label, value in values.items()
            }
            comparisons.append(Comparison(f"{parameter} {probe.label}", answers, reference))
            status, body = V1_ANSWER_FOR_NOTHING.get(
                parameter.operation_id, (404, NOT_FOUND_PROBLEM)
            )
            nothing = answers[reference]
            reached = body(nothing.json()) if callable(body) else nothing.json() == body
            if nothing.status != status or not reached:
                unreached.append(f"{parameter} {probe.label}: {nothing}")

    assert len(comparisons) >= 25
    assert unreached == [], "probes that did not reach the group lookup"
    assert not any(c.differences() for c in comparisons), report(comparisons)
    assert snapshot(store) == everything_before, "a refused request wrote something"
    assert await state_of_b(client, store, world) == b_before

    failed_on_own_group = []
    for operation_id, probes in V1_PROBES.items():  # in order: the group is deleted last
        for parameter in (p for p in parameters if p.operation_id == operation_id):
            for probe in probes:
                request = parameter.request(probe, world.a_groups[0], world.a, world.a_start)
                got = await answer(client, parameter.method, **request)
                if got.status != probe.own_status:
                    failed_on_own_group.append(f"{parameter} {probe.label}: {got}")
    assert failed_on_own_group == []
    assert stored_rows_of(store, world.b.username) == b_before["stored"]


# --- cursors: ids of rows, positioned ------------------------------------------------------------

# Every /v1 listing with a cursor, and what the position inside its cursor is.
CURSOR_POSITIONS = {
    "listGroups": "a group id",
    "listAuditEvents": "an audit event id",
    "listNumbers": None,  # an entry key inside the caller's own group: no one else's row
    "listStaleEntries": None,  # the same
}


async def cursor_at(client: httpx.AsyncClient, path: str, headers: dict[str, str], at: int) -> str:
    """A cursor of the listing at ``path`` (no filters), moved to row id ``at``: the listing's
    own first ``next_cursor``, its position replaced. A cursor is base64 of "listing:position"
    (docs/api.md calls it opaque; a forged one is what this probe needs)."""
    first = await client.get(path, params={"limit": 1}, headers=headers)
    issued = first.json()["next_cursor"]
    assert issued, f"{path} has a single page: no cursor to move"
    text = base64.urlsafe_b64decode(issued + "=" * (-len(issued) % 4)).decode()
    listing, _, _position = text.rpartition(":")
    return base64.urlsafe_b64encode(f"{listing}:{at}".encode()).decode().rstrip("=")


async def test_cursors_at_another_accounts_ids_page_like_cursors_at_ids_of_nothing(
    app: FastAPI, client: httpx.AsyncClient, store: Store, world: World
) -> None:
    """A cursor names a row id; one naming B's group or B's audit event must page A's
    listing exactly as one naming an id between the same of A's rows that exists nowhere."""
    with_cursor = {
        operation["operationId"]
        for path, operations in app.openapi()["paths"].items()
        for operation in operations.values()
        if path.startswith("/v1/")
        and any(p["name"] == "cursor" for p in operation.get("parameters", []))
    }
    assert with_cursor == set(CURSOR_POSITIONS)
    b_before = await state_of_b(client, store, world)
    a = bearer(world.a)

    async def groups_after(after: int) -> Answer:
        cursor = await cursor_at(client, "/v1/groups", a, after)
        return await answer(client, "GET", "/v1/groups", params={"cursor": cursor}, headers=a)

    async def audit_before(before: int) -> Answer:
        cursor = await cursor_at(client, "/v1/audit", a, before)
        return await answer(client, "GET", "/v1/audit", params={"cursor": cursor}, headers=a)

    reference_group = f"the erased group's id ({world.gap_group})"
    group_answers = {reference_group: await groups_after(world.gap_group)}
    for label, gid in world.foreign_group_ids.items():
        group_answers[label] = await groups_after(gid)
    reference_event = f"an erased event's id ({world.gap_events[0]})"
    event_answers = {
        f"an erased event's id ({eid})": await audit_before(eid) for eid in world.gap_events
    }
    for eid in world.b_events:
        event_answers[f"B's event {eid}"] = await audit_before(eid)
    comparisons = [
        Comparison("GET /v1/groups?cursor=", group_answers, reference_group),
        Comparison("GET /v1/audit?cursor=", event_answers, reference_event),
    ]

    # Positive control: the cursors were read and positioned (not refused as invalid).
    groups_page = group_answers[reference_group].json()
    assert [g["id"] for g in groups_page["data"]] == [world.a_groups[1]]
    events_page = event_answers[reference_event].json()
    assert [e["id"] for e in events_page["data"]] == [
        e for e in reversed(world.a_events) if e < world.gap_events[0]
    ]
    assert not any(c.differences() for c in comparisons), report(comparisons)
    assert await state_of_b(client, store, world) == b_before


# --- the change feed: tokens belong to their account ---------------------------------------------


async def every_change(client: httpx.AsyncClient, who: Credentials, since: str) -> list[Any]:
    changes: list[Any] = []
    while True:
        body = ok(await client.get("/v1/changes", params={"since": since}, headers=bearer(who)))
        assert body["reset"] is False
        changes += body["changes"]
        since = body["next"]
        if not body["more"]:
            return changes


async def test_change_feed_tokens_of_another_account_are_refused_like_forged_ones(
    client: httpx.AsyncClient, store: Store, world: World
) -> None:
    """Every token B was given (its first, each change's, its latest) presented by A is
    refused exactly as a token nobody made; A's own feed holds A's changes and nothing of B's
    (its versions are A's own, gap-free); nothing is written, and B's view is unchanged."""
    b_before = await state_of_b(client, store, world)
    b_changes = await every_change(client, world.b, world.b_start)
    assert len(b_changes) == len(world.b_events)  # B's tokens: one per change, at least
    b_latest = ok(await client.get("/v1/changes", headers=bearer(world.b)))["next"]
    b_tokens = {
        "B's first token": world.b_start,
        "B's latest token": b_latest,
        **{f"B's token after its change {c['version']}": c["token"] for c in b_changes},
    }
    forged = base64.urlsafe_b64encode(bytes(33)).decode().rstrip("=")  # a token's shape
    reference = "a token nobody made"
    answers = {
        reference: await answer(
            client, "GET", "/v1/changes", params={"since": forged}, headers=bearer(world.a)
        )
    }
    for label, token in b_tokens.items():
        answers[label] = await answer(
            client, "GET", "/v1/changes", params={"since": token}, headers=bearer(world.a)
        )
    assert answers[reference].status == 400
    assert answers[reference].json()["type"] == "urn:callblock:problem:invalid-change-token"
    comparison = Comparison("GET /v1/changes?since=", answers, reference)
    assert not comparison.differences(), report([comparison])

    a_changes = await every_change(client, world.a, world.a_start)
    assert [c["version"] for c in a_changes] == list(range(1, len(world.a_events) + 1))
    assert {c["group_id"] for c in a_changes} == set(world.a_groups)
    b_patterns = {normalise(n, "IN") for n in ALL_B_NUMBERS} | {"+91140*"}
    seen = {e["number"] for c in a_changes for e in c["upserted"]} | {
        p for c in a_changes for p in c["removed"]
    }
    assert seen == {normalise(A_NUMBER, "IN")}
    assert not seen & b_patterns
    assert await state_of_b(client, store, world) == b_before


# --- compat: every endpoint whose body or query names a group ------------------------------------

# Served (path, method) pairs that name a group, and the fields they name it by (the
# contract's: V2 by `Id`/`id`; ca_apis by `groupName`, or `id`/`Id`).
COMPAT_GROUP_FIELDS: dict[tuple[str, str], tuple[str, ...]] = {
    (V2, "PUT"): ("Id", "id"),
    (V2, "DELETE"): ("id", "Id"),
    ("/ca_apis/updateBlockNumbers", "PUT"): ("groupName", "id", "Id"),
    ("/ca_apis/updateBlockNumber", "PUT"): ("groupName", "id", "Id"),
    ("/ca_apis/deleteBlockNumber", "DELETE"): ("groupName", "id", "Id"),
    ("/ca_apis/deleteBlockNumberGroup", "DELETE"): ("groupName", "id", "Id"),
}
# Served pairs that name no group, and where their isolation is shown instead.
COMPAT_WITHOUT_GROUP = {
    (V2, "POST"): "creates a group: test_another_accounts_group_names_are_free_for_the_caller",
    ("/ca_apis/createBlockNumber", "POST"): "creates a group: the same test",
    (ca_apis.TOKEN_PATH, "POST"): "a token for the caller: test_another_accounts_username_*",
}
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def compat_paths(app: FastAPI) -> set[str]:
    return {
        route.path
        for route in app.routes
        if isinstance(route, Route)
        and route.path.startswith(wire.PATH_PREFIXES)
        and "{" not in route.path
    }


def compat_headers(path: str, who: Credentials) -> dict[str, str]:
    return who.basic if path == V2 else {"apiKey": who.key}


def compat_base(path: str, who: Credentials) -> dict[str, Any]:
    return {} if path == V2 else {"userName": who.username}


async def served_compat_operations(
    client: httpx.AsyncClient, app: FastAPI, who: Credentials
) -> set[tuple[str, str]]:
    """Each compat path's methods, as the app answers them (405 for any other)."""
    served = set()
    for path in sorted(compat_paths(app)):
        for method in METHODS:
            response = await client.request(
                method, path, json=compat_base(path, who), headers=compat_headers(path, who)
            )
            if response.status_code != 405:
                served.add((path, method))
    return served


@dataclass(frozen=True)
class CompatProbe:
    path: str
    method: str
    field: str
    encoding: str  # json, json-text (the id as a string), form, query
    expiry: bool = False

    def request(self, value: int | str, who: Credentials) -> dict[str, Any]:
        base = {**compat_base(self.path, who), "blockNumbers": B_NUMBERS}
        if self.expiry:
            base["expiryDate"] = "2031-01-01 00:00:00"
        request: dict[str, Any] = {"url": self.path, "headers": compat_headers(self.path, who)}
        if self.encoding == "json":
            request["json"] = {**base, self.field: value}
        elif self.encoding == "json-text":
            request["json"] = {**base, self.field: str(value)}
        elif self.encoding == "form":
            form = {k: ",".join(v) if isinstance(v, list) else v for k, v in base.items()}
            request["data"] = {**form, self.field: str(value)}
        else:
            request["json"] = base
            request["params"] = {self.field: str(value)}
        return request

    @property
    def every_value(self) -> bool:
        """Sent with every id (or name) of B and of nothing; the other encodings and the
        expiry variant, with one of each."""
        return self.encoding == "json" and not self.expiry

    def __str__(self) -> str:
        extra = " with expiryDate" if self.expiry else ""
        return f"{self.method} {self.path} {self.field} ({self.encoding}{extra})"


def compat_probes() -> list[CompatProbe]:
    probes = []
    for (path, method), fields in COMPAT_GROUP_FIELDS.items():
        for name in fields:
            encodings = ["json", "form"] + (["json-text"] if name != "groupName" else [])
            if method == "DELETE":
                encodings.append("query")
            probes += [CompatProbe(path, method, name, encoding) for encoding in encodings]
            if method == "PUT":
                probes.append(CompatProbe(path, method, name, "json", expiry=True))
    return probes


async def test_compat_answers_another_accounts_groups_like_groups_of_nothing_and_changes_nothing(
    app: FastAPI, client: httpx.AsyncClient, store: Store, world: World
) -> None:
    """Every served compat operation is probed or named as group-less. Each probe, with B's
    group ids and names, answers like ids and names of nothing, writes nothing, and leaves
    B's data and view unchanged. Then each probe shape succeeds on A's own group (the
    positive control)."""
    served = await served_compat_operations(client, app, world.a)
    assert len(served) >= 9
    assert served == set(COMPAT_GROUP_FIELDS) | set(COMPAT_WITHOUT_GROUP)
    b_before = await state_of_b(client, store, world)
    everything_before = snapshot(store)
    ids = {**world.nowhere_group_ids, **world.foreign_group_ids}
    names = {**world.nowhere_group_names, **world.foreign_group_names}
    comparisons = []
    unreached = []
    for probe in compat_probes():
        by_name = probe.field == "groupName"
        values: dict[str, Any] = names if by_name else ids
        if not probe.every_value:
            values = (
                one_of_each(world.nowhere_group_names, world.foreign_group_names)
                if by_name
                else one_of_each(world.nowhere_group_ids, world.foreign_group_ids)
            )
        answers = {
            label: await answer(client, probe.method, **probe.request(value, world.a))
            for label, value in values.items()
        }
        reference = next(iter(values))
        comparisons.append(Comparison(str(probe), answers, reference))
        nothing = answers[reference]
        if (nothing.status, nothing.json()) != (404, COMPAT_INVALID_GROUP):
            unreached.append(f"{probe}: {nothing}")

    assert len(comparisons) >= 50
    assert unreached == [], "probes that did not reach the group lookup"
    assert not any(c.differences() for c in comparisons), report(comparisons)
    assert snapshot(store) == everything_before, "a refused request wrote something"
    assert await state_of_b(client, store, world) == b_before

    own = {"groupName": "Mine first", "id": world.a_groups[0], "Id": world.a_groups[0]}
    failed_on_own_group = []
    for probe in [probe for probe in compat_probes() if probe.every_value]:
        got = await answer(client, probe.method, **probe.request(own[probe.field], world.a))
        if got.status != 200 or got.json()["status"] != "success":
            failed_on_own_group.append(f"{probe}: {got}")
    assert failed_on_own_group == []
    assert stored_rows_of(store, world.b.username) == b_before["stored"]


# --- names and numbers: B's are free for A to use, and invisible to it ---------------------------


def without(body: dict[str, Any], *paths: str) -> dict[str, Any]:
    """The body without the dotted keys (values that differ legitimately between two
    creations: the new id and the name as sent)."""
    copy = json.loads(json.dumps(body))
    for path in paths:
        *parents, last = path.split(".")
        node = copy
        for key in parents:
            node = node[key]
        del node[last]
    return copy


async def test_another_accounts_group_names_are_free_for_the_caller(
    client: httpx.AsyncClient, store: Store, world: World
) -> None:
    """Creating or renaming to B's group name answers exactly like an unused name (a 409
    would tell A that the name exists somewhere)."""
    a = world.a
    b_before = await state_of_b(client, store, world)

    async def v1_create(name: str) -> tuple[int, Any]:
        got = await answer(client, "POST", "/v1/groups", json={"name": name}, headers=bearer(a))
        return got.status, got.json()

    async def compat_create(path: str, name: str) -> tuple[int, Any]:
        body = {
            **compat_base(path, a),
            "name": name,
            "description": "A's",
            "blockNumbers": B_NUMBERS,
        }
        got = await answer(client, "POST", path, json=body, headers=compat_headers(path, a))
        return got.status, got.json()

    creations = {
        "POST /v1/groups": (v1_create, ("id", "name")),
        f"POST {V2}": (
            lambda name: compat_create(V2, name),
            ("input.name", "output.lastInsertId"),
        ),
        "POST /ca_apis/createBlockNumber": (
            lambda name: compat_create("/ca_apis/createBlockNumber", name),
            ("input.name", "output.lastInsertId"),
        ),
    }
    # B's live names, and one in other capitals (names are unique ignoring case).
    creatable = {f"B's group name {name!r}": name for name in world.b_groups}
    creatable["B's group name in capitals"] = next(iter(world.b_groups)).upper()
    mismatches = []
    for request, (create, differing) in creations.items():
        results = {}
        for label, name in {"an unused name": "Fresh list", **creatable}.items():
            status, body = await create(name)
            if status in (200, 201):
                new_id = body["id"] if "id" in body else body["output"]["lastInsertId"]
                ok(await client.delete(f"/v1/groups/{new_id}", headers=bearer(a)))
                body = without(body, *differing)
            results[label] = (status, body)
        reference = results["an unused name"]
        assert reference[0] in (200, 201), (request, reference)
        mismatches += [
            f"{request} with {label}: {got}; with an unused name: {reference}"
            for label, got in results.items()
            if got != reference
        ]
    assert mismatches == []

    for label, name in world.foreign_group_names.items():
        renamed = await client.patch(
            f"/v1/groups/{world.a_groups[0]}", json={"name": name}, headers=bearer(a)
        )
        assert renamed.status_code == 200, (label, renamed.text)
        assert renamed.json()["name"] == name.strip()
    assert await state_of_b(client, store, world) == b_before


async def test_another_accounts_numbers_are_invisible_to_the_caller(
    client: httpx.AsyncClient, store: Store, world: World
) -> None:
    """Checks, batch checks, scrubs, history, listings and removal from every group see
    none of B's numbers, prefixes or names: B's answer exactly like numbers of nobody."""
    a = bearer(world.a)
    b_before = await state_of_b(client, store, world)

    # Single checks, every direction: B's numbers are as unknown as numbers of nobody.
    for number in [*ALL_B_NUMBERS, *NOWHERE_NUMBERS]:
        for direction in (None, "inbound", "outbound"):
            params = {"direction": direction} if direction else {}
            got = await client.get(f"/v1/check/{number}", params=params, headers=a)
            assert got.status_code == 200
            expected = {"number": normalise(number, "IN"), "blocked": False, "matches": []}
            assert got.json() == expected, (number, direction)
    own = await client.get(f"/v1/check/{A_NUMBER}", headers=a)
    assert own.json()["blocked"], "positive control: A's own number is blocked for A"

    # Batch check and scrub: each of B's numbers answers like a number of nobody.
    batch = await client.post(
        "/v1/check", json={"numbers": [*ALL_B_NUMBERS, NOWHERE_NUMBERS[0], A_NUMBER]}, headers=a
    )
    results = batch.json()["results"]
    nobody = {k: v for k, v in results[-2].items() if k not in ("input", "number")}
    for result in results[:-2]:
        assert {k: v for k, v in result.items() if k not in ("input", "number")} == nobody
    assert results[-1]["group_ids"] == [world.a_groups[0]]
    listed = "number\n" + "\n".join([*ALL_B_NUMBERS, NOWHERE_NUMBERS[0], A_NUMBER]) + "\n"
    scrub = await client.post(
        "/v1/scrub", content=listed.encode(), headers={**a, "Content-Type": "text/csv"}
    )
    assert scrub.status_code == 200, scrub.text
    rows = list(csv.reader(io.StringIO(scrub.text)))[1:]
    assert {tuple(row[1:]) for row in rows[:-1]} == {("callable", "", "", "")}
    assert rows[-1][1] == "blocked"

    # History by number, listings by name or text: identical to the same for nobody's.
    comparisons = []
    for url, param, foreign, nowhere in [
        ("/v1/audit", "number", [*ALL_B_NUMBERS, B_PREFIX], NOWHERE_NUMBERS),
        ("/v1/groups", "name", list(world.foreign_group_names.values()), ["Nobody"]),
        (f"/v1/groups/{world.a_groups[0]}/numbers", "q", ["98765", "140", "9000"], ["55555"]),
    ]:
        values = {f"{param}={v!r} (nobody's)": v for v in nowhere}
        values |= {f"{param}={v!r} (B's)": v for v in foreign}
        answers = {
            label: await answer(client, "GET", url, params={param: value}, headers=a)
            for label, value in values.items()
        }
        comparisons.append(Comparison(f"GET {url}?{param}=", answers, next(iter(values))))
        assert answers[next(iter(values))].json() == EMPTY_PAGE
    assert not any(c.differences() for c in comparisons), report(comparisons)

    # Removal from every group of the account (no group named) finds none of B's numbers.
    for path in ("/ca_apis/deleteBlockNumber", "/ca_apis/deleteBlockNumberGroup"):
        for numbers in (ALL_B_NUMBERS, NOWHERE_NUMBERS):
            got = await client.request(
                "DELETE",
                path,
                json={"userName": world.a.username, "blockNumbers": numbers},
                headers={"apiKey": world.a.key},
            )
            assert got.status_code == 200
            assert got.json() == {
                "status": "success",
                "message": "deleted",
                "input": {"id": None, "blockNumbers": numbers},
                "output": {"success": [], "error": numbers, "deleted": 0},
            }
    assert await state_of_b(client, store, world) == b_before


def sent_as(user: str, key: str) -> dict[str, dict[str, Any]]:
    """Requests naming the account by ``user`` and authenticated with ``key``, by surface."""
    numbers = {"Id": 1, "blockNumbers": B_NUMBERS}
    return {
        "GET /v1/groups (Basic)": {
            "method": "GET",
            "url": "/v1/groups",
            "headers": Credentials(user, key).basic,
        },
        f"PUT {V2} (Basic)": {
            "method": "PUT",
            "url": V2,
            "json": numbers,
            "headers": Credentials(user, key).basic,
        },
        "PUT /ca_apis/updateBlockNumbers (userName)": {
            "method": "PUT",
            "url": "/ca_apis/updateBlockNumbers",
            "json": {"userName": user, **numbers},
            "headers": {"apiKey": key},
        },
        f"POST {ca_apis.TOKEN_PATH} (userName)": {
            "method": "POST",
            "url": ca_apis.TOKEN_PATH,
            "json": {"userName": user},
            "headers": {"apiKey": key},
        },
    }


async def test_another_accounts_username_with_the_callers_key_fails_like_an_unknown_username(
    client: httpx.AsyncClient,
    store: Store,
    main_account: Credentials,
    other_account: Credentials,
) -> None:
    """The account name is an id too: A's key under B's username is refused exactly like
    A's key under a username nobody has, on every surface that takes a username."""
    b_before = stored_rows_of(store, other_account.username)
    users = {"a username nobody has": "nobody", "B's username": other_account.username}
    answers: dict[str, dict[str, Answer]] = {}
    for label, user in users.items():
        for request, sent in sent_as(user, main_account.key).items():
            got = await answer(client, sent.pop("method"), **sent)
            answers.setdefault(request, {})[label] = got
    comparisons = [
        Comparison(request, by_user, "a username nobody has")
        for request, by_user in answers.items()
    ]
    assert len(comparisons) == 4
    assert {c.answers["a username nobody has"].status for c in comparisons} == {401}
    assert not any(c.differences() for c in comparisons), report(comparisons)
    assert stored_rows_of(store, other_account.username) == b_before
