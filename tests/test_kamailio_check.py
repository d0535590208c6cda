"""integrations/kamailio/callblock_check.py without Kamailio: how it reads a call's identities,
judges callblock's answers, checks its settings, and keeps a check within its budget.

The module imports Kamailio's ``KSR``; a stand-in takes its place here (only the pure parts and
the HTTP client are exercised: what Kamailio does with them is tests/test_kamailio.py's)."""

from __future__ import annotations

import importlib.util
import socket
import sys
import threading
import time
import types
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.helpers import bearer
from tests.servers import Server, create_account, start_server, stop_server

SCRIPT = Path(__file__).resolve().parent.parent / "integrations" / "kamailio" / "callblock_check.py"


def _load() -> Any:
    sys.modules.setdefault("KSR", types.ModuleType("KSR"))
    spec = importlib.util.spec_from_file_location("callblock_check", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["callblock_check"] = module  # as Kamailio imports it
    spec.loader.exec_module(module)
    return module


check = _load()


def test_header_values_split_on_commas_outside_quotes_and_brackets() -> None:
    joined = '"Desk, 2" <sip:+911@a;x=1,2>, <tel:+912>,tel:+913'
    assert check.header_values(joined) == ['"Desk, 2" <sip:+911@a;x=1,2>', "<tel:+912>", "tel:+913"]
    assert check.header_values(None) == []
    assert check.header_values(" , ") == []


@pytest.mark.parametrize(
    ("value", "user"),
    [
        ("<sip:+919876543210@carrier.example;user=phone>", "+919876543210"),
        ('"Bob" <sips:09876543210:secret@10.0.0.1:5061>;tag=x', "09876543210"),
        ("sip:9876543210@host;tag=abc", "9876543210"),
        ("<tel:+91-98765-43210;npdi;rn=+1>", "+91-98765-43210"),
        ("<sip:%2B91%209876543210@h>", "+91 9876543210"),
        ('"x<y, z" <tel:+919876543210>', "+919876543210"),  # a < in the display name
        ("<sip:carrier.example>", None),
        ("garbage", None),
        ("<mailto:a@b>", None),
        ("", None),
    ],
)
def test_the_user_part_of_a_header_value(value: str, user: str | None) -> None:
    assert check.user_of(value) == user


def test_every_presented_number_is_an_identity_and_withholding_is_seen_three_ways() -> None:
    identities = check.caller_identities
    # Asserted identities first, then From, without repeats.
    assert identities("<tel:+911>, <sip:+912@a>", "sip:+913@b", None) == (
        ["+911", "+912", "+913"],
        False,
    )
    assert identities("<tel:+911>", "sip:+911@b", None) == (["+911"], False)
    # Withheld: From says so (whatever the asserted identity), Privacy: id, or no number.
    assert identities("<tel:+911>", "sip:Anonymous@anonymous.invalid", None) == (["+911"], True)
    assert identities(None, "sip:+913@b", "header;id") == (["+913"], True)
    assert identities(None, "sip:+913@b", "header, ID") == (["+913"], True)
    assert identities(None, "sip:+913@b", "header;idx") == (["+913"], False)
    assert identities(None, "sip:carrier.example", None) == ([], True)
    assert identities("garbage", "sip:unavailable@h", None) == ([], True)


def test_what_is_no_number_is_not_asked_about() -> None:
    assert check.is_a_number("+91 98765 43210")
    assert check.is_a_number("९८७६५४३२१०")  # digits of another script are digits
    assert not check.is_a_number("alice")
    assert not check.is_a_number("sales/desk-2")
    assert not check.is_a_number("..")


@pytest.mark.parametrize(
    ("status", "answer", "verdict"),
    [
        (200, {"blocked": True}, ("blocked", "")),
        (200, {"blocked": False}, ("allowed", "")),
        (200, {"callable": False, "blocked": False}, ("blocked", "")),
        (200, {"callable": True, "blocked": True}, ("allowed", "")),
        (200, {}, ("failed", "an answer without a verdict")),
        (422, {"errors": {"number": "not a valid phone number"}}, ("allowed", "")),
        (422, {"errors": {"direction": "bad"}, "title": "Invalid input"}, None),
        (401, {"title": "Unauthorized", "detail": "Credentials refused."}, None),
        (503, {}, ("failed", "HTTP 503")),
    ],
)
def test_callblocks_answers_become_verdicts(
    status: int, answer: dict[str, Any], verdict: tuple[str, str] | None
) -> None:
    found = check.verdict(status, answer)
    if verdict is None:
        assert found[0] == "failed"
        assert found[1].startswith(f"HTTP {status}: ")
        assert found[1].endswith(answer.get("detail") or answer.get("title"))
    else:
        assert found == verdict


_GOOD = {
    "CALLBLOCK_URL": "http://127.0.0.1:8080/prefix",
    "CALLBLOCK_KEY": "cbk_x",
    "TIMEOUT_MS": "300",
    "FAIL_MODE": "open",
    "NEXT_HOP": "sip:10.0.0.5:5060",
    "AGENTS": "10.1.0.0/16, 192.168.0.0/24",
}


def test_good_settings_are_read() -> None:
    assert check.read_settings({**_GOOD, "NEXT_HOP": "sip:[2001:db8::5]:5060"}.get)
    assert check.read_settings({**_GOOD, "NEXT_HOP": "sip:10.0.0.5;transport=tcp"}.get)
    settings = check.read_settings(_GOOD.get)
    assert (settings.url, settings.key, settings.timeout_ms) == (
        "http://127.0.0.1:8080/prefix",
        "cbk_x",
        300,
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CALLBLOCK_URL", "ftp://h"),
        ("CALLBLOCK_URL", None),
        ("CALLBLOCK_KEY", " "),
        ("TIMEOUT_MS", "-1"),
        ("TIMEOUT_MS", "0"),
        ("TIMEOUT_MS", "60001"),
        ("AGENTS", "10.1.0.0/16,nowhere"),
        ("FAIL_MODE", "CLOSED"),
        ("NEXT_HOP", "10.0.0.5:5060"),
        ("NEXT_HOP", "sip:pbx.example:5060"),
        ("CALLBLOCK_URL", "http://127.0.0.1:99999"),
        ("CALLBLOCK_URL", "http://127.0.0.1:x"),
        ("CALLBLOCK_KEY", "cbk_x  # a comment"),
    ],
)
def test_a_setting_that_cannot_work_is_refused_naming_it(name: str, value: str | None) -> None:
    with pytest.raises(check.SettingsError, match=name):
        check.read_settings({**_GOOD, name: value}.get)


@given(st.text(max_size=40))
def test_reading_any_header_text_never_raises(text: str) -> None:
    for value in check.header_values(text):
        check.user_of(value)
    numbers, _ = check.caller_identities(text, text, text)
    assert all(number.lower() not in check.WITHHELD for number in numbers)


@contextmanager
def _answering_server(*, after: float = 0.0, byte_every: float = 0.0) -> Iterator[str]:
    """An HTTP server that answers each check ``after`` seconds after it is asked, one byte
    every ``byte_every`` seconds (whole when 0), and yields its URL."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.2)
    stop = threading.Event()
    answer = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 17\r\n\r\n"
        b'{"blocked":false}'
    )
    pieces = [bytes([byte]) for byte in answer] if byte_every else [answer]

    def answer_on(conn: socket.socket) -> None:
        conn.settimeout(0.2)
        while not stop.is_set():
            try:
                if not conn.recv(65536):
                    return
            except TimeoutError:
                continue
            except OSError:
                return
            time.sleep(after)
            for piece in pieces:
                if stop.is_set():
                    return
                try:
                    conn.sendall(piece)
                except OSError:
                    return
                time.sleep(byte_every)

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                answer_on(conn)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join()
        listener.close()


def test_an_answer_that_trickles_in_cannot_outlast_the_budget() -> None:
    with _answering_server(byte_every=0.1) as url:  # a whole answer would take 9 s
        client = check.CallblockClient(check.Settings(url, "cbk_x", 300))
        started = time.monotonic()
        with pytest.raises(check.CheckFailed, match="no answer within 300 ms"):
            client.check("9876543210", "inbound", "")
        assert time.monotonic() - started < 1.0
        # Then it is not asked again for a second: the next check fails at once, not in
        # another 300 ms.
        started = time.monotonic()
        with pytest.raises(check.CheckFailed, match="callblock not asked for"):
            client.check("9876543210", "inbound", "")
        assert time.monotonic() - started < 0.2


def test_a_calls_identities_share_one_budget() -> None:
    with _answering_server(after=0.4) as url:
        client = check.CallblockClient(check.Settings(url, "cbk_x", 600))
        checker = check.CallChecker(client)
        started = time.monotonic()
        # Three numbers, each answered in 400 ms: the second runs out of the call's 600 ms
        # (with a budget each, all three would be answered, in 1.2 s).
        outcome = checker.inbound("<tel:+919876543210>, <tel:+919123456789>", "sip:+9180@h", None)
        took = time.monotonic() - started
        client.close()
    assert outcome.verdict == "failed"
    assert outcome.number == "+919123456789"
    assert took < 0.9


@pytest.fixture
def callblock_server(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Server]:
    from tests.conftest import fresh_database

    with fresh_database(request, "sqlite", tmp_path) as url:
        server = start_server(url)
        yield server
        stop_server(server)


@pytest.mark.server
def test_the_client_asks_a_real_server_and_keeps_its_connection(
    callblock_server: Server,
) -> None:
    key = create_account("acme", database_url=callblock_server.database_url)
    with httpx.Client(base_url=callblock_server.url, headers=bearer(key)) as admin:
        group = admin.post("/v1/groups", json={"name": "Abusive", "direction": "inbound"})
        admin.post(f"/v1/groups/{group.json()['id']}/numbers", json={"numbers": ["9876543210"]})
    client = check.CallblockClient(check.Settings(callblock_server.url, key, 300))
    checker = check.CallChecker(client)
    assert checker.inbound(None, "sip:+919876543210@h", None).verdict == "blocked"
    connection = client._connection
    assert checker.inbound(None, "sip:9123456789@h", None).verdict == "allowed"
    assert client._connection is connection  # the same connection, kept alive
    # A withheld caller: callblock answers 422 for "anonymous" unless the account blocks it.
    assert checker.inbound(None, "sip:anonymous@anonymous.invalid", None).verdict == "allowed"
    unknown = checker.outbound("sip:9876543210@h", "No such campaign")
    client.close()
    assert unknown.verdict == "failed"
    assert "no campaign 'No such campaign'" in unknown.detail
