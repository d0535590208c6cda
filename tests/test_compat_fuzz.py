"""Hostile input on the V2 endpoint: whatever arrives, a documented JSON answer, never a 500."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from callblock.store import Store
from tests.fuzzing.documents import v2_fields
from tests.fuzzing.harness import Http
from tests.helpers import V2, Credentials, snapshot

DOCUMENTED = {200, 400, 401, 404, 405, 409, 413}
FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def http(app: FastAPI) -> Http:
    return Http(app)


def check_answer(status: int, body: Any) -> None:
    assert status in DOCUMENTED
    assert isinstance(body, dict)
    assert body["status"] in ("success", "error")
    assert "Traceback" not in json.dumps(body)


@FUZZ
@given(method=st.sampled_from(["POST", "PUT", "DELETE"]), fields=v2_fields)
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
