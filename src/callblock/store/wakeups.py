"""Wake-ups for followers of the change log, on PostgreSQL: ``NOTIFY`` in the write's own
transaction (delivered when it commits), ``LISTEN`` on a connection of its own per process.

A hint, never the source of truth: a process still polls the accounts' versions, so a lost
notification (a dropped connection, a listener restarting) only costs the polling interval.
SQLite has no such channel; there the poll is all.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy import Connection, Engine, text

from callblock.store.engine import is_sqlite

CHANNEL = "callblock_changes"
log = logging.getLogger("callblock.index")


def announce(conn: Connection, account_id: int) -> None:
    """Tell the listening processes that ``account_id`` changed, once this commits."""
    if conn.dialect.name == "postgresql":
        conn.execute(
            text("SELECT pg_notify(:channel, :account)"),
            {
                "channel": CHANNEL,
                "account": str(account_id),
            },
        )


class Listener:
    """A thread that calls ``woken`` whenever another process announces a change."""

    def __init__(self, engine: Engine, woken: Callable[[], None]) -> None:
        self._engine = engine
        self._woken = woken
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="change-listener", daemon=True)

    @property
    def available(self) -> bool:
        return not is_sqlite(self._engine)

    def start(self) -> None:
        if self.available:
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._listen()
            except Exception as exc:  # the poll goes on meanwhile; try again shortly
                log.info("change notifications unavailable, polling only: %s", exc)
                self._stop.wait(5)

    def _listen(self) -> None:
        raw = self._engine.raw_connection()
        try:
            connection = raw.driver_connection
            assert connection is not None
            connection.autocommit = True
            connection.execute(f"LISTEN {CHANNEL}")
            while not self._stop.is_set():
                # Wakes at least once a second to see whether it should stop.
                for _ in connection.notifies(timeout=1.0):
                    self._woken()
        finally:
            raw.invalidate()  # never back to the pool: it is in autocommit and listening
