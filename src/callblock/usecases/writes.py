"""The one path every write takes.

A use case hands ``Writer.write`` a function of the open transaction that does its work and
returns its answer with a ``Draft`` of what it changed (None: nothing changed). The writer:

1. takes the account's write lock first (``store.accounts.hold_for_write``), so writers of
   one account queue in one order: no deadlock between them, and what a write reads before
   writing (is this number there already?) is still true when it commits;
2. runs the work; if it changed something, numbers the change with the account's next
   version and records it once, in the same transaction: the change log (every key) and the
   audit event (a sample);
3. after commit, applies the same ``Change`` to this process's check index;
4. runs the whole transaction again, a bounded number of times, when the database refuses
   it as conflicting (deadlock, serialization failure): the work is a function, not a block,
   so that it can.

A write that bypasses this module cannot bump the version, audit or reach the index: the
queries that do so are only called from here.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

from sqlalchemy import Connection

from callblock.change import Change, Draft
from callblock.domain import Action, Actor, DomainError, WriteConflict
from callblock.store import Store, wakeups
from callblock.store import accounts as account_rows
from callblock.store import audit as audit_rows
from callblock.store import changes as change_rows
from callblock.timestamps import micros

R = TypeVar("R")
Clock = Callable[[], datetime]
Work = Callable[[Connection, datetime], tuple[R, Draft | None]]

# A conflict is retried this many times in all, after a short random pause that doubles.
WRITE_ATTEMPTS = 5
_FIRST_PAUSE_S = 0.005
# How often a process prunes the change log (after one of its writes).
PRUNE_INTERVAL_S = 60.0
DEFAULT_RETENTION = timedelta(days=7)
log = logging.getLogger("callblock.writes")


class ChangeApplier(Protocol):
    def apply(self, change: Change) -> None: ...


class Writer:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        index: ChangeApplier,
        retention: timedelta = DEFAULT_RETENTION,
    ) -> None:
        self._store = store
        self._clock = clock
        self._index = index
        self._retention = retention
        # Not at a process's first write: a one-shot CLI command (an import) would pay for a
        # prune transaction of its own. Servers live long enough to prune once a minute.
        self._pruned_at = time.monotonic()
        self._prune_lock = threading.Lock()

    def write(self, actor: Actor, work: Work[R]) -> R:
        """Run ``work`` as one write of the actor's account (see the module's docstring)."""
        account_id = actor.account.id
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            try:
                with self._store.write() as conn:
                    account_rows.hold_for_write(conn, account_id)
                    now = self._clock()  # after the lock: times follow versions
                    result, draft = work(conn, now)
                    change = None if draft is None else _record(conn, actor, draft, now)
            except WriteConflict:
                if attempt == WRITE_ATTEMPTS:
                    raise
                log.info("a write conflicted with another; running it again (%d)", attempt)
                time.sleep(random.uniform(0, _FIRST_PAUSE_S * 2**attempt))
                continue
            if change is not None:
                self._index.apply(change)
                self._prune_now_and_then()
            return result
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _prune_now_and_then(self) -> None:
        """Prune changes older than the retention, at most once a PRUNE_INTERVAL_S per process,
        after one of its writes."""
        with self._prune_lock:
            due = time.monotonic() - self._pruned_at >= PRUNE_INTERVAL_S
            if not due:
                return
            self._pruned_at = time.monotonic()
        self.prune()

    def prune(self) -> int:
        """Delete changes older than the retention now; return how many went."""
        before = micros(self._clock() - self._retention)
        try:
            with self._store.write() as conn:
                return change_rows.prune(conn, before)
        except DomainError as exc:  # the write itself is done; pruning waits for next time
            log.warning("the change log was not pruned: %s", exc)
            return 0


def _record(conn: Connection, actor: Actor, draft: Draft, now: datetime) -> Change:
    """Number the change and record it: the version, the change log, the audit event."""
    change = Change(
        account_id=actor.account.id,
        version=account_rows.bump_data_version(conn, actor.account.id),
        at=now,
        key_id=actor.key_id,
        surface=actor.surface,
        draft=draft,
    )
    change_rows.record(conn, change)
    wakeups.announce(conn, change.account_id)
    audit_rows.record_audit(
        conn,
        at=now,
        account_id=change.account_id,
        key_id=change.key_id,
        surface=change.surface.value,
        action=change.action.value,
        group_id=change.group_id,
        numbers=change.sample(),
        count=change.count,
        detail=dict(draft.detail) or None,
    )
    return change


def record_account_event(
    conn: Connection, actor: Actor, action: Action, now: datetime, detail: dict[str, object]
) -> None:
    """Audit an event of the account that changes nothing its checks read (an API key issued
    or revoked): in the history, with no version and no entry in the change log."""
    audit_rows.record_audit(
        conn,
        at=now,
        account_id=actor.account.id,
        key_id=actor.key_id,
        surface=actor.surface.value,
        action=action.value,
        group_id=None,
        numbers=[],
        count=0,
        detail=detail,
    )
