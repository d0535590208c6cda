"""Each rule is stated once (``callblock.rules``): the server enforces it, the OpenAPI document
declares it, ``GET /v1/limits`` serves it, and every surface words it the same way."""

from __future__ import annotations

import re
from importlib import resources
from typing import Any

import httpx
import pytest

from callblock import rules
from tests.helpers import Credentials, bearer, new_group, problem

pytestmark = pytest.mark.anyio


async def document(client: httpx.AsyncClient) -> dict[str, Any]:
    answer: dict[str, Any] = (await client.get("/openapi.json")).json()
    return answer


def properties(doc: dict[str, Any], model: str) -> dict[str, Any]:
    found: dict[str, Any] = doc["components"]["schemas"][model]["properties"]
    return found


def string_of(schema: dict[str, Any]) -> dict[str, Any]:
    """The string branch of a nullable property (``anyOf: [string, null]``)."""
    for branch in schema.get("anyOf", [schema]):
        if branch.get("type") == "string":
            return dict(branch)
    raise AssertionError(schema)


async def test_limits_are_served_without_credentials(client: httpx.AsyncClient) -> None:
    answer = await client.get("/v1/limits")
    assert answer.status_code == 200
    assert answer.json() == {
        "name_min": rules.NAME_MIN,
        "name_max": rules.NAME_MAX,
        "name_rule": rules.NAME_RULE,
        "description_max": rules.DESCRIPTION_MAX,
        "description_rule": rules.DESCRIPTION_RULE,
        "note_max": rules.NOTE_MAX,
        "note_rule": rules.NOTE_RULE,
        "numbers_per_change": rules.NUMBERS_PER_CHANGE,
        "numbers_per_check": rules.NUMBERS_PER_CHECK,
        "page_max": rules.PAGE_MAX,
        "entry_filter_max": rules.ENTRY_FILTER_MAX,
        "column_max": rules.COLUMN_MAX,
        "invalid_lines_shown": rules.INVALID_LINES_SHOWN,
    }


async def test_the_document_declares_the_lengths_the_server_enforces(
    client: httpx.AsyncClient,
) -> None:
    doc = await document(client)
    for model in ("GroupCreate", "GroupUpdate"):
        fields = properties(doc, model)
        assert string_of(fields["description"])["maxLength"] == rules.DESCRIPTION_MAX
        name = string_of(fields["name"])
        assert (name["minLength"], name["maxLength"]) == (rules.NAME_MIN, rules.NAME_MAX)
    assert string_of(properties(doc, "NumbersAdd")["note"])["maxLength"] == rules.NOTE_MAX
    assert properties(doc, "NumbersAdd")["numbers"]["maxItems"] == rules.NUMBERS_PER_CHANGE
    assert properties(doc, "NumbersRemove")["numbers"]["maxItems"] == rules.NUMBERS_PER_CHANGE
    assert properties(doc, "CheckMany")["numbers"]["maxItems"] == rules.NUMBERS_PER_CHECK
    group_id = doc["paths"]["/v1/groups/{group_id}"]["get"]["parameters"][0]["schema"]
    assert group_id["maximum"] == rules.LARGEST_ID


async def test_a_file_body_is_declared_required_and_not_empty(client: httpx.AsyncClient) -> None:
    doc = await document(client)
    for path in ("/v1/groups/{group_id}/numbers:import", "/v1/scrub"):
        body = doc["paths"][path]["post"]["requestBody"]
        assert body["required"] is True
        assert {media["schema"]["minLength"] for media in body["content"].values()} == {1}


async def test_the_problem_schema_declares_every_key_a_problem_holds(
    client: httpx.AsyncClient, main_account: Credentials
) -> None:
    group = await new_group(client, main_account)
    refused = await client.post(
        f"/v1/groups/{group['id']}/numbers:import",
        content=b"9876543210\nnot a number\n",
        headers={**bearer(main_account), "Content-Type": "text/csv"},
    )
    body = problem(refused, 422)
    declared = properties(await document(client), "Problem")
    assert set(body) <= set(declared)
    assert "invalid_lines" in body


@pytest.mark.parametrize("method", ["POST", "PATCH"])
async def test_a_description_too_long_gets_one_message_on_create_and_update(
    client: httpx.AsyncClient, main_account: Credentials, method: str
) -> None:
    group = await new_group(client, main_account, "Kept")
    path = "/v1/groups" if method == "POST" else f"/v1/groups/{group['id']}"
    too_long = "x" * (rules.DESCRIPTION_MAX + 1)
    answer = await client.request(
        method,
        path,
        json={"name": "Another", "description": too_long},
        headers=bearer(main_account),
    )
    assert problem(answer, 422)["errors"] == {"description": rules.DESCRIPTION_RULE}
    at_most = "y" * rules.DESCRIPTION_MAX
    answer = await client.request(
        method, path, json={"name": "Another", "description": at_most}, headers=bearer(main_account)
    )
    assert answer.status_code in (200, 201), answer.text
    assert answer.json()["description"] == at_most


@pytest.mark.parametrize(
    ("name", "fault"),
    [
        ("!", "Too short: at least 2 characters"),
        ("  x  ", "Too short: at least 2 characters"),
        ("x" * 51, "Too long: at most 50 characters, not 51"),
        ("-bad start", "Must start with a letter or digit, not \u201c-\u201d"),
        ("spam@home", "Character not allowed: \u201c@\u201d"),
        ("tab\there", "Character not allowed: U+0009"),
    ],
)
async def test_an_invalid_name_is_refused_saying_what_is_wrong_then_the_rule(
    client: httpx.AsyncClient, main_account: Credentials, name: str, fault: str
) -> None:
    answer = await client.post("/v1/groups", json={"name": name}, headers=bearer(main_account))
    assert problem(answer, 422)["errors"] == {"name": f"{fault}. A name is {rules.NAME_RULE}"}


@pytest.mark.parametrize(
    ("path", "item"),
    [("/v1/groups/{id}/numbers", None), ("/v1/check", [1]), ("/v1/check", 1.5)],
)
async def test_an_invalid_item_of_a_list_is_named_by_its_position_only(
    client: httpx.AsyncClient, main_account: Credentials, path: str, item: object
) -> None:
    """Not by each branch of the union it failed (``numbers.0.str``, ``numbers.0.int``)."""
    group = await new_group(client, main_account)
    answer = await client.post(
        path.format(id=group["id"]),
        json={"numbers": ["9876543210", item]},
        headers=bearer(main_account),
    )
    errors = problem(answer, 422)["errors"]
    assert list(errors) == ["numbers.1"]
    assert "string" in errors["numbers.1"]
    assert "integer" in errors["numbers.1"]


def test_the_admin_page_keeps_no_copy_of_a_limit() -> None:
    """The page takes its limits from ``GET /v1/limits``: no number of a rule in its code."""
    assets = resources.files("callblock.web") / "assets"
    scripts = {
        f"{folder}{item.name}": item.read_text()
        for folder, parent in (("", assets), ("views/", assets / "views"))
        for item in parent.iterdir()
        if item.name.endswith(".js")
    }
    limits = {
        rules.NAME_MAX,
        rules.DESCRIPTION_MAX,
        rules.NOTE_MAX,
        rules.NUMBERS_PER_CHANGE,
        rules.NUMBERS_PER_CHECK,
        rules.ENTRY_FILTER_MAX,
    }
    for name, text in scripts.items():
        numbers = {int(n.replace("_", "")) for n in re.findall(r"\b\d[\d_]*\b", text)}
        # A page size or a count shown may equal a limit by chance: those are named constants
        # of their own, checked here by name.
        named = set(re.findall(r"const ([A-Z_]+) = (\d[\d_]*);", text))
        chance = {int(value.replace("_", "")) for key, value in named if "PAGE" in key}
        assert not (numbers & limits) - chance, f"{name} states a limit itself"
        assert "2 to 50" not in text, name
        assert "Up to 50" not in text, name
