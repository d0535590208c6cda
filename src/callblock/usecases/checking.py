"""Checks, answered from this process's memory, and the index that answers them.

One ``AccountIndex`` per account, opened on first use (or all at start) from the node's
snapshot file caught up from the change log, or built from the store when there is no valid
snapshot. It is brought forward by this process's own writes (``apply``: the committed
``Change``) and by the refresher (``refresh``), which follows the change log from the index's
version and applies each change in time proportional to the change, and tells the credential
cache about accounts whose keys or settings moved. A gap in the log (changes pruned before
this process read them) resets the index from the store, with a metric and a log line.

One lock: index opens, applies, merges and resets; checks read without it (see ``index``).
"""

from __future__ import annotations

import ctypes
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from callblock import metrics, snapshots
from callblock.change import Change
from callblock.domain import (
    NOT_A_NUMBER,
    WITHHELD_CALLER_IDS,
    Account,
    Action,
    Actor,
    Direction,
    Match,
    number_text,
)
from callblock.index import (
    AccountIndex,
    BatchTally,
    IndexedCampaign,
    IndexedGroup,
    Int64s,
    index_from_snapshot,
    load,
    snapshot_parts,
)
from callblock.numbers import InvalidNumber, normalise, normalise_batch
from callblock.store import Store, wakeups
from callblock.store import accounts as account_rows
from callblock.store import campaigns as campaign_rows
from callblock.store import changes as change_rows
from callblock.store import credentials as credential_rows
from callblock.store import entries as entry_rows
from callblock.store import groups as group_rows
from callblock.timestamps import micros
from callblock.usecases.results import BatchCheck, CheckResult

log = logging.getLogger("callblock.index")


@dataclass(frozen=True, slots=True)
class BatchHits:
    """A batch's inputs read and matched: the index that answered, each input's E.164 form
    (None where not a number, or a withheld caller ID the account blocks), the matching
    groups of each, and the positions of those withheld caller IDs."""

    index: AccountIndex
    numbers: list[str | None]
    keys: Int64s  # each number's E.164 digits as an integer; -1 where there is none
    groups: list[list[int]]
    withheld: set[int]
    tally: BatchTally | None = None  # the entries that matched, when asked for


# A change upserting or removing more entries than this is merged with the base into a new
# one by array operations (and a new snapshot) instead of going entry by entry into the
# overlay, where each entry costs a dict slot. (A deleted group is dropped whole, however
# many entries it had: its entries stop matching at once and leave at the next merge.)
APPLY_LIMIT = 100_000
FOLLOW_PAGE = 200  # changes read from the log at a time
# Changes that replace entries (a group by a file, a change list): applied to a new index
# swapped in whole, never entry by entry into the index checks are reading.
_WHOLE = frozenset({Action.REPLACE, Action.CHANGE_LIST})


class Checker:
    def __init__(
        self,
        store: Store,
        clock: Callable[[], datetime],
        credentials_moved: Callable[[int], None],
        snapshot_dir: Path | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._credentials_moved = credentials_moved
        # The node's snapshot files (None: the index is built in this process's memory).
        self._snapshot_dir = snapshot_dir
        self._store_id: str | None = None
        # Set when another process announces a write (PostgreSQL): the refresher wakes early.
        self._woken = threading.Event()
        self._listener = wakeups.Listener(store.engine, self._woken.set)
        self._indexes: dict[int, AccountIndex] = {}
        self._auth_versions: dict[int, int] = {}
        self._lock = threading.RLock()
        self.loaded = False
        self.refreshed_at: float | None = None  # monotonic

    # --- checks --------------------------------------------------------------------------

    def check(self, actor: Actor, raw: str, direction: Direction | None) -> CheckResult:
        """Is ``raw`` blocked for this account now? Answered from memory, never the store."""
        account = actor.account
        if (
            direction is Direction.INBOUND
            and account.block_anonymous
            and raw.strip().lower() in WITHHELD_CALLER_IDS
        ):
            rule = Match(None, None, raw.strip().lower(), None, "block_anonymous")
            metrics.CHECKED_BLOCKED.inc()
            return CheckResult(raw, None, [rule])
        try:
            e164 = normalise(raw, account.region)
        except InvalidNumber:
            metrics.CHECKED_INVALID.inc()
            return CheckResult(raw, None, [], error=NOT_A_NUMBER)
        index = self.index_of(account.id)
        matches = index.matches(e164, direction, micros(self._clock()))
        (metrics.CHECKED_BLOCKED if matches else metrics.CHECKED_NOT_BLOCKED).inc()
        return CheckResult(raw, e164, matches)

    def check_many(
        self,
        actor: Actor,
        inputs: Sequence[object],
        direction: Direction | None,
        tallied: bool = False,
    ) -> BatchCheck:
        """Check every input, in order; answered from memory like ``check``. ``tallied``:
        the answer also says which entries matched (``BatchCheck.tally``), for counting."""
        now = micros(self._clock())
        hits = self.batch_hits(actor.account, inputs, direction, now, tallied=tallied)
        groups, withheld, parsed = hits.groups, hits.withheld, hits.numbers
        blocked = len(groups) - groups.count([]) + len(withheld)  # counted in C
        invalid = parsed.count(None) - len(withheld)
        metrics.CHECKED_BLOCKED.inc(blocked)
        metrics.CHECKED_INVALID.inc(invalid)
        metrics.CHECKED_NOT_BLOCKED.inc(len(inputs) - blocked - invalid)
        return BatchCheck(inputs, parsed, groups, withheld, hits.keys, hits.tally, blocked, invalid)

    def batch_hits(
        self,
        account: Account,
        inputs: Sequence[object],
        direction: Direction | None,
        now: int,
        among: Callable[[AccountIndex], frozenset[int]] | None = None,
        *,
        tallied: bool = False,
    ) -> BatchHits:
        """Each input read as a number and matched against the groups a plain check counts
        (or the groups ``among`` picks from the index), in input order."""
        index = self.index_of(account.id)
        if set(map(type, inputs)) <= {str}:
            texts: Sequence[str] = inputs  # type: ignore[assignment]  # checked just above
        else:
            texts = [item if type(item) is str else number_text(item) or "" for item in inputs]
        parsed, keys = normalise_batch(texts, account.region)
        withheld: set[int] = set()
        if direction is Direction.INBOUND and account.block_anonymous:
            withheld = {
                i
                for i, (item, text) in enumerate(zip(inputs, texts, strict=True))
                if isinstance(item, str) and text.strip().lower() in WITHHELD_CALLER_IDS
            }
            for position in withheld:
                parsed[position] = None
                keys[position] = -1
        wanted = None if among is None else among(index)
        tally = BatchTally() if tallied else None
        groups = index.blocking_groups(parsed, direction, now, keys, wanted, tally)
        return BatchHits(index, parsed, keys, groups, withheld, tally)

    def group_names(self, actor: Actor) -> dict[int, str]:
        """The account's group names by id, from the index (no database round trip)."""
        return {g.id: g.name for g in self.index_of(actor.account.id).groups.values()}

    # --- the index -----------------------------------------------------------------------

    def listen(self) -> None:
        """Be woken by other processes' writes (PostgreSQL), on top of polling."""
        self._listener.start()

    def stop_listening(self) -> None:
        self._listener.stop()

    def wait_for_writes(self, timeout: float) -> None:
        """Until another process announces a write, or ``timeout`` seconds: then refresh."""
        self._woken.wait(timeout)
        self._woken.clear()  # before the refresh: an announcement during it wakes the next wait

    def load_all(self) -> None:
        """Load every account's index (at start); readiness waits for this."""
        self.refresh(load_all=True)
        self.loaded = True

    def refresh(self, *, load_all: bool = False) -> int:
        """Bring every loaded account's index up to the store by following the change log,
        and tell the credential cache of every account whose keys or settings moved.

        Returns how many accounts moved. Called by the refresher every
        ``index_refresh_seconds``: with the time to apply what it finds, the bound on how
        late another process's write is seen.
        """
        with self._store.read() as conn:
            versions = account_rows.versions(conn)
        moved = 0
        for account_id, (data_version, auth_version) in versions.items():
            seen = self._auth_versions.get(account_id)
            if seen is not None and seen != auth_version:
                self._credentials_moved(account_id)
            self._auth_versions[account_id] = auth_version
            current = self._indexes.get(account_id)
            if current is None and load_all:
                self._open(account_id)
                moved += 1
            elif current is not None and current.version > data_version:
                self._reset(account_id, "store_behind")  # a store restored from a backup
                moved += 1
            elif current is not None and current.version < data_version:
                self._follow(account_id, data_version)
                moved += 1
        for gone in set(self._indexes) - set(versions):
            self._indexes.pop(gone, None)
        for account_id in list(self._indexes):
            self._fold_if_due(account_id)
        self.refreshed_at = time.monotonic()
        return moved

    def apply(self, change: Change) -> None:
        """Bring this process's index up to ``change.version`` after its own committed write
        (so a process reads its own writes at once)."""
        with self._lock:
            index = self._indexes.get(change.account_id)
            if index is None or index.version >= change.version:
                return  # not loaded here (loads when first checked), or already newer
            if index.version == change.version - 1:
                self._apply_one(change.account_id, index, change)
            else:  # another process wrote in between: the log has both, in order
                self._follow(change.account_id, change.version)

    def store_reachable(self) -> bool:
        try:
            with self._store.read() as conn:
                account_rows.ping(conn)
        except Exception:  # whatever the failure, the answer is "not reachable"
            return False
        return True

    def entries(self) -> int:
        """Exact numbers held by this process's check index, over every account."""
        return sum(index.numbers.size for index in list(self._indexes.values()))

    def has_index(self, account_id: int) -> bool:
        return account_id in self._indexes

    def index_of(self, account_id: int) -> AccountIndex:
        index = self._indexes.get(account_id)
        if index is None:
            index = self._open(account_id)
        return index

    # --- following the change log ----------------------------------------------------------

    def _follow(self, account_id: int, target: int) -> None:
        """Apply the account's changes from the log, in order, up to ``target`` at least;
        a gap (pruned changes, or a store that went back) resets the index instead."""
        with self._lock:
            index = self._indexes.get(account_id)
            if index is None:
                return
            while index.version < target:
                with self._store.read() as conn:
                    page = change_rows.changes_after(
                        conn, account_id, index.version, limit=FOLLOW_PAGE
                    )
                    newest = account_rows.data_version(conn, account_id) or 0
                if newest < index.version:
                    self._reset(account_id, "store_behind")
                    return
                if not page:
                    if newest > index.version:  # moved, yet nothing logged after us
                        self._reset(account_id, "retention")
                    return
                for change in page:
                    if change.version <= index.version:
                        continue  # in a snapshot another worker wrote, adopted just now
                    if change.version != index.version + 1:
                        self._reset(account_id, "gap" if index.version else "retention")
                        return
                    index = self._apply_one(account_id, index, change)
                target = max(target, min(newest, page[-1].version))

    def _apply_one(self, account_id: int, index: AccountIndex, change: Change) -> AccountIndex:
        """Apply one change (exactly one version ahead): into the overlay when small, else
        merged into a new base, shared with the node's other workers through its snapshot."""
        touched = len(change.draft.upserted) + len(change.draft.removed)
        if touched <= APPLY_LIMIT:
            if change.action not in _WHOLE:
                index.apply(change)
                return index
            # Seen whole or not at all: entry by entry into the index checks read, a check
            # could meet the new entries before the old ones are gone. So into a copy (the
            # base shared), swapped in at once.
            whole = index.copied()
            whole.apply(change)
            self._indexes[account_id] = whole
            return whole
        path = self._snapshot_path(account_id)
        if path is None:
            merged = index.applied_in_bulk(change, micros(self._clock()))
        else:
            with snapshots.locked(path):
                adopted = self._adopt(account_id, path, at_least=change.version)
                if adopted is not None:
                    self._indexes[account_id] = adopted
                    return adopted
                merged = index.applied_in_bulk(change, micros(self._clock()))
                merged = self._saved(account_id, path, merged)
                _release_freed_memory()
        self._indexes[account_id] = merged
        return merged

    def _fold_if_due(self, account_id: int) -> None:
        """Fold an overlay grown big into a new base (and snapshot), off the check path."""
        with self._lock:
            index = self._indexes.get(account_id)
            if index is None or not index.numbers.needs_merge():
                return
            path = self._snapshot_path(account_id)
            if path is None:
                folded = index.rebased(index.folded(micros(self._clock())), index.version)
            else:
                with snapshots.locked(path):
                    adopted = self._adopt(account_id, path, at_least=index.base_version + 1)
                    if adopted is not None:
                        self._indexes[account_id] = adopted
                        self._follow(account_id, index.version)
                        return
                    base = index.folded(micros(self._clock()))
                    folded = self._saved(account_id, path, index.rebased(base, index.version))
                    _release_freed_memory()
            self._indexes[account_id] = folded

    # --- opening, resetting and snapshots ----------------------------------------------------

    def _open(self, account_id: int) -> AccountIndex:
        """The account's index: its node's snapshot caught up from the log when there is a
        valid one, else built from the store (and saved as the node's snapshot)."""
        with self._lock:
            path = self._snapshot_path(account_id)
            if path is None:
                return self._reset(account_id, "start")
            with snapshots.locked(path):
                # Workers starting together queue here: the first builds, the rest map it.
                adopted = self._adopt(account_id, path, at_least=0)
                if adopted is None:
                    return self._rebuilt(account_id, "start", path)
            self._indexes[account_id] = adopted
            with self._store.read() as conn:
                newest = account_rows.data_version(conn, account_id) or 0
            self._follow(account_id, newest)
            return self._indexes[account_id]

    def _reset(self, account_id: int, reason: str) -> AccountIndex:
        """Rebuild the account's index from the store, in one read; the node's other workers,
        meeting the same gap, map what the first of them built."""
        with self._lock:
            path = self._snapshot_path(account_id)
            if path is None:
                return self._rebuilt(account_id, reason, None)
            with snapshots.locked(path):
                with self._store.read() as conn:
                    newest = account_rows.data_version(conn, account_id) or 0
                adopted = self._adopt(account_id, path, at_least=newest)
                if adopted is None:
                    return self._rebuilt(account_id, reason, path)
            self._indexes[account_id] = adopted
            return adopted

    def _rebuilt(self, account_id: int, reason: str, path: Path | None) -> AccountIndex:
        """The index built from the store (saved at ``path``, whose lock the caller holds)."""
        if reason != "start":
            log.warning("index of account %s reset from the store: %s", account_id, reason)
        metrics.INDEX_RESETS.labels(reason).inc()
        now = self._clock()
        with self._store.read() as conn:
            version = account_rows.data_version(conn, account_id) or 0
            groups = [
                IndexedGroup(g.id, g.name, g.direction, g.kind, g.scope, g.consent_overrides)
                for g in group_rows.groups_of_account(conn, account_id)
            ]
            campaigns = [
                IndexedCampaign(c.id, c.name, c.window, c.group_ids)
                for c in campaign_rows.campaigns_of_account(conn, account_id)
            ]
            index = load(
                version,
                groups,
                entry_rows.active_number_keys(conn, account_id, now),
                entry_rows.active_prefixes(conn, account_id, now),
                campaigns,
            )
        if path is not None:
            index = self._saved(account_id, path, index)
            _release_freed_memory()
        self._indexes[account_id] = index
        return index

    def _adopt(self, account_id: int, path: Path, at_least: int) -> AccountIndex | None:
        """The index in the node's snapshot when it is valid, of this store and account, not
        ahead of the store, and at ``at_least``; None otherwise (a refused file is said)."""
        try:
            snapshot = snapshots.read(path, self._identity(account_id))
        except FileNotFoundError:
            return None
        except snapshots.Refused as refused:
            log.warning("snapshot not used, rebuilt: %s", refused)
            metrics.SNAPSHOTS_REFUSED.labels(refused.reason).inc()
            return None
        if snapshot.version < at_least:
            return None
        with self._store.read() as conn:
            newest = account_rows.data_version(conn, account_id) or 0
        if snapshot.version > newest:
            log.warning("snapshot %s is ahead of its store (%s); rebuilt", path, newest)
            metrics.SNAPSHOTS_REFUSED.labels("ahead").inc()
            return None
        return index_from_snapshot(snapshot)

    def _saved(self, account_id: int, path: Path, index: AccountIndex) -> AccountIndex:
        """Write ``index`` (no overlay) as the node's snapshot and map it back, so its pages
        are the file's, shared with the node's other workers."""
        try:
            snapshots.write(path, self._identity(account_id), index.version, *snapshot_parts(index))
        except OSError as exc:  # a full disk: serve from this process's memory meanwhile
            log.warning("snapshot %s not written, index kept in memory: %s", path, exc)
            return index
        snapshot = snapshots.read(path, self._identity(account_id))
        return index_from_snapshot(snapshot)

    def _snapshot_path(self, account_id: int) -> Path | None:
        if self._snapshot_dir is None:
            return None
        directory = self._snapshot_dir / self._store_identity()
        try:
            directory.mkdir(parents=True, exist_ok=True)
            if not os.access(directory, os.W_OK):
                raise PermissionError(f"{directory} is not writable")
        except OSError as exc:
            log.warning("no index directory (%s): each process keeps its own index", exc)
            self._snapshot_dir = None
            return None
        return directory / f"account-{account_id}.snapshot"

    def _identity(self, account_id: int) -> dict[str, Any]:
        return {"store": self._store_identity(), "account": account_id}

    def _store_identity(self) -> str:
        if self._store_id is None:
            with self._store.write() as conn:
                self._store_id = credential_rows.server_secret(
                    conn, "store_identity", uuid.uuid4().hex, self._clock()
                )
        return self._store_id


def _release_freed_memory() -> None:
    """Give the heap freed by a build or a merge back to the operating system.

    Building a base reads the store in chunks of a few MB; glibc keeps what such chunks leave
    behind for reuse, which in a worker that built a 10**8-entry base was 13 bytes an entry
    for good, against the 9 the base itself takes in the shared file."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc: nothing to ask
        return
    libc.malloc_trim(0)
