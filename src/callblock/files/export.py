"""A group's entries as an export file: CSV with a header row, written a block at a time.

An entry's line is ``+`` and its digits, then a tail that depends only on its facts
(``domain.EntryFacts``): ``*,prefix,...`` or ``,number,...``. A block's entries mostly
share their facts, so most of a block is its keys' text with every comma replaced by one
tail: no work per entry in Python. Each distinct tail is formatted once.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta

from callblock.domain import EntryBlock, EntryFacts
from callblock.timestamps import EPOCH, from_micros, micros

EXPORT_HEADER = [
    "number",
    "kind",
    "status",
    "expires_at",
    "note",
    "source",
    "created_at",
    "updated_at",
]
# Formatted tails (and dates) kept; past this many the cache starts again, so that a group
# whose entries all differ does not fill the memory.
_CACHED = 10_000
# What can make the csv module quote a cell (its delimiter, its quote, line breaks); a cell
# without them is written as it is, as the csv module would.
_SPECIAL = frozenset(',"\r\n')


class CsvExport:
    """The export file's text: the header, then a text per block. ``entries`` counts the
    entries given so far. Statuses are as of ``at``."""

    def __init__(self, blocks: Iterable[EntryBlock], at: datetime) -> None:
        self._blocks = blocks
        self._at = micros(at)
        self._tails: dict[EntryFacts, str] = {}
        self.entries = 0

    def __iter__(self) -> Iterator[str]:
        yield ",".join(EXPORT_HEADER) + "\n"
        for block in self._blocks:
            texts = self._block(block)
            self.entries += block.count
            yield from texts

    def _block(self, block: EntryBlock) -> list[str]:
        if not block.others:
            return self._run(block.keys, block.common)
        keys = f",{block.keys},"  # every key between two commas
        parts: list[str] = []
        start = 0  # the comma before the first key not written yet
        for key, facts in block.others:  # in key order, as the keys' text
            item = f",{key},"
            found = keys.index(item, start)
            if found > start:
                parts += self._run(keys[start + 1 : found], block.common)
            parts.append(f"+{abs(key)}{self._tail(facts)}")
            start = found + len(item) - 1
        if start < len(keys) - 1:
            parts += self._run(keys[start + 1 : -1], block.common)
        return ["".join(parts)]

    def _run(self, keys: str, facts: EntryFacts) -> list[str]:
        """The lines of consecutive entries that all have ``facts``, from their keys' text:
        the last line's tail apart, which spares copying megabytes to append it."""
        tail = self._tail(facts)
        digits = keys.replace("-", "") if facts.prefix else keys  # a prefix's key is negated
        return [("+" + digits).replace(",", tail + "+"), tail]

    def _tail(self, facts: EntryFacts) -> str:
        """What follows an entry's digits on its line: from ``*,prefix,`` or ``,number,`` to
        the line feed."""
        tail = self._tails.get(facts)
        if tail is None:
            if len(self._tails) >= _CACHED:
                self._tails.clear()
            prefix, expires, note, source, created, updated = facts
            if expires is None:
                expiry = "active,"
            else:
                expiry = f"{'expired' if expires <= self._at else 'active'},{_instant(expires)}"
            tail = self._tails[facts] = (
                f"{'*,prefix' if prefix else ',number'},{expiry},{_cell(note or '')},"
                f"{_cell(source)},{_instant(created)},{_instant(updated)}\n"
            )
        return tail


def _instant(stamp: int) -> str:
    """An export's instant, from POSIX microseconds: UTC in RFC 3339 (``2030-01-01T00:00:00Z``),
    with microseconds only when it has some, as ``datetime.isoformat`` gives it."""
    seconds, fraction = divmod(stamp, 1_000_000)
    day, second = divmod(seconds, 86_400)
    date = _DATES.get(day) or _date(day)
    if date is None:  # past year 9999: the latest instant a datetime holds
        return from_micros(stamp).isoformat().replace("+00:00", "Z")
    minute, second = divmod(second, 60)
    if fraction:
        return f"{date}{_MINUTES[minute]}{_SECONDS[second]}.{fraction:06}Z"
    return f"{date}{_MINUTES[minute]}{_SECONDS[second]}Z"


# ``YYYY-MM-DDT`` by day since the epoch; ``HH:MM:`` by minute of the day; ``SS``.
_DATES: dict[int, str] = {}
_MINUTES = [f"{h:02}:{m:02}:" for h in range(24) for m in range(60)]
_SECONDS = [f"{s:02}" for s in range(60)]


def _date(day: int) -> str | None:
    try:
        date = (EPOCH + timedelta(days=day)).date().isoformat() + "T"
    except OverflowError:
        return None
    if len(_DATES) >= _CACHED:
        _DATES.clear()
    _DATES[day] = date
    return date


def _cell(text: str) -> str:
    """A cell as the csv module writes it: quoted only when it must be."""
    if _SPECIAL.isdisjoint(text):
        return text
    line = io.StringIO()
    csv.writer(line, lineterminator="\n").writerow([text])
    return line.getvalue()[:-1]


# The stale entries' file (``GET /v1/groups/{id}/stale?format=csv``, ``callblock stale --csv``).
STALE_HEADER = ["number", "kind", "status", "expires_at", "note", "created_at", "last_matched_on"]


def stale_row(
    number: str,
    kind: str,
    status: str,
    expires_at: datetime | None,
    note: str | None,
    created_at: datetime,
    last_matched_on: date | None,
) -> list[str]:
    """One stale entry's row: instants in UTC with ``Z``, as the export writes them."""
    return [
        number,
        kind,
        status,
        "" if expires_at is None else _utc(expires_at),
        note or "",
        _utc(created_at),
        "" if last_matched_on is None else last_matched_on.isoformat(),
    ]


def _utc(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
