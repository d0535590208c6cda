"""When each API key was last used, kept without making any request wait for it.

A key is noted as used, in memory, when the store confirms it (``Authenticator._verify_key``):
once per request for a key this process does not know, and about once a second for a key in
constant use (the credential cache asks the store again that often). The process's refresher
(``http.app``), which already wakes twice a second, writes the times down: the first at once,
then at most once a FLUSH_SECONDS. A request never waits on that write, and a store that is
busy or away only makes "last used" late.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime

from callblock.store import Store
from callblock.store import credentials as credential_rows

FLUSH_SECONDS = 60.0

log = logging.getLogger(__name__)


class KeyUse:
    def __init__(self, store: Store, clock: Callable[[], datetime]) -> None:
        self._store = store
        self._clock = clock
        self._lock = threading.Lock()
        self._pending: dict[int, datetime] = {}
        self._flushed_at = -FLUSH_SECONDS  # monotonic: the first use is written at once

    def note(self, key_id: int) -> None:
        """The key was used now (written by the next due ``flush``)."""
        with self._lock:
            self._pending[key_id] = self._clock()

    def flush(self, *, due_only: bool = True) -> int:
        """Write the times noted since the last flush, if a flush is due (or always, with
        ``due_only`` False); how many keys were written."""
        with self._lock:
            if not self._pending:
                return 0
            if due_only and time.monotonic() - self._flushed_at < FLUSH_SECONDS:
                return 0
            used, self._pending = self._pending, {}
            self._flushed_at = time.monotonic()
        try:
            with self._store.write() as conn:
                credential_rows.mark_keys_used(conn, used)
        except Exception as exc:  # away, busy, anything: never a request's problem. The
            # times wait for the next flush.
            log.info("when keys were last used is not written yet: %s", exc)
            with self._lock:
                for key_id, at in used.items():
                    self._pending.setdefault(key_id, at)
            return 0
        return len(used)
