"""The service's secret key: configured (``CALLBLOCK_SECRET_KEY``), or generated once and kept
in the database, so that every worker and node shares it. What it signs (API tokens, change
feed tokens) derives keys of its own from it."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from datetime import datetime

from callblock.store import Store
from callblock.store import credentials as credential_rows

# The name it is kept under: it first signed API tokens alone, and stored secrets keep their
# names.
_STORED_NAME = "token_signing_key"


class ServerSecret:
    def __init__(self, store: Store, clock: Callable[[], datetime], configured: str | None) -> None:
        self._store = store
        self._clock = clock
        self._value = configured
        self._lock = threading.Lock()

    def value(self) -> str:
        """The secret: the configured one, or the one kept in the database (made by whichever
        process asks first)."""
        with self._lock:
            if self._value is None:
                with self._store.write() as conn:
                    self._value = credential_rows.server_secret(
                        conn, _STORED_NAME, secrets.token_urlsafe(48), self._clock()
                    )
            return self._value
