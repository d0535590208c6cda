"""Checks counted, and the days entries matched: additive writes, and the reads of insights.

Each query takes an open connection; the use cases own transactions.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, and_, func, select

from callblock.store.rows import dialect_insert
from callblock.store.tables import check_counts, entry_hits, groups

LEVELS = ("m", "h", "d")  # a minute, an hour, a UTC day
LEVEL_SECONDS = {"m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True, slots=True)
class CountRow:
    """What one process counted in one bucket since its last flush (added, never set)."""

    account_id: int
    level: str
    start: int  # POSIX seconds, a multiple of the level's length
    group_id: int  # 0: every check
    campaign_id: int  # 0: every check
    checks: int
    blocked: int
    invalid: int
    matched: int


def add_counts(conn: Connection, rows: Sequence[CountRow]) -> None:
    """Add each row's counts to what the store holds (a row it does not hold yet is made)."""
    if not rows:
        return
    insert = dialect_insert(conn)(check_counts)
    statement = insert.on_conflict_do_update(
        index_elements=["account_id", "level", "start", "group_id", "campaign_id"],
        set_={
            name: check_counts.c[name] + insert.excluded[name]
            for name in ("checks", "blocked", "invalid", "matched")
        },
    )
    conn.execute(
        statement,
        [
            {
                "account_id": r.account_id,
                "level": r.level,
                "start": r.start,
                "group_id": r.group_id,
                "campaign_id": r.campaign_id,
                "checks": r.checks,
                "blocked": r.blocked,
                "invalid": r.invalid,
                "matched": r.matched,
            }
            for r in rows
        ],
    )


def add_entry_hits(conn: Connection, rows: Iterable[tuple[int, int, int, int, int]]) -> None:
    """``(account_id, group_id, key, day, hits)``: the day is marked, the hits added."""
    values = [
        {"account_id": a, "group_id": g, "number": k, "day": d, "hits": n} for a, g, k, d, n in rows
    ]
    if not values:
        return
    insert = dialect_insert(conn)(entry_hits)
    statement = insert.on_conflict_do_update(
        index_elements=["group_id", "number", "day"],
        set_={"hits": entry_hits.c.hits + insert.excluded.hits},
    )
    conn.execute(statement, values)


@dataclass(frozen=True, slots=True)
class Bucket:
    start: int
    checks: int
    blocked: int
    invalid: int
    matched: int


def series(
    conn: Connection,
    account_id: int,
    level: str,
    start: int,
    end: int,
    group_id: int = 0,
    campaign_id: int = 0,
) -> list[Bucket]:
    """The buckets of ``level`` from ``start`` (included) to ``end`` (excluded) that hold
    counts, in time order. With a group: the every-check row's counts, and the group's
    matches."""
    c = check_counts.c
    wanted = and_(
        c.account_id == account_id,
        c.level == level,
        c.start >= start,
        c.start < end,
        c.campaign_id == campaign_id,
    )
    totals = {
        row.start: row
        for row in conn.execute(
            select(c.start, c.checks, c.blocked, c.invalid).where(wanted, c.group_id == 0)
        )
    }
    matched: dict[int, int] = {}
    if group_id:
        matched = dict(
            conn.execute(select(c.start, c.matched).where(wanted, c.group_id == group_id)).all()
        )
    return [
        Bucket(
            start,
            row.checks,
            row.blocked,
            row.invalid,
            matched.get(start, 0) if group_id else row.blocked,
        )
        for start, row in sorted(totals.items())
    ]


def matched_by_group(
    conn: Connection, account_id: int, level: str, start: int, end: int, campaign_id: int = 0
) -> dict[int, int]:
    """Each group's matches over the range (groups with none are left out)."""
    c = check_counts.c
    rows = conn.execute(
        select(c.group_id, func.sum(c.matched))
        .where(
            c.account_id == account_id,
            c.level == level,
            c.start >= start,
            c.start < end,
            c.campaign_id == campaign_id,
            c.group_id != 0,
        )
        .group_by(c.group_id)
    )
    return {int(g): int(n) for g, n in rows if n}


def top_entries(
    conn: Connection, account_id: int, first_day: int, last_day: int, limit: int
) -> list[tuple[int, int, int]]:
    """``(group_id, key, hits)`` of the entries most matched by single checks on the days
    from ``first_day`` to ``last_day`` (included), most first."""
    h = entry_hits.c
    total = func.sum(h.hits).label("total")
    rows = conn.execute(
        select(h.group_id, h.number, total)
        .where(h.account_id == account_id, h.day >= first_day, h.day <= last_day, h.hits > 0)
        .group_by(h.group_id, h.number)
        .order_by(total.desc(), h.group_id, h.number)
        .limit(limit)
    )
    return [(int(g), int(k), int(n)) for g, k, n in rows]


def last_match_days(conn: Connection, group_id: int, keys: Sequence[int]) -> dict[int, int]:
    """The last day each of the group's ``keys`` matched a check (keys never matched: left
    out)."""
    if not keys:
        return {}
    h = entry_hits.c
    rows = conn.execute(
        select(h.number, func.max(h.day))
        .where(h.group_id == group_id, h.number.in_(list(keys)))
        .group_by(h.number)
    )
    return {int(k): int(d) for k, d in rows}


def prune(conn: Connection, level: str, before: int) -> int:
    """Drop the level's buckets that start before ``before`` (POSIX seconds)."""
    c = check_counts.c
    removed: int = conn.execute(
        check_counts.delete().where(c.level == level, c.start < before)
    ).rowcount
    return removed


def prune_entry_hits(conn: Connection, before_day: int) -> int:
    removed: int = conn.execute(entry_hits.delete().where(entry_hits.c.day < before_day)).rowcount
    return removed


def group_names(conn: Connection, account_id: int) -> dict[int, str]:
    rows = conn.execute(select(groups.c.id, groups.c.name).where(groups.c.account_id == account_id))
    return {int(group_id): str(name) for group_id, name in rows}
