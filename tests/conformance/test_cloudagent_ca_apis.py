"""The ca_apis conformance vectors (tokens, both authentication modes), replayed in-process."""

from __future__ import annotations

import httpx
import pytest

from callblock.domain import AuthMode
from callblock.http.app import create_app
from callblock.service import Service
from callblock.settings import Settings
from callblock.store import Store
from tests.conformance.runner import accounts_of, load_file, run_file
from tests.conftest import UNLIMITED_FAILURES
from tests.helpers import Credentials, FakeClock

VECTORS = "cloudagent-ca-apis.json"


def prepare_accounts(service: Service, accounts: dict[str, str]) -> dict[str, Credentials]:
    credentials = {}
    for username, mode in accounts.items():
        credentials[username] = Credentials(username, service.create_account(username).key)
        service.set_auth_mode(username, AuthMode(mode))
    return credentials


@pytest.mark.anyio
async def test_every_ca_apis_vector_passes_in_process(
    store: Store, clock: FakeClock, database_url: str
) -> None:
    secret = load_file(VECTORS)["secret_key"]
    # The vectors send over ten wrong credentials for one user in a row, on purpose.
    service = Service(
        store, clock=clock, secret_key=secret, auth_failures_allowed=UNLIMITED_FAILURES
    )
    accounts = prepare_accounts(service, accounts_of(VECTORS))
    app = create_app(Settings(database_url=database_url, secret_key=secret), service=service)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://callblock.test") as client:
        assert await run_file(client, VECTORS, accounts) == 60
