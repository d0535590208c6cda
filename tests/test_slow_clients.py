"""Clients that trickle their body: a real server answers 408 in time, closes the connection,
writes nothing, and goes on serving others. (HTTP behaviour: one engine is enough here.)"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from tests.helpers import Credentials, bearer
from tests.servers import Server, callblock, create_account, start_server, stop_server, wait_ready

pytestmark = pytest.mark.server

BODY_TIMEOUT = 1.0
UPLOAD_TIMEOUT = 3.0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, str]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('slow') / 'slow.db'}"
    callblock("db", "upgrade", database_url=url)
    key = create_account("slow", database_url=url)
    node = start_server(
        url, body_timeout_seconds=str(BODY_TIMEOUT), upload_timeout_seconds=str(UPLOAD_TIMEOUT)
    )
    try:
        wait_ready(node)
        yield node, key
    finally:
        log = stop_server(node)
        assert "Traceback" not in log, log


def trickle(
    node: Server, head: str, chunks: list[bytes], every: float
) -> tuple[int, dict[str, str], bytes, float]:
    """Send ``head``, then one chunk every ``every`` seconds while the server listens; the
    status, headers and body of its answer, and when it came (seconds after the head)."""
    where = urlsplit(node.url)
    with socket.create_connection((where.hostname, where.port), timeout=30) as sock:
        sock.sendall(head.encode())
        started = time.monotonic()
        sock.setblocking(False)
        answer = b""
        pending = list(chunks)
        next_send = started + every
        while True:
            try:
                data = sock.recv(65536)
            except BlockingIOError:
                data = None
            except ConnectionResetError:
                # Closed as it answered: a chunk of ours crossed its close. What came first
                # was read already; without it, the assertions below say so.
                break
            if data == b"":
                break  # the server closed the connection
            if data:
                answer += data
            # Once the server has answered, the rest of the body is not wanted: sending it
            # to a closing socket would make the kernel reset the connection.
            if pending and not answer and time.monotonic() >= next_send:
                try:
                    sock.sendall(pending.pop(0))
                except (BrokenPipeError, ConnectionResetError):
                    pending.clear()
                next_send += every
            assert time.monotonic() - started < 20, "the server never answered"
            time.sleep(0.01)
        took = time.monotonic() - started
    assert answer, "the connection was reset before any answer came"
    header_block, _, body = answer.partition(b"\r\n\r\n")
    lines = header_block.decode().split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), {k.lower(): v for k, v in headers.items()}, body, took


def request_head(path: str, key: str, length: int, content_type: str = "application/json") -> str:
    return (
        f"POST {path} HTTP/1.1\r\nHost: callblock\r\nAuthorization: Bearer {key}\r\n"
        f"Content-Type: {content_type}\r\nContent-Length: {length}\r\n\r\n"
    )


def groups(node: Server, key: str) -> list[str]:
    listed = httpx.get(f"{node.url}/v1/groups", headers=bearer(key))
    return [g["name"] for g in listed.json()["data"]]


def test_a_body_that_stops_arriving_gets_408_and_nothing_is_written(
    server: tuple[Server, str],
) -> None:
    node, key = server
    body = json.dumps({"name": "Never"}).encode()
    status, headers, answer, took = trickle(
        node, request_head("/v1/groups", key, len(body)) + body[:5].decode(), [], 0.1
    )
    assert status == 408
    assert headers["content-type"] == "application/problem+json"
    assert headers["connection"] == "close"
    assert json.loads(answer)["type"] == "urn:callblock:problem:body-timeout"
    assert BODY_TIMEOUT <= took < BODY_TIMEOUT + 2
    assert "Never" not in groups(node, key)


def test_a_body_trickled_byte_by_byte_is_cut_off_at_the_deadline(
    server: tuple[Server, str],
) -> None:
    node, key = server
    body = json.dumps({"name": "Trickled"}).encode()
    # A byte every 0.2 s: never idle for long, but 5 s in all.
    chunks = [body[i : i + 1] for i in range(len(body))]
    status, _, _, took = trickle(node, request_head("/v1/groups", key, len(body)), chunks, 0.2)
    assert status == 408
    assert took < BODY_TIMEOUT + 2
    assert "Trickled" not in groups(node, key)


def test_a_compat_body_that_stops_gets_408_in_the_compat_shape(
    server: tuple[Server, str],
) -> None:
    node, key = server
    credentials = Credentials("slow", key).basic["Authorization"]
    head = (
        "POST /CAServicesV3/blockNumberGroupV2.php HTTP/1.1\r\nHost: callblock\r\n"
        f"Authorization: {credentials}\r\nContent-Type: application/json\r\n"
        "Content-Length: 200\r\n\r\n{"
    )
    status, headers, answer, _ = trickle(node, head, [], 0.1)
    assert status == 408
    assert headers["content-type"] == "application/json"
    assert answer == b'{"status": "error", "message": "Request timeout"}'


def test_an_upload_may_take_longer_than_a_body_but_not_forever(
    server: tuple[Server, str],
) -> None:
    node, key = server
    created = httpx.post(
        f"{node.url}/v1/groups",
        json={"name": "Uploads"},
        headers=bearer(key),
    ).json()
    path = f"/v1/groups/{created['id']}/numbers:import"
    lines = b"".join(f"98765432{i:02d}\n".encode() for i in range(40))
    chunks = [lines[i : i + 11] for i in range(0, len(lines), 11)]  # a line each 0.5 s: 20 s
    status, _, _, took = trickle(node, request_head(path, key, len(lines), "text/csv"), chunks, 0.5)
    assert status == 408
    assert UPLOAD_TIMEOUT <= took < UPLOAD_TIMEOUT + 2  # past the body timeout: not idle
    listed = httpx.get(f"{node.url}/v1/groups/{created['id']}/numbers", headers=bearer(key))
    assert listed.json()["data"] == []


def test_the_server_serves_others_while_a_client_trickles(server: tuple[Server, str]) -> None:
    node, key = server
    where = urlsplit(node.url)
    with socket.create_connection((where.hostname, where.port), timeout=30) as slow:
        slow.sendall(request_head("/v1/groups", key, 100).encode())
        started = time.monotonic()
        answer = httpx.get(f"{node.url}/v1/check/9876543210", headers=bearer(key))
        assert answer.status_code == 200
        assert time.monotonic() - started < BODY_TIMEOUT
