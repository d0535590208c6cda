"""Hostile input on the V2 endpoint: whatever arrives, a documented JSON answer, never a 500."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from callblock.store import Store
from tests.helpers import V2, Credentials, snapshot

DOCUMENTED = {200, 400, 401, 404, 405, 409, 413}
FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
)


def json_trees(scalars: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """JSON values: ``scalars``, and small lists and objects of them, nested."""
    return st.recursive(
        scalars,
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
        ),
        max_leaves=12,
    )


json_values = json_trees(json_scalars)
numberish = st.one_of(
    st.from_regex(r"\+?[0-9 ()\-.]{1,16}", fullmatch=True),
    st.integers(min_value=-(10**15), max_value=10**15),
    json_values,
)
field_values = st.fixed_dictionaries(
    {},
    optional={
        "name": st.one_of(st.text(max_size=60), json_values),
        "description": st.one_of(st.text(max_size=60), json_values),
        "blockNumbers": st.one_of(numberish, st.lists(numberish, max_size=8)),
        "blockNumber": numberish,
        "Id": json_values,
        "id": json_values,
        "expiryDate": st.one_of(st.just("2099-01-01 00:00:00"), st.text(max_size=25), json_values),
    },
)


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


@pytest.fixture
def http(app: FastAPI) -> Http:
    return Http(app)


def check_answer(status: int, body: Any) -> None:
    assert status in DOCUMENTED
    assert isinstance(body, dict)
    assert body["status"] in ("success", "error")
    assert "Traceback" not in json.dumps(body)


@FUZZ
@given(method=st.sampled_from(["POST", "PUT", "DELETE"]), fields=field_values)
def test_any_json_fields_get_a_documented_answer(
    http: Http, store: Store, main_account: Credentials, method: str, fields: dict[str, Any]
) -> None:
    before = snapshot(store)
    response = http.request(method, V2, json=fields, headers=main_account.basic)
    check_answer(response.status_code, response.json())
    if response.status_code != 200:
        assert snapshot(store) == before


@FUZZ
@given(
    method=st.sampled_from(["POST", "PUT", "DELETE", "GET", "PATCH"]),
    content_type=st.sampled_from(
        [
            "application/json",
            "application/x-www-form-urlencoded",
            "multipart/form-data",
            "multipart/form-data; boundary=x",
            "text/plain",
            "",
            "application/json; charset=latin-1",
        ]
    ),
    body=st.binary(max_size=300),
)
def test_any_bytes_get_a_documented_answer(
    http: Http,
    store: Store,
    main_account: Credentials,
    method: str,
    content_type: str,
    body: bytes,
) -> None:
    before = snapshot(store)
    headers = {**main_account.basic, "Content-Type": content_type}
    response = http.request(method, V2, content=body, headers=headers)
    assert response.headers["content-type"] == "application/json"
    check_answer(response.status_code, response.json())
    if response.status_code != 200:
        assert snapshot(store) == before


@FUZZ
@given(header=st.text(max_size=80))
def test_any_authorization_header_is_a_clean_401(
    http: Http, main_account: Credentials, header: str
) -> None:
    try:
        response = http.post(V2, json={}, headers={"Authorization": header})
    except UnicodeEncodeError:  # not sendable as an HTTP header at all
        return
    assert response.status_code == 401
    assert response.json() == {"status": "error", "message": "Authentication failed"}
