"""The database goes away and comes back under a running server (PostgreSQL, through a proxy
the test cuts): readiness fails, writes get a clean 503 with a JSON body, and everything
recovers without a restart."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy.engine import make_url

from tests.conftest import fresh_database
from tests.helpers import bearer
from tests.servers import Server, create_account, start_server, stop_server, wait_ready
from tests.tcp_proxy import TcpProxy

pytestmark = pytest.mark.server


@pytest.fixture
def behind_proxy(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, TcpProxy, str]]:
    """A server whose PostgreSQL connections go through a proxy; and an account's key."""
    with fresh_database(request, "postgresql", tmp_path_factory.mktemp("outage")) as direct:
        key = create_account("acme", database_url=direct)
        target = make_url(direct)
        proxy = TcpProxy((target.host or "127.0.0.1", target.port or 5432))
        proxy.start()
        proxied = target.set(port=proxy.port).render_as_string(hide_password=False)
        server = start_server(proxied)
        try:
            wait_ready(server)
            yield server, proxy, key
        finally:
            proxy.restore()  # (again) so that the server stops cleanly
            log = stop_server(server)
            assert "Traceback" not in log  # an outage is logged in a line, not a traceback


def _eventually(condition: object, within: float) -> None:
    deadline = time.monotonic() + within
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"not within {within} s"
        time.sleep(0.05)


def test_readiness_fails_while_the_database_is_away_and_recovers_without_a_restart(
    behind_proxy: tuple[Server, TcpProxy, str],
) -> None:
    server, proxy, key = behind_proxy
    headers = bearer(key)
    before = httpx.post(f"{server.url}/v1/groups", json={"name": "Before"}, headers=headers)
    assert before.status_code == 201
    added = httpx.post(
        f"{server.url}/v1/groups/{before.json()['id']}/numbers",
        json={"numbers": ["9876543210"]},
        headers=headers,
    )
    assert added.status_code == 200

    proxy.cut()
    _eventually(lambda: httpx.get(f"{server.url}/readyz", timeout=10).status_code == 503, 10)
    ready = httpx.get(f"{server.url}/readyz", timeout=10)
    assert ready.json()["checks"]["store"] == "unreachable"
    write = httpx.post(
        f"{server.url}/v1/groups", json={"name": "During"}, headers=headers, timeout=30
    )
    assert write.status_code == 503
    assert write.headers["content-type"].startswith("application/problem+json")
    assert "Traceback" not in write.text
    assert httpx.get(f"{server.url}/healthz").status_code == 200  # alive, only not ready
    # Checks go on from memory, past the credential cache's second.
    time.sleep(1.2)
    for number, blocked in (("9876543210", True), ("9123456780", False)):
        check = httpx.get(f"{server.url}/v1/check/{number}", headers=headers, timeout=10)
        assert (check.status_code, check.json()["blocked"]) == (200, blocked)

    proxy.restore()
    _eventually(lambda: httpx.get(f"{server.url}/readyz", timeout=10).status_code == 200, 10)
    after = httpx.post(f"{server.url}/v1/groups", json={"name": "After"}, headers=headers)
    assert after.status_code == 201
    names = [
        g["name"] for g in httpx.get(f"{server.url}/v1/groups", headers=headers).json()["data"]
    ]
    assert names == ["Before", "After"]  # the refused write left nothing
