"""Checks counted in memory on the hot path, and written to the store by each process every
few seconds as additive upserts, so any number of workers and nodes add up.

A check costs a dict update under a lock: its account, its minute, its campaign (0 for none),
its outcome, and the groups it matched. A batch check costs one such update for its totals,
and a reference to its answers; what each group and entry matched is worked out when the
counts are flushed, off the request's path. A process killed with -9 loses what it counted
since its last flush (``stats_flush_seconds``); a process that stops cleanly flushes first.

Each flush adds every minute's counts to its minute, hour and UTC day, so the three levels
are rolled up as they are written, exactly; ``prune`` keeps each level its own number of days.
Entries: the day each matched is marked (a day per entry, in bulk; once per process and day
for a batch's), and single checks count their hits, for the entries that stop the most calls.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from callblock.domain import Match
from callblock.index import BatchTally, Int64s
from callblock.numbers import PREFIX_MARK, pattern_key
from callblock.store import Store
from callblock.store import stats as stat_rows
from callblock.store.stats import LEVEL_SECONDS, CountRow

log = logging.getLogger("callblock.stats")

ALLOWED, BLOCKED, INVALID = 0, 1, 2
_MINUTE_US = 60_000_000
_DAY_US = 86_400_000_000


@dataclass(slots=True)
class _Totals:
    checks: int = 0
    blocked: int = 0
    invalid: int = 0
    matched: Counter[int] = field(default_factory=Counter)  # group id → checks it matched


@dataclass(frozen=True, slots=True)
class _Batch:
    """A batch check's answers, kept by reference until the flush (never changed)."""

    account_id: int
    minute: int
    campaign_id: int
    numbers: Sequence[str | None]
    group_ids: Callable[[], Sequence[Sequence[int]]]  # each number's matching groups


@dataclass(frozen=True, slots=True)
class _TalliedBatch:
    """A plain batch check's matches as the index told them (array operations at flush)."""

    account_id: int
    minute: int
    keys: Int64s
    tally: BatchTally


Marks = dict[tuple[int, int, int], Int64s]  # (account, group, day) → keys of entries matched


@dataclass(frozen=True, slots=True)
class Retention:
    """How many days each level's buckets are kept, and entries' match days."""

    minute_days: int = 2
    hour_days: int = 90
    day_days: int = 800


class CheckTally:
    """What this process counted since its last flush."""

    def __init__(self, prefixes_of: Callable[[int], dict[str, tuple[tuple[int, int], ...]]]):
        # The account's prefix entries in its index ({"+91140": ((group, expiry), ...)}),
        # to tell which prefix a number matched when the flush marks its entry's day.
        self._prefixes_of = prefixes_of
        self._lock = threading.Lock()
        self._totals: dict[tuple[int, int, int], _Totals] = {}
        self._hits: Counter[tuple[int, int, int, int]] = Counter()  # account, group, key, day
        self._batches: list[_Batch] = []
        self._tallied: list[_TalliedBatch] = []
        # The entries' days this process has written, per (group, day): sorted keys.
        self._marked: dict[tuple[int, int], Int64s] = {}
        self._unwritten: Marks = {}  # marks a failed flush kept for the next
        self._flush_lock = threading.Lock()

    # --- the hot path ----------------------------------------------------------------------

    def single(
        self, account_id: int, campaign_id: int, now_us: int, outcome: int, matches: Sequence[Match]
    ) -> None:
        """One check answered: its outcome, and the entries that matched it."""
        minute = now_us // _MINUTE_US
        day = now_us // _DAY_US
        with self._lock:
            totals = self._totals.get((account_id, minute, campaign_id))
            if totals is None:
                totals = self._totals[(account_id, minute, campaign_id)] = _Totals()
            totals.checks += 1
            if outcome == BLOCKED:
                totals.blocked += 1
            elif outcome == INVALID:
                totals.invalid += 1
            for match in matches:
                if match.group_id is not None:
                    totals.matched[match.group_id] += 1
                    key = pattern_key(match.pattern)
                    self._hits[(account_id, match.group_id, key, day)] += 1

    def batch(
        self,
        account_id: int,
        campaign_id: int,
        now_us: int,
        *,
        blocked: int,
        invalid: int,
        numbers: Sequence[str | None],
        group_ids: Callable[[], Sequence[Sequence[int]]],
    ) -> None:
        """A batch answered: its totals now, its groups and entries at the flush."""
        minute = now_us // _MINUTE_US
        with self._lock:
            totals = self._totals.get((account_id, minute, campaign_id))
            if totals is None:
                totals = self._totals[(account_id, minute, campaign_id)] = _Totals()
            totals.checks += len(numbers)
            totals.blocked += blocked
            totals.invalid += invalid
            if blocked:
                self._batches.append(_Batch(account_id, minute, campaign_id, numbers, group_ids))

    def matched_batch(
        self,
        account_id: int,
        now_us: int,
        *,
        checks: int,
        blocked: int,
        invalid: int,
        keys: Int64s | None,
        tally: BatchTally | None,
    ) -> None:
        """A plain batch answered, with what the index found (``BatchTally``): its totals
        now, its groups and entries at the flush, by array operations."""
        minute = now_us // _MINUTE_US
        with self._lock:
            totals = self._totals.get((account_id, minute, 0))
            if totals is None:
                totals = self._totals[(account_id, minute, 0)] = _Totals()
            totals.checks += checks
            totals.blocked += blocked
            totals.invalid += invalid
            if blocked and keys is not None and tally is not None:
                self._tallied.append(_TalliedBatch(account_id, minute, keys, tally))

    # --- the flush -------------------------------------------------------------------------

    def flush(self, store: Store) -> int:
        """Add what was counted to the store; returns how many checks that was. On failure
        the counts are kept for the next flush."""
        with self._flush_lock:
            with self._lock:
                totals, self._totals = self._totals, {}
                hits, self._hits = self._hits, Counter()
                batches, self._batches = self._batches, []
                tallied, self._tallied = self._tallied, []
            marks: Marks = self._unwritten
            self._unwritten = {}
            try:
                self._batch_marks(batches, totals, marks)
                self._tallied_marks(tallied, totals, marks)
                new = self._unmarked(marks)
                rows = _rolled_up(totals)
                entry_rows = [(a, g, k, d, n) for (a, g, k, d), n in hits.items()]
                for (a, g, d), keys in new.items():
                    entry_rows += [(a, g, k, d, 0) for k in keys.tolist()]
                with store.write() as conn:
                    stat_rows.add_counts(conn, rows)
                    stat_rows.add_entry_hits(conn, entry_rows)
            except Exception:
                self._put_back(totals, hits)
                self._unwritten = marks
                raise
            for (_, group_id, day), keys in new.items():
                seen = self._marked.get((group_id, day))
                self._marked[(group_id, day)] = keys if seen is None else np.union1d(seen, keys)
            return sum(t.checks for t in totals.values())

    def _unmarked(self, marks: Marks) -> Marks:
        """Of the marks, those this process has not written yet; a past day's are forgotten."""
        if marks:
            today = max(day for _, _, day in marks)
            self._marked = {k: v for k, v in self._marked.items() if k[1] >= today - 1}
        new: Marks = {}
        for (account_id, group_id, day), keys in marks.items():
            seen = self._marked.get((group_id, day))
            if seen is not None and len(seen):
                # Looked up in the sorted keys already written (no sort of the batch's:
                # most of a day's matches are of entries marked already).
                keys = np.sort(keys)  # sorted, each lookup starts where the last ended
                at = np.minimum(np.searchsorted(seen, keys), len(seen) - 1)
                keys = keys[seen[at] != keys]
            keys = np.unique(keys)
            if len(keys):
                new[(account_id, group_id, day)] = keys
        return new

    def _put_back(
        self,
        totals: dict[tuple[int, int, int], _Totals],
        hits: Counter[tuple[int, int, int, int]],
    ) -> None:
        with self._lock:
            for key, counted in totals.items():
                mine = self._totals.setdefault(key, _Totals())
                mine.checks += counted.checks
                mine.blocked += counted.blocked
                mine.invalid += counted.invalid
                mine.matched.update(counted.matched)
            self._hits.update(hits)

    def _batch_marks(
        self, batches: list[_Batch], totals: dict[tuple[int, int, int], _Totals], marks: Marks
    ) -> None:
        """Count each batch's matches per group into ``totals``, and the entries' days to
        mark into ``marks`` (a campaign's batch: its answers, number by number)."""
        found: dict[tuple[int, int, int], list[int]] = defaultdict(list)
        for batch in batches:
            day = batch.minute * _MINUTE_US // _DAY_US
            key = (batch.account_id, batch.minute, batch.campaign_id)
            matched = totals.setdefault(key, _Totals()).matched
            prefixes = self._prefixes_of(batch.account_id)
            for number, groups in zip(batch.numbers, batch.group_ids(), strict=True):
                if groups and number is not None:
                    for group_id in groups:
                        matched[group_id] += 1
                        entry = _entry_key(number, group_id, prefixes)
                        found[(batch.account_id, group_id, day)].append(entry)
        for mark, keys in found.items():
            _add_marks(marks, mark, np.array(keys, np.int64))

    def _tallied_marks(
        self,
        batches: list[_TalliedBatch],
        totals: dict[tuple[int, int, int], _Totals],
        marks: Marks,
    ) -> None:
        """As ``_batch_marks``, for plain batches the index tallied: array operations for
        the numbers one entry matched, number by number for the rest (a few)."""
        for batch in batches:
            day = batch.minute * _MINUTE_US // _DAY_US
            matched = totals.setdefault((batch.account_id, batch.minute, 0), _Totals()).matched
            tally = batch.tally
            if len(tally.positions):
                hit_keys = batch.keys[tally.positions]
                groups, counts = _counted(tally.groups)
                for group_id, times in zip(groups.tolist(), counts.tolist(), strict=True):
                    matched[group_id] += times
                    mine = hit_keys if len(groups) == 1 else hit_keys[tally.groups == group_id]
                    _add_marks(marks, (batch.account_id, group_id, day), mine)
            pairs: set[tuple[int, int]] = set(tally.exact)
            for position, group_id in tally.exact:
                key = int(batch.keys[position])
                _add_marks(marks, (batch.account_id, group_id, day), np.array([key], np.int64))
            for position, group_id, prefix in tally.prefixed:
                if (position, group_id) not in pairs and not _common(tally, position, group_id):
                    pairs.add((position, group_id))
                key = pattern_key(prefix)
                _add_marks(marks, (batch.account_id, group_id, day), np.array([key], np.int64))
            for _, group_id in pairs:
                matched[group_id] += 1


def _counted(groups: Int64s) -> tuple[Int64s, Int64s]:
    """Each group id once, and how many times it occurs: by counting when the ids are small
    (they are the store's, from 1), else by sorting."""
    if int(groups.max()) < 1 << 20:
        counts = np.bincount(groups)
        present = np.flatnonzero(counts)
        return present, counts[present]
    return np.unique(groups, return_counts=True)


def _common(tally: BatchTally, position: int, group_id: int) -> bool:
    """Whether the common case already counted this number for this group."""
    at = int(np.searchsorted(tally.positions, position))
    return (
        at < len(tally.positions)
        and int(tally.positions[at]) == position
        and int(tally.groups[at]) == group_id
    )


def _add_marks(marks: Marks, mark: tuple[int, int, int], keys: Int64s) -> None:
    seen = marks.get(mark)
    marks[mark] = keys if seen is None else np.concatenate([seen, keys])


def _entry_key(number: str, group_id: int, prefixes: dict[str, tuple[tuple[int, int], ...]]) -> int:
    """The key of the group's entry that matched ``number``: the longest of its prefixes
    that the group holds, else the number itself."""
    if prefixes:
        for length in range(len(number), 1, -1):
            hits = prefixes.get(number[:length])
            if hits and any(g == group_id for g, _ in hits):
                return pattern_key(number[:length] + PREFIX_MARK)
    return pattern_key(number)


def _rolled_up(totals: dict[tuple[int, int, int], _Totals]) -> list[CountRow]:
    """Each minute's counts added to its minute, its hour and its day, for every check
    (campaign 0) and for its campaign."""
    summed: dict[tuple[int, str, int, int, int], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for (account_id, minute, campaign_id), counted in totals.items():
        seconds = minute * 60
        for level, length in LEVEL_SECONDS.items():
            start = seconds - seconds % length
            for campaign in {0, campaign_id}:
                row = summed[(account_id, level, start, 0, campaign)]
                row[0] += counted.checks
                row[1] += counted.blocked
                row[2] += counted.invalid
                for group_id, times in counted.matched.items():
                    summed[(account_id, level, start, group_id, campaign)][3] += times
    return [
        CountRow(a, level, start, g, c, *values)
        for (a, level, start, g, c), values in sorted(summed.items())
    ]


def prune(store: Store, retention: Retention, now: datetime) -> None:
    """Drop the buckets each level keeps no longer, and entries' older match days."""
    stamp = int(now.timestamp())
    kept = {"m": retention.minute_days, "h": retention.hour_days, "d": retention.day_days}
    with store.write() as conn:
        for level, days in kept.items():
            stat_rows.prune(conn, level, stamp - days * 86_400)
        first_day = (now - timedelta(days=retention.day_days)).timestamp() // 86_400
        stat_rows.prune_entry_hits(conn, int(first_day))
