"""What an import will write: its lines read, checked and reduced to distinct stored keys.

Pure work on the lines, before any transaction opens: an import with invalid lines is refused
(or those lines skipped) without touching the store, and the rows that do get written arrive
sorted by key, which is the entry table's order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np

from callblock.domain import LOCAL_TIME, RFC3339, RejectedLine
from callblock.numbers import (
    InvalidNumber,
    is_pattern,
    normalise,
    normalise_keys,
    normalise_prefix,
    pattern_key,
)
from callblock.timestamps import micros

_SHOWN = 100  # characters of a rejected line's input shown back


@dataclass(frozen=True, slots=True)
class ImportLines:
    """The lines of a number list as columns: columns are what the fast paths work on."""

    lines: Sequence[int]  # the file's line number of each row
    numbers: list[str]  # the number cell of each row
    expiries: list[str] | None  # the expiry cell of each row; None without an expiry column

    def __len__(self) -> int:
        return len(self.numbers)


@dataclass(frozen=True, slots=True)
class ImportPlan:
    keys: list[int]  # distinct stored keys (``numbers.pattern_key``), ascending
    # Expiry of each key in POSIX microseconds (None: none); None when no line has an expiry.
    expiries: list[int | None] | None
    invalid: list[RejectedLine]
    repeats: int  # valid lines whose number an earlier line already had


def plan_import(lines: ImportLines, region: str, timezone: str, now: datetime) -> ImportPlan:
    """Read every line; the first line of a number decides its expiry."""
    raws = lines.numbers
    keys = normalise_keys(raws, region)
    valid = keys >= 0
    problems: dict[int, str] = {}  # position -> reason
    for position in np.flatnonzero(~valid).tolist():
        pattern, problem = _pattern(raws[position], region)
        if pattern is None:
            problems[position] = problem
        else:
            keys[position] = pattern_key(pattern)
            valid[position] = True
    expiries: list[int | None] | None = None
    if lines.expiries is not None and any(lines.expiries):
        expiries = _expiries(lines.expiries, timezone, now, problems)
        valid[list(problems)] = False
    positions = np.flatnonzero(valid)
    distinct, first = np.unique(keys[positions], return_index=True)
    invalid = [
        RejectedLine(lines.lines[p], _shown(raws[p]), reason)
        for p, reason in sorted(problems.items())
    ]
    kept = None if expiries is None else [expiries[p] for p in positions[first].tolist()]
    return ImportPlan(distinct.tolist(), kept, invalid, len(positions) - len(distinct))


def _pattern(raw: str, region: str) -> tuple[str | None, str]:
    """The stored pattern of a number or prefix the fast path did not take, or why not."""
    try:
        if is_pattern(raw):
            return normalise_prefix(raw, region), ""
        return normalise(raw, region), ""
    except InvalidNumber:
        return None, "not a valid prefix" if is_pattern(raw) else "not a valid phone number"


def _expiries(
    texts: Sequence[str], timezone: str, now: datetime, problems: dict[int, str]
) -> list[int | None]:
    """Each line's expiry stamp; a line with a bad expiry gets its reason in ``problems``
    (unless its number was already bad). Each distinct text is read once."""
    read: dict[str, tuple[int | None, str | None]] = {}
    stamps: list[int | None] = []
    for position, raw_expiry in enumerate(texts):
        found = read.get(raw_expiry)
        if found is None:
            instant, problem = import_expiry(raw_expiry, timezone, now)
            found = read[raw_expiry] = (None if instant is None else micros(instant), problem)
        stamp, problem = found
        if problem is not None:
            problems.setdefault(position, problem)
        stamps.append(stamp)
    return stamps


def import_expiry(raw: str, timezone: str, now: datetime) -> tuple[datetime | None, str | None]:
    """An import line's expiry: empty for none, RFC 3339, or local ``YYYY-MM-DD HH:MM:SS``."""
    text = raw.strip()
    if not text:
        return None, None
    local = LOCAL_TIME.fullmatch(text) is not None
    if not local and RFC3339.fullmatch(text) is None:
        return None, "expiry is not RFC 3339 nor YYYY-MM-DD HH:MM:SS"
    try:
        instant = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        if local:
            instant = instant.replace(tzinfo=ZoneInfo(timezone))
        instant = instant.astimezone(UTC)
    except (ValueError, OverflowError):
        return None, "expiry is not a real date and time"
    if instant <= now:
        return None, "expiry is not in the future"
    return instant, None


def _shown(raw: str) -> str:
    return raw if len(raw) <= _SHOWN else raw[:_SHOWN] + "..."
