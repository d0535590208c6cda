"""When each API key was last used, kept without making any request wait for it.

A key is noted as used when the store confirms it (``Authenticator._verify_key``): once per
request for a key this process does not know, and about once a second for a key in constant
use (the credential cache asks the store again that often). The times go to the store from a
thread of their own, the first at once and then at most once a FLUSH_SECONDS: a request never
waits on that write, and a store that is busy or away only makes "last used" late.
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
FLUSH_THREAD = "key-use"

log = logging.getLogger(__name__)


class KeyUse:
    def __init__(self, store: Store, clock: Callable[[], datetime]) -> None:
        self._store = store
        self._clock = clock
        self._lock = threading.Lock()
        self._pending: dict[int, datetime] = {}
        self._flushed_at = -FLUSH_SECONDS  # monotonic: the first use is written at once
        self._flushing = False

    def note(self, key_id: int) -> None:
        """The key was used now; written soon, by another thread."""
        with self._lock:
            self._pending[key_id] = self._clock()
            due = time.monotonic() - self._flushed_at >= FLUSH_SECONDS
            if not due or self._flushing:
                return
            self._flushing = True
            self._flushed_at = time.monotonic()
        threading.Thread(target=self._flush, name=FLUSH_THREAD, daemon=True).start()

    def _flush(self) -> None:
        with self._lock:
            used, self._pending = self._pending, {}
        try:
            with self._store.write() as conn:
                credential_rows.mark_keys_used(conn, used)
        except Exception as exc:  # away, busy, or gone with its process: never a request's
            # problem. The times wait for the next flush.
            log.info("when keys were last used is not written yet: %s", exc)
            with self._lock:
                for key_id, at in used.items():
                    self._pending.setdefault(key_id, at)
        finally:
            with self._lock:
                self._flushing = False
