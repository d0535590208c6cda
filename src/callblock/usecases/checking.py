"""Checks, answered from this process's memory, and the index that answers them.

One ``AccountIndex`` per account, loaded on first use (or all at start), brought forward by
this process's own writes (``apply``: the committed ``Change``) and by the refresher
(``refresh``), which reloads any account whose change counter moved elsewhere and tells the
credential cache about accounts whose keys or settings moved. One lock: index loads and
applies; checks read without it (see ``index``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime

from callblock import metrics
from callblock.change import Change
from callblock.domain import (
    NOT_A_NUMBER,
    WITHHELD_CALLER_IDS,
    Actor,
    Direction,
    Match,
    number_text,
)
from callblock.index import AccountIndex, IndexedGroup, load
from callblock.numbers import InvalidNumber, normalise, normalise_batch
from callblock.store import Store
from callblock.store import accounts as account_rows
from callblock.store import entries as entry_rows
from callblock.store import groups as group_rows
from callblock.timestamps import micros
from callblock.usecases.results import BatchCheck, CheckResult

# A change upserting or removing more entries than this reloads the account's index instead
# of being applied entry by entry: reading the arrays once is cheaper than merging that many.
# (A deleted group is dropped whole, however many entries it had.)
APPLY_LIMIT = 100_000


class Checker:
    def __init__(
        self,
        store: Store,
        clock: Callable[[], datetime],
        credentials_moved: Callable[[int], None],
    ) -> None:
        self._store = store
        self._clock = clock
        self._credentials_moved = credentials_moved
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
        self, actor: Actor, inputs: Sequence[object], direction: Direction | None
    ) -> BatchCheck:
        """Check every input, in order; answered from memory like ``check``."""
        account = actor.account
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
        groups = index.blocking_groups(parsed, direction, micros(self._clock()), keys)
        blocked = len(groups) - groups.count([]) + len(withheld)  # counted in C
        invalid = parsed.count(None) - len(withheld)
        metrics.CHECKED_BLOCKED.inc(blocked)
        metrics.CHECKED_INVALID.inc(invalid)
        metrics.CHECKED_NOT_BLOCKED.inc(len(inputs) - blocked - invalid)
        return BatchCheck(inputs, parsed, groups, withheld)

    def group_names(self, actor: Actor) -> dict[int, str]:
        """The account's group names by id, from the index (no database round trip)."""
        return {g.id: g.name for g in self.index_of(actor.account.id).groups.values()}

    # --- the index -----------------------------------------------------------------------

    def load_all(self) -> None:
        """Load every account's index (at start); readiness waits for this."""
        self.refresh(load_all=True)
        self.loaded = True

    def refresh(self, *, load_all: bool = False) -> int:
        """Reload the index of every loaded account whose change counter moved elsewhere, and
        tell the credential cache of every account whose keys or settings moved.

        Returns how many accounts were reloaded. Called by the refresher every
        ``index_refresh_seconds``: the bound on how late another process's write is seen.
        """
        with self._store.read() as conn:
            versions = account_rows.versions(conn)
        reloaded = 0
        for account_id, (data_version, auth_version) in versions.items():
            seen = self._auth_versions.get(account_id)
            if seen is not None and seen != auth_version:
                self._credentials_moved(account_id)
            self._auth_versions[account_id] = auth_version
            current = self._indexes.get(account_id)
            if (current is None and load_all) or (
                current is not None and current.version != data_version
            ):
                self._reload(account_id)
                reloaded += 1
        for gone in set(self._indexes) - set(versions):
            self._indexes.pop(gone, None)
        self.refreshed_at = time.monotonic()
        return reloaded

    def apply(self, change: Change) -> None:
        """Bring this process's index up to ``change.version`` after its own committed write."""
        with self._lock:
            index = self._indexes.get(change.account_id)
            if index is None or index.version >= change.version:
                return  # not loaded here (loads when first checked), or already newer
            touched = len(change.draft.upserted) + len(change.draft.removed)
            if index.version == change.version - 1 and touched <= APPLY_LIMIT:
                index.apply(change)
            else:  # another process wrote in between, or the change is too big to merge
                self._reload(change.account_id)

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
            index = self._reload(account_id)
        return index

    def _reload(self, account_id: int) -> AccountIndex:
        with self._lock:
            now = self._clock()
            with self._store.read() as conn:
                version = account_rows.data_version(conn, account_id) or 0
                groups = [
                    IndexedGroup(g.id, g.name, g.direction)
                    for g in group_rows.groups_of_account(conn, account_id)
                ]
                index = load(
                    version,
                    groups,
                    entry_rows.active_number_keys(conn, account_id, now),
                    entry_rows.active_prefixes(conn, account_id, now),
                )
            self._indexes[account_id] = index
            return index
