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

from callblock.domain import Match
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
        self._marked: set[tuple[int, int, int]] = set()  # (group, key, day) this process wrote
        self._unwritten: set[tuple[int, int, int, int]] = set()  # marks a failed flush kept
        self._marked_day = -1
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

    # --- the flush -------------------------------------------------------------------------

    def flush(self, store: Store) -> int:
        """Add what was counted to the store; returns how many checks that was. On failure
        the counts are kept for the next flush."""
        with self._flush_lock:
            with self._lock:
                totals, self._totals = self._totals, {}
                hits, self._hits = self._hits, Counter()
                batches, self._batches = self._batches, []
            try:
                marks = self._batch_marks(batches, totals) | self._unwritten
                self._unwritten = set()
                rows = _rolled_up(totals)
                entry_rows = [(a, g, k, d, n) for (a, g, k, d), n in hits.items()]
                entry_rows += [(a, g, k, d, 0) for a, g, k, d in marks]
                with store.write() as conn:
                    stat_rows.add_counts(conn, rows)
                    stat_rows.add_entry_hits(conn, entry_rows)
            except Exception:
                self._put_back(totals, hits)
                self._unwritten = marks
                raise
            for _, g, k, d in marks:
                self._marked.add((g, k, d))
            return sum(t.checks for t in totals.values())

    def _put_back(
        self, totals: dict[tuple[int, int, int], _Totals], hits: Counter[tuple[int, int, int, int]]
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
        self, batches: list[_Batch], totals: dict[tuple[int, int, int], _Totals]
    ) -> set[tuple[int, int, int, int]]:
        """Count each batch's matches per group into ``totals``, and return the entries'
        days to mark that this process has not marked yet: (account, group, key, day)."""
        marks: set[tuple[int, int, int, int]] = set()
        for batch in batches:
            day = batch.minute * _MINUTE_US // _DAY_US
            if day != self._marked_day:
                self._marked = {m for m in self._marked if m[2] >= day}
                self._marked_day = day
            matched = totals.setdefault(
                (batch.account_id, batch.minute, batch.campaign_id), _Totals()
            ).matched
            # Numbers of one group share one answer: counted once per answer object.
            answers: dict[int, Sequence[int]] = {}
            per_answer: Counter[int] = Counter()
            hit_numbers: dict[int, list[str]] = defaultdict(list)
            for number, groups in zip(batch.numbers, batch.group_ids(), strict=True):
                if groups and number is not None:
                    answers.setdefault(id(groups), groups)
                    per_answer[id(groups)] += 1
                    hit_numbers[id(groups)].append(number)
            prefixes = self._prefixes_of(batch.account_id)
            for answer_id, times in per_answer.items():
                groups = answers[answer_id]
                for group_id in groups:
                    matched[group_id] += times
                for number in hit_numbers[answer_id]:
                    for group_id in groups:
                        key = _entry_key(number, group_id, prefixes)
                        if (group_id, key, day) not in self._marked:
                            marks.add((batch.account_id, group_id, key, day))
        return marks


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
