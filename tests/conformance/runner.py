"""Replays a conformance file (``tests/conformance/*.json``) through any async HTTP client.

The file format is described by its own ``about`` key: cases run in order against a fresh
database holding the accounts ``main`` and ``other``; ``{name}`` strings are replaced by values
saved from earlier answers; ``@range(start,count)`` expands to ``count`` consecutive numbers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

from tests.helpers import Credentials, bearer

HERE = Path(__file__).parent
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_RANGE = re.compile(r"@range\((\d+),(\d+)\)")


DEFAULT_ACCOUNTS = {"main": "BASIC_AUTH", "other": "BASIC_AUTH"}


def load_file(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((HERE / name).read_text("utf-8"))
    return document


def load(name: str) -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = load_file(name)["cases"]
    return cases


def accounts_of(name: str) -> dict[str, str]:
    """The accounts a file needs, username to API authentication mode."""
    accounts: dict[str, str] = load_file(name).get("accounts", DEFAULT_ACCOUNTS)
    return accounts


def substitute(value: Any, saved: Mapping[str, Any]) -> Any:
    if isinstance(value, str):
        whole = _PLACEHOLDER.fullmatch(value)
        if whole:
            return saved[whole.group(1)]
        ranged = _RANGE.fullmatch(value)
        if ranged:
            start, count = int(ranged.group(1)), int(ranged.group(2))
            return [str(start + i) for i in range(count)]
        return _PLACEHOLDER.sub(lambda m: str(saved[m.group(1)]), value)
    if isinstance(value, list):
        return [substitute(v, saved) for v in value]
    if isinstance(value, dict):
        return {k: substitute(v, saved) for k, v in value.items()}
    return value


def auth_headers(auth: str, accounts: Mapping[str, Credentials]) -> dict[str, str]:
    if auth == "none":
        return {}
    scheme, _, rest = auth.partition(":")
    if scheme == "bearer":
        return bearer(rest)
    if scheme == "token":
        return {"Authorization": rest}
    username, _, wrong = rest.partition(":")
    known = accounts.get(username)
    key = known.key if known else "cbk_" + "x" * 43
    if wrong:
        key = key + "wrong"
    if scheme == "apikey":
        return {"apiKey": key}
    assert scheme == "basic", f"unknown auth {auth!r}"
    return Credentials(username, key).basic


def is_subset(expected: Any, actual: Any) -> bool:
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            key in actual and is_subset(value, actual[key]) for key, value in expected.items()
        )
    return bool(expected == actual)


def dotted(body: Any, path: str) -> Any:
    for part in path.split("."):
        body = body[part]
    return body


async def run_case(
    client: httpx.AsyncClient,
    case: dict[str, Any],
    accounts: Mapping[str, Credentials],
    saved: dict[str, Any],
) -> None:
    request = substitute(case["request"], saved)
    kwargs: dict[str, Any] = {"headers": auth_headers(request.get("auth", "none"), accounts)}
    if "json" in request:
        kwargs["json"] = request["json"]
    if "form" in request:
        kwargs["data"] = request["form"]
    if "query" in request:
        kwargs["params"] = request["query"]
    response = await client.request(request["method"], request["path"], **kwargs)

    expect = substitute(case["expect"], saved)
    name = case["name"]
    assert response.status_code == expect["status"], (name, response.text)
    assert response.headers["content-type"] == "application/json", name
    body = response.json()
    if expect["match"] == "exact":
        assert body == expect["body"], (name, body)
    else:
        assert is_subset(expect["body"], body), (name, body)
    for key, path in case.get("save", {}).items():
        saved[key] = dotted(body, path)


async def run_file(
    client: httpx.AsyncClient, name: str, accounts: Mapping[str, Credentials]
) -> int:
    saved: dict[str, Any] = {}
    cases = load(name)
    for case in cases:
        await run_case(client, case, accounts, saved)
    return len(cases)
