"""What the lists stopped, read back: checks over time, by group, the entries that matched
most, and the entries that matched nothing for a while (``check_counts`` writes them)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from callblock.domain import (
    Actor,
    CampaignRef,
    Entry,
    FieldProblem,
    GroupNotFound,
    InvalidInput,
    ProblemCode,
)
from callblock.numbers import key_pattern
from callblock.store import Store
from callblock.store import entries as entry_rows
from callblock.store import groups as group_rows
from callblock.store import stats as stat_rows
from callblock.store.stats import LEVEL_SECONDS
from callblock.usecases.campaigns import find_campaign

BUCKETS = {"minute": "m", "hour": "h", "day": "d"}
TOP_ENTRIES = 10
MAX_BUCKETS = 5_000  # the most an answer holds: 3 days of minutes, 208 of hours, 13 years of days
_DAY = 86_400
_LAST_START = int(datetime(9999, 12, 30, tzinfo=UTC).timestamp())  # a bucket's latest start


@dataclass(frozen=True, slots=True)
class StatsPoint:
    start: datetime
    checks: int
    blocked: int
    invalid: int
    matched: int  # with a group: the checks it matched; else the blocked ones


@dataclass(frozen=True, slots=True)
class GroupMatches:
    group_id: int
    name: str
    matched: int


@dataclass(frozen=True, slots=True)
class TopEntry:
    group_id: int
    group_name: str
    pattern: str
    hits: int


@dataclass(frozen=True, slots=True)
class Stats:
    bucket: str
    start: datetime
    end: datetime
    group_id: int | None
    campaign_id: int | None
    series: list[StatsPoint]
    by_group: list[GroupMatches]
    top_entries: list[TopEntry]

    @property
    def checks(self) -> int:
        return sum(p.checks for p in self.series)

    @property
    def blocked(self) -> int:
        return sum(p.blocked for p in self.series)


@dataclass(frozen=True, slots=True)
class StalePage:
    entries: list[Entry]
    total: int
    next_after: int | None
    last_matched: dict[int, datetime]  # an entry's key → the day it last matched, if ever


class Insights:
    def __init__(self, store: Store, clock: Callable[[], datetime]) -> None:
        self._store = store
        self._clock = clock

    def stats(
        self,
        actor: Actor,
        *,
        bucket: str,
        start: datetime | None,
        end: datetime | None,
        group_id: int | None = None,
        campaign: CampaignRef | None = None,
    ) -> Stats:
        """Checks and blocked per bucket from ``start`` to ``end`` (default: the last 60
        buckets), every check or those of one campaign; with a group, its matches too.
        ``InvalidInput`` for a range whose end is not after its start, or of more than
        ``MAX_BUCKETS`` buckets."""
        level = BUCKETS[bucket]
        length = LEVEL_SECONDS[level]
        # In whole seconds, clamped to what a bucket can start at: nothing was counted
        # before 1970, and a datetime cannot go past the year 9999.
        if end is None:  # up to now, the current bucket included
            now = int(self._clock().timestamp())
            stop = now - now % length + length
        else:
            stop = int(end.timestamp())
        begin = stop - 60 * length if start is None else int(start.timestamp())
        if stop <= begin:
            field = "to" if end is not None else "from"
            detail = "must be after from" if end is not None else "must be before now"
            value = (end or start or self._clock()).isoformat()
            raise InvalidInput([FieldProblem(field, ProblemCode.INVALID, value, detail)])
        first = max(0, begin // length * length)
        last = min(_LAST_START // length * length, -(-stop // length) * length)
        last = max(first, last)
        if (last - first) // length > MAX_BUCKETS:
            raise InvalidInput(
                [
                    FieldProblem(
                        "from",
                        ProblemCode.INVALID,
                        datetime.fromtimestamp(first, UTC).isoformat(),
                        f"the range holds more than {MAX_BUCKETS:,} {bucket}s: ask for a "
                        "shorter range or a longer bucket",
                    )
                ]
            )
        account_id = actor.account.id
        with self._store.read() as conn:
            if (
                group_id is not None
                and group_rows.group_of_account(conn, account_id, group_id) is None
            ):
                raise GroupNotFound
            campaign_id = 0 if campaign is None else find_campaign(conn, account_id, campaign).id
            buckets = stat_rows.series(
                conn, account_id, level, first, last, group_id or 0, campaign_id
            )
            matched = stat_rows.matched_by_group(conn, account_id, level, first, last, campaign_id)
            names = stat_rows.group_names(conn, account_id)
            top = stat_rows.top_entries(
                conn, account_id, first // _DAY, (last - 1) // _DAY, TOP_ENTRIES
            )
        series = [
            StatsPoint(
                datetime.fromtimestamp(b.start, UTC), b.checks, b.blocked, b.invalid, b.matched
            )
            for b in buckets
        ]
        by_group = sorted(
            (GroupMatches(g, names[g], n) for g, n in matched.items() if g in names),
            key=lambda m: (-m.matched, m.name),
        )
        return Stats(
            bucket,
            datetime.fromtimestamp(first, UTC),
            datetime.fromtimestamp(last, UTC),
            group_id,
            campaign_id or None,
            series,
            by_group,
            [TopEntry(g, names[g], key_pattern(k), n) for g, k, n in top if g in names],
        )

    def stale_entries(
        self, actor: Actor, group_id: int, *, days: int, after: int | None, limit: int
    ) -> StalePage:
        """The group's entries that matched no check in the last ``days`` days (and were in
        the group all that time), in the group's order."""
        now = self._clock()
        since = now - timedelta(days=days)
        with self._store.read() as conn:
            if group_rows.group_of_account(conn, actor.account.id, group_id) is None:
                raise GroupNotFound
            page, total = entry_rows.stale_entries(
                conn,
                group_id,
                since_day=int(since.timestamp()) // _DAY,
                created_before=since,
                after_key=after,
                limit=limit + 1,
            )
            shown = page[:limit]
            days_seen = stat_rows.last_match_days(conn, group_id, [e.key for e in shown])
        return StalePage(
            shown,
            total,
            shown[-1].key if len(page) > limit else None,
            {k: datetime.fromtimestamp(d * _DAY, UTC) for k, d in days_seen.items()},
        )
