"""Schema-valid requests are accepted: schemathesis' positive-data check on every `/v1`
operation, so that the OpenAPI document states every limit the server enforces (lengths,
item counts, required bodies...).

Some rules no JSON schema can state; a refusal for one of them is a documented answer, not a
gap in the document, and is listed here with the reason it cannot be stated:

- a group name's characters: letters and marks of any script (a Unicode property class,
  which the regular-expression dialects of JSON Schema tools do not read alike);
- whether a text is a phone number (``libphonenumber``'s rules);
- a cursor, or a change feed token: only what the server handed out;
- an expiry in the future (a schema has no "now");
- a file's content (its columns, its lines), which a file upload's schema does not describe;
- a time zone's name: whichever the server's time zone database holds (a list that differs
  from host to host, and too long to be worth stating);
- removing numbers: a body, or ``status=expired`` with none (a schema cannot tie a query
  parameter to the body).

Any other refusal of a schema-valid request fails the test: the document must say it.
"""

from __future__ import annotations

import os
import re

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode

from callblock.domain import group_name_problem
from callblock.rules import NAME_RULE
from tests.helpers import Credentials, bearer
from tests.test_openapi import api_schema, service  # noqa: F401 (the same app and data)

# A refusal a schema-valid request may get: the problem's type, and for a validation problem,
# the fields (by pattern) whose rule cannot be stated, with the message each is refused with.
_VALIDATION = "urn:callblock:problem:validation"
# What is wrong with the name (its characters, which a schema cannot state), then the rule.
_NAME_REFUSAL = r".+\. A name is " + re.escape(NAME_RULE)
_UNSTATABLE_FIELDS: dict[str, list[tuple[str, str]]] = {
    "createGroup": [("name", _NAME_REFUSAL), ("consent_overrides", ".+allow group.+")],
    "updateGroup": [("name", _NAME_REFUSAL), ("consent_overrides", ".+allow group.+")],
    # A window's sense (start and end equal), the account's own groups.
    "createCampaign": [
        ("name", _NAME_REFUSAL),
        (r"calling_window(\..+)?", ".+"),
        ("group_ids", r"no group \d+ in this account"),
    ],
    "updateCampaign": [("name", _NAME_REFUSAL), (r"calling_window(\..+)?", ".+")],
    "attachGroups": [("group_ids", r"no group \d+ in this account")],
    "checkNumber": [("number", ".+")],
    "addNumbers": [(r"numbers\.\d+", "not valid"), ("expires_at", "must be in the future")],
    "listAuditEvents": [("number", "not a valid phone number or prefix")],
    "removeNumbers": [("body", r".*status=expired.*")],
    # Columns and change lists are for CSV: a rule across parameters.
    "importNumbers": [("format", "(columns are for CSV files|a change list is a CSV file).+")],
    "updateAccount": [("timezone", r"not an IANA time zone.*")],
    # A range's sense across two parameters: its end after its start, few enough buckets.
    "getStats": [
        ("to", "must be after from"),
        ("from", "must be before now"),  # a `from` in the future, with no `to`
        ("from", r"the range holds more than .+"),
    ],
}
_CURSOR = ("cursor", "not a cursor")
_FILE_CONTENT = {
    "urn:callblock:problem:unreadable-file",
    "urn:callblock:problem:nothing-to-import",
    "urn:callblock:problem:invalid-lines",
}
_CHANGE_TOKEN = "urn:callblock:problem:invalid-change-token"
# Refusals a valid request may always get (schemathesis' own list): no credentials, no such
# group, a name taken, a rate.
_ACCEPTABLE = {401, 403, 404, 409, 429}


def unstatable(operation_id: str, status: int, problem: dict[str, object]) -> bool:
    """Whether a refusal is for a rule the OpenAPI document cannot state."""
    kind = problem.get("type")
    if status in (400, 422) and kind in _FILE_CONTENT:
        return True
    if status == 400 and kind == _CHANGE_TOKEN and operation_id == "listChanges":
        return True
    errors = problem.get("errors")
    if status != 422 or kind != _VALIDATION or not isinstance(errors, dict) or not errors:
        return False
    allowed = [*_UNSTATABLE_FIELDS.get(operation_id, []), _CURSOR]
    return all(
        any(re.fullmatch(field, name) and re.fullmatch(message, text) for field, message in allowed)
        for name, text in errors.items()
    )


@pytest.fixture
def positive_schema(api_schema: schemathesis.BaseSchema) -> schemathesis.BaseSchema:  # noqa: F811
    api_schema.config.generation.update(modes=[GenerationMode.POSITIVE])
    return api_schema


schema = schemathesis.pytest.from_fixture("positive_schema")


@schema.parametrize()
@settings(
    max_examples=int(os.environ.get("CALLBLOCK_FUZZ_EXAMPLES", "25")),
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_schema_valid_request_is_accepted(
    case: schemathesis.Case, main_account: Credentials
) -> None:
    assert case.meta is not None
    assert case.meta.generation.mode.is_positive
    response = case.call(headers=bearer(main_account.key))
    status = response.status_code
    if status < 400 or status >= 500 or status in _ACCEPTABLE:
        return  # 5xx and the declared shapes are test_openapi's to judge
    problem = response.json()
    assert unstatable(case.operation.definition.raw["operationId"], status, problem), (
        f"{case.operation.label} refused a schema-valid request with {status}: {problem}\n"
        f"{case.as_curl_command()}"
    )


def test_a_refusal_the_schema_could_state_is_not_excused() -> None:
    """The excuses above are narrow: a length, a missing field or another field fails."""
    too_long = {"type": _VALIDATION, "errors": {"description": "up to 50 characters"}}
    assert not unstatable("createGroup", 422, too_long)
    name = {"type": _VALIDATION, "errors": {"name": group_name_problem("a@b")}}
    assert unstatable("createGroup", 422, name)
    assert not unstatable("addNumbers", 422, name)
    empty = {"type": "urn:callblock:problem:bad-request", "detail": "The body is empty"}
    assert not unstatable("importNumbers", 400, empty)
    lines = {"type": "urn:callblock:problem:invalid-lines", "invalid_lines": []}
    assert unstatable("importNumbers", 422, lines)
    token = {"type": _CHANGE_TOKEN, "errors": {"since": "not a change token of this account"}}
    assert unstatable("listChanges", 400, token)
    assert not unstatable("listGroups", 400, token)
