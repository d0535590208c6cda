"""A model of groups and numbers, and a Hypothesis state machine that drives random sequences
of operations over `/v1` and both compat surfaces, holding each answer to the model.

The model is a dict of groups (name, direction, entries with their expiry). Rules create,
rename, redirect and delete groups, add numbers (valid and invalid, several spellings of one
number, with and without expiry) and remove them, through whichever surface; they check
numbers one at a time and in batches, list a group's entries, and let the fake clock run so
that expiries pass. After every step the account's groups, with their active and expired
counts, must be the model's.

``CALLBLOCK_STATEFUL_STEPS`` (default 30) is the most steps of one sequence.
"""

from __future__ import annotations

import itertools
import json
import os
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from callblock.http.compat import v2
from callblock.service import Service
from tests.fuzzing.harness import Answer, InProcess, in_process
from tests.fuzzing.raw_requests import BASE_URL, weighted
from tests.helpers import Credentials, FakeClock, bearer

STEPS = int(os.environ.get("CALLBLOCK_STATEFUL_STEPS", "30"))

# Each number with spellings that all normalise to it (account region IN).
NUMBERS: dict[str, tuple[str | int, ...]] = {
    "+919876543210": ("9876543210", "+91 98765 43210", "09876543210", "919876543210", 9876543210),
    "+919812345678": ("9812345678", "+91-98123-45678", "(981) 234-5678"),
    "+919900112233": ("9900112233", "099001 12233"),
    "+14155550123": ("+1 415 555 0123", "0014155550123"),
    "+442071838750": ("+44 20 7183 8750", "0044 20 7183 8750"),
    "+911401234567": ("01401234567", "+91 140 123 4567"),
}
# Prefixes (only `/v1` takes them), with their spellings.
PREFIXES: dict[str, tuple[str, ...]] = {"+91140*": ("140*", "+91140*"), "+4420*": ("+4420*",)}
# Not numbers anywhere (an empty piece is skipped by the compat endpoints: not listed).
INVALID = ("12345", "abc", "+", "98765x43210", "1-800-FLOWERS")
NAMES = ("Spam", "spam", " SPAM ", "Opt outs", "Ünïcödé", unicodedata.normalize("NFD", "Ünïcödé"))
NAMES += ("Group 2", "Ab")
BAD_NAMES = ("a", "-bad", "x" * 51, "")
DIRECTIONS = ("both", "inbound", "outbound")

spellings = st.sampled_from([(e164, s) for e164, forms in NUMBERS.items() for s in forms])
prefix_spellings = st.sampled_from([(p, s) for p, forms in PREFIXES.items() for s in forms])
invalid_spellings = st.sampled_from([(None, s) for s in INVALID])
# What a request carries: (E.164 or None if invalid, as sent).
Item = tuple[str | None, str | int]
valid_items = st.lists(spellings, min_size=1, max_size=6)
any_items = st.lists(weighted((4, spellings), (1, invalid_spellings)), max_size=6)
# Mostly requests that pass, so that the model fills up; some that must write nothing.
number_items = weighted((3, valid_items), (1, any_items))
v1_items = st.lists(
    weighted((6, spellings), (2, prefix_spellings), (1, invalid_spellings)), max_size=6
)
check_items = weighted((4, spellings), (1, invalid_spellings))
group_names = weighted((4, st.sampled_from(NAMES)), (1, st.sampled_from(BAD_NAMES)))
# An index into the known group ids: below LIVE, a live group (when there is one).
LIVE = 40
group_picks = weighted(
    (9, st.integers(min_value=0, max_value=LIVE - 1)),
    (1, st.integers(min_value=LIVE, max_value=LIVE + 9)),
)
# Expiry in minutes from now (None: never); the clock moves by whole minutes too.
expiries = st.one_of(st.none(), st.integers(min_value=1, max_value=10))

usernames = (f"model{i}" for i in itertools.count())


def name_key(name: str) -> str:
    """As group names are compared: trimmed, NFC, case-folded."""
    return unicodedata.normalize("NFC", name.strip()).casefold()


@dataclass
class Group:
    name: str
    direction: str = "both"
    entries: dict[str, datetime | None] = field(default_factory=dict)  # pattern -> expiry


class Client:
    """JSON requests to the in-process app, as one account on every surface."""

    def __init__(self, http: InProcess, credentials: Credentials) -> None:
        self.http = http
        self.credentials = credentials

    def v1(self, method: str, path: str, body: Any = None, **params: Any) -> Answer:
        headers = bearer(self.credentials.key)
        return self._send(method, path, headers, body, params)

    def compat_v2(self, method: str, body: dict[str, Any]) -> Answer:
        return self._send(method, v2.PATH, self.credentials.basic, body, {})

    def ca_apis(self, method: str, path: str, body: dict[str, Any]) -> Answer:
        headers = {"apiKey": self.credentials.key}
        return self._send(
            method, path, headers, {"userName": self.credentials.username, **body}, {}
        )

    def _send(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        body: Any,
        params: dict[str, Any],
    ) -> Answer:
        request = httpx.Request(
            method,
            BASE_URL + path,
            headers=headers,
            params={k: v for k, v in params.items() if v is not None},
            json=body,
        )
        return self.http.send(request)


def json_of(answer: Answer) -> Any:
    return json.loads(answer.content)


class BlockListMachine(RuleBasedStateMachine):
    """One fresh account per example; the model starts empty as the account does."""

    def __init__(self, http: InProcess, service: Service, clock: FakeClock) -> None:
        super().__init__()
        self.clock = clock
        username = next(usernames)
        self.client = Client(http, Credentials(username, service.create_account(username).key))
        self.groups: dict[int, Group] = {}
        self.gone: list[int] = []  # ids of deleted groups: a 404 from now on

    # --- the model's answers -------------------------------------------------------------

    def active(self, expiry: datetime | None) -> bool:
        """An entry blocks until its expiry, to the microsecond, and not after."""
        return expiry is None or self.clock() < expiry

    def pick(self, index: int) -> int:
        """A group id: most often a live one, sometimes a deleted one or one never made."""
        live = sorted(self.groups)
        if live and index < LIVE:
            return live[index % len(live)]
        others = [*self.gone, 999_999]
        return others[index % len(others)]

    def name_taken(self, name: str, but: int | None = None) -> bool:
        return any(name_key(g.name) == name_key(name) for i, g in self.groups.items() if i != but)

    def matches(self, e164: str, direction: str | None) -> set[tuple[int, str]]:
        """(group id, pattern) of every active entry that blocks ``e164`` in ``direction``."""
        found = set()
        for group_id, group in self.groups.items():
            if direction is not None and group.direction not in (direction, "both"):
                continue
            for pattern, expiry in group.entries.items():
                hit = e164.startswith(pattern[:-1]) if pattern.endswith("*") else e164 == pattern
                if hit and self.active(expiry):
                    found.add((group_id, pattern))
        return found

    def expiry_text(self, minutes: int | None) -> tuple[datetime | None, str | None]:
        if minutes is None:
            return None, None
        at = self.clock() + timedelta(minutes=minutes)
        return at, at.isoformat()

    @staticmethod
    def distinct_valid(items: list[Item]) -> list[str]:
        return list(dict.fromkeys(e164 for e164, _ in items if e164 is not None))

    # --- groups --------------------------------------------------------------------------

    @initialize(items=valid_items, direction=st.sampled_from(DIRECTIONS))
    def two_groups_to_start_with(self, items: list[Item], direction: str) -> None:
        self.create_group_on_v1("Start", direction)
        self.create_group_on_compat("Start two", items, "v2")

    @rule(
        name=group_names,
        direction=st.sampled_from(DIRECTIONS),
    )
    def create_group_on_v1(self, name: str, direction: str) -> None:
        answer = self.client.v1("POST", "/v1/groups", {"name": name, "direction": direction})
        if name in BAD_NAMES:
            assert answer.status == 422, answer
        elif self.name_taken(name):
            assert answer.status == 409, answer
        else:
            assert answer.status == 201, answer
            body = json_of(answer)
            assert body["name"] == name.strip()
            assert body["direction"] == direction
            assert body["active_count"] == body["expired_count"] == 0
            self.groups[body["id"]] = Group(name.strip(), direction)

    @rule(
        name=st.sampled_from(NAMES),
        items=number_items,
        surface=st.sampled_from(["v2", "ca_apis"]),
    )
    def create_group_on_compat(self, name: str, items: list[Item], surface: str) -> None:
        body = {"name": name, "description": "Model group", "blockNumbers": [s for _, s in items]}
        if surface == "v2":
            answer = self.client.compat_v2("POST", body)
        else:
            answer = self.client.ca_apis("POST", "/ca_apis/createBlockNumber", body)
        if not items or any(e164 is None for e164, _ in items):
            assert answer.status == 400, answer  # nothing written: all or nothing
        elif self.name_taken(name):
            assert answer.status == 409, answer
        else:
            assert answer.status == 200, answer
            output = json_of(answer)["output"]
            stored = self.distinct_valid(items)
            assert output["succes"] == stored
            self.groups[output["lastInsertId"]] = Group(name.strip(), entries=dict.fromkeys(stored))

    @rule(index=group_picks, name=group_names)
    def rename_group(self, index: int, name: str) -> None:
        group_id = self.pick(index)
        answer = self.client.v1("PATCH", f"/v1/groups/{group_id}", {"name": name})
        if name in BAD_NAMES:
            assert answer.status == 422, answer  # the body is checked before the group
        elif group_id not in self.groups:
            assert answer.status == 404, answer
        elif self.name_taken(name, but=group_id):
            assert answer.status == 409, answer
        else:
            assert answer.status == 200, answer
            assert json_of(answer)["name"] == name.strip()
            self.groups[group_id].name = name.strip()

    @rule(index=group_picks, direction=st.sampled_from(DIRECTIONS))
    def redirect_group(self, index: int, direction: str) -> None:
        group_id = self.pick(index)
        answer = self.client.v1("PATCH", f"/v1/groups/{group_id}", {"direction": direction})
        if group_id not in self.groups:
            assert answer.status == 404, answer
        else:
            assert answer.status == 200, answer
            assert json_of(answer)["direction"] == direction
            self.groups[group_id].direction = direction

    @rule(index=group_picks)
    def delete_group(self, index: int) -> None:
        group_id = self.pick(index)
        answer = self.client.v1("DELETE", f"/v1/groups/{group_id}")
        if group_id not in self.groups:
            assert answer.status == 404, answer
        else:
            assert answer.status == 204, answer
            del self.groups[group_id]
            self.gone.append(group_id)

    # --- numbers -------------------------------------------------------------------------

    @rule(index=group_picks, items=v1_items, minutes=expiries, all_or_nothing=st.booleans())
    def add_numbers_on_v1(
        self, index: int, items: list[Item], minutes: int | None, all_or_nothing: bool
    ) -> None:
        group_id = self.pick(index)
        expiry, expires_at = self.expiry_text(minutes)
        body = {
            "numbers": [s for _, s in items],
            "expires_at": expires_at,
            "all_or_nothing": all_or_nothing,
        }
        answer = self.client.v1("POST", f"/v1/groups/{group_id}/numbers", body)
        invalid = [s for e164, s in items if e164 is None]
        valid = self.distinct_valid(items)
        if not items:
            assert answer.status == 422, answer  # at least one number
        elif invalid and all_or_nothing:
            assert answer.status == 422, answer
        elif group_id not in self.groups:
            assert answer.status == 404, answer
        else:
            assert answer.status == 200, answer
            result = json_of(answer)
            entries = self.groups[group_id].entries
            new = [n for n in valid if n not in entries]
            assert (result["added"], result["updated"]) == (len(new), len(valid) - len(new))
            assert [i["input"] for i in result["invalid"]] == invalid
            for number in valid:
                entries[number] = expiry

    @rule(
        index=group_picks,
        items=number_items,
        surface=st.sampled_from(["v2", "ca_apis-id", "ca_apis-name"]),
    )
    def add_numbers_on_compat(self, index: int, items: list[Item], surface: str) -> None:
        group_id = self.pick(index)
        numbers = [s for _, s in items]
        if surface == "v2":
            answer = self.client.compat_v2("PUT", {"Id": group_id, "blockNumbers": numbers})
        elif surface == "ca_apis-id":
            body = {"id": str(group_id), "blockNumbers": numbers}
            answer = self.client.ca_apis("PUT", "/ca_apis/updateBlockNumbers", body)
        else:
            group = self.groups.get(group_id)
            name = group.name.upper() if group else "No such group"
            body = {"groupName": name, "blockNumbers": numbers}
            answer = self.client.ca_apis("PUT", "/ca_apis/updateBlockNumber", body)
        if not items or any(e164 is None for e164, _ in items):
            assert answer.status == 400, answer  # checked before the group is looked up
        elif group_id not in self.groups:
            assert answer.status == 404, answer
        else:
            assert answer.status == 200, answer
            output = json_of(answer)["output"]
            entries = self.groups[group_id].entries
            valid = self.distinct_valid(items)
            assert output["succes"] == valid
            assert output["new"] == len([n for n in valid if n not in entries])
            for number in valid:
                entries[number] = None  # a compat add without expiryDate: no expiry

    @rule(index=group_picks, items=v1_items)
    def remove_numbers_on_v1(self, index: int, items: list[Item]) -> None:
        group_id = self.pick(index)
        body = {"numbers": [s for _, s in items]}
        answer = self.client.v1("DELETE", f"/v1/groups/{group_id}/numbers", body)
        if not items:
            assert answer.status == 422, answer
        elif group_id not in self.groups:
            assert answer.status == 404, answer
        else:
            assert answer.status == 200, answer
            result = json_of(answer)
            entries = self.groups[group_id].entries
            present = [n for n in self.distinct_valid(items) if n in entries]
            assert result["removed"] == len(present)
            missing = [s for e164, s in items if e164 is not None and e164 not in entries]
            assert result["not_found"] == missing
            assert [i["input"] for i in result["invalid"]] == [s for e, s in items if e is None]
            for number in present:
                del entries[number]

    @rule(
        index=group_picks,
        items=number_items,
        surface=st.sampled_from(["v2", "ca_apis-name", "ca_apis-every-group"]),
    )
    def remove_numbers_on_compat(self, index: int, items: list[Item], surface: str) -> None:
        group_id: int | None = self.pick(index)
        numbers = [s for _, s in items]
        if surface == "v2":
            answer = self.client.compat_v2("DELETE", {"id": group_id, "blockNumbers": numbers})
        elif surface == "ca_apis-name":
            group = self.groups.get(self.pick(index))
            name = group.name.lower() if group else "No such group"
            body = {"groupName": name, "blockNumbers": numbers}
            answer = self.client.ca_apis("DELETE", "/ca_apis/deleteBlockNumber", body)
        else:  # no group named: from every group of the account
            group_id = None
            body = {"blockNumbers": numbers}
            answer = self.client.ca_apis("DELETE", "/ca_apis/deleteBlockNumberGroup", body)
        if not items or any(e164 is None for e164, _ in items):
            assert answer.status == 400, answer
            return
        if group_id is not None and group_id not in self.groups:
            assert answer.status == 404, answer
            return
        assert answer.status == 200, answer
        output = json_of(answer)["output"]
        touched = [self.groups[group_id]] if group_id is not None else [*self.groups.values()]
        held = {n for group in touched for n in group.entries}
        assert output["success"] == [e164 for e164, _ in items if e164 in held]
        assert output["error"] == [s for e164, s in items if e164 not in held]
        assert output["deleted"] == len({e164 for e164, _ in items if e164 in held})
        for group in touched:
            for e164, _ in items:
                group.entries.pop(e164 or "", None)

    # --- reading -------------------------------------------------------------------------

    @rule(
        item=check_items,
        direction=st.sampled_from([None, "inbound", "outbound"]),
    )
    def check_one_number(self, item: Item, direction: str | None) -> None:
        e164, spelled = item
        answer = self.client.v1("GET", f"/v1/check/{spelled}", direction=direction)
        if e164 is None:
            assert answer.status == 422, answer
            return
        assert answer.status == 200, answer
        result = json_of(answer)
        expected = self.matches(e164, direction)
        assert result["number"] == e164
        assert result["blocked"] is bool(expected)
        assert {(m["group_id"], m["pattern"]) for m in result["matches"]} == expected

    @rule(
        items=st.lists(check_items, max_size=8),
        direction=st.sampled_from([None, "inbound", "outbound"]),
    )
    def check_many_numbers(self, items: list[Item], direction: str | None) -> None:
        body = {"numbers": [s for _, s in items], "direction": direction}
        answer = self.client.v1("POST", "/v1/check", body)
        assert answer.status == 200, answer
        results = json_of(answer)["results"]
        assert len(results) == len(items)
        for (e164, _), result in zip(items, results, strict=True):
            expected = set() if e164 is None else {g for g, _ in self.matches(e164, direction)}
            assert result["number"] == e164
            assert result["blocked"] is bool(expected)
            assert set(result["group_ids"]) == expected

    @rule(index=group_picks, status=st.sampled_from(["all", "active", "expired"]))
    def list_numbers(self, index: int, status: str) -> None:
        group_id = self.pick(index)
        answer = self.client.v1("GET", f"/v1/groups/{group_id}/numbers", status=status, limit=1000)
        if group_id not in self.groups:
            assert answer.status == 404, answer
            return
        assert answer.status == 200, answer
        listed = {e["number"]: e["status"] for e in json_of(answer)["data"]}
        expected = {
            pattern: "active" if self.active(expiry) else "expired"
            for pattern, expiry in self.groups[group_id].entries.items()
        }
        if status != "all":
            expected = {p: s for p, s in expected.items() if s == status}
        assert listed == expected

    @precondition(lambda self: any(g.entries for g in self.groups.values()))
    @rule(minutes=st.integers(min_value=1, max_value=6))
    def let_time_pass(self, minutes: int) -> None:
        self.clock.advance(minutes=minutes)

    # --- after every step ----------------------------------------------------------------

    @invariant()
    def the_groups_are_the_models(self) -> None:
        answer = self.client.v1("GET", "/v1/groups", limit=1000)
        assert answer.status == 200, answer
        listed = {
            g["id"]: (g["name"], g["direction"], g["active_count"], g["expired_count"])
            for g in json_of(answer)["data"]
        }
        expected = {}
        for group_id, group in self.groups.items():
            active = sum(self.active(expiry) for expiry in group.entries.values())
            expected[group_id] = (group.name, group.direction, active, len(group.entries) - active)
        assert listed == expected


def run_machine(
    app: FastAPI, service: Service, clock: FakeClock, *, examples: int, steps: int = STEPS
) -> None:
    """Run the state machine on ``app``, ``examples`` sequences of up to ``steps`` steps."""
    with in_process(app) as http:
        run_state_machine_as_test(
            lambda: BlockListMachine(http, service, clock),
            settings=settings(
                max_examples=examples,
                stateful_step_count=steps,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            ),
        )
