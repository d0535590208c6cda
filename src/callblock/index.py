"""The in-memory check index: what is blocked, per account, without a database round trip.

Each process holds one ``AccountIndex`` per account: exact numbers and prefix patterns mapped
to the groups that hold them with their expiry. It is loaded from the store, kept current by
the process's own writes (applied as deltas under the account's change counter) and by a
refresher that reloads any account whose counter moved elsewhere. Expiry is judged at check
time against the clock, so an entry stops blocking at its expiry instant exactly.

Readers take no lock: every value they read is an immutable tuple or frozenset replaced
whole by writers, so a check never sees a half-applied change of one key.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from callblock.domain import Direction, Match
from callblock.numbers import PREFIX_MARK

# (group id, expiry as a POSIX timestamp; math.inf for none)
Hit = tuple[int, float]


@dataclass(frozen=True, slots=True)
class IndexedGroup:
    id: int
    name: str
    direction: Direction

    def applies_to(self, direction: Direction | None) -> bool:
        return direction is None or self.direction in (direction, Direction.BOTH)


def expiry_stamp(expires_at: datetime | None) -> float:
    return math.inf if expires_at is None else expires_at.timestamp()


def _expiry_datetime(stamp: float) -> datetime | None:
    return None if stamp == math.inf else datetime.fromtimestamp(stamp, UTC)


@dataclass(slots=True)
class AccountIndex:
    version: int
    groups: dict[int, IndexedGroup] = field(default_factory=dict)
    numbers: dict[str, tuple[Hit, ...]] = field(default_factory=dict)
    # Keys are patterns without the mark ("+91140"); lengths lets a check try each once.
    prefixes: dict[str, tuple[Hit, ...]] = field(default_factory=dict)
    prefix_lengths: frozenset[int] = frozenset()

    # --- reading ---------------------------------------------------------------------------

    def matches(self, e164: str, direction: Direction | None, now: float) -> list[Match]:
        found: list[Match] = []
        self._collect(found, e164, "number", self.numbers.get(e164, ()), direction, now)
        for length in self.prefix_lengths:
            key = e164[:length]
            hits = self.prefixes.get(key) if length <= len(e164) else None
            if hits:
                self._collect(found, key + PREFIX_MARK, "prefix", hits, direction, now)
        return found

    def blocking_groups(self, e164: str, direction: Direction | None, now: float) -> list[int]:
        """The ids of the groups that block ``e164`` now (the batch check's lighter answer)."""
        ids = [g for g, exp in self.numbers.get(e164, ()) if now < exp and self._in(g, direction)]
        for length in self.prefix_lengths:
            hits = self.prefixes.get(e164[:length]) if length <= len(e164) else None
            if hits:
                ids.extend(g for g, exp in hits if now < exp and self._in(g, direction))
        return sorted(set(ids)) if len(ids) > 1 else ids

    def _in(self, group_id: int, direction: Direction | None) -> bool:
        group = self.groups.get(group_id)
        return group is not None and group.applies_to(direction)

    def _collect(
        self,
        into: list[Match],
        pattern: str,
        rule: str,
        hits: Iterable[Hit],
        direction: Direction | None,
        now: float,
    ) -> None:
        for group_id, expires in hits:
            group = self.groups.get(group_id)
            if group is not None and now < expires and group.applies_to(direction):
                expiry = _expiry_datetime(expires)
                into.append(Match(group_id, group.name, pattern, expiry, rule))

    @property
    def size(self) -> int:
        return sum(map(len, self.numbers.values())) + sum(map(len, self.prefixes.values()))

    # --- writing (one writer at a time, under the service's lock) ----------------------------

    def put_group(self, group: IndexedGroup) -> None:
        self.groups[group.id] = group

    def drop_group(self, group_id: int) -> None:
        self.groups.pop(group_id, None)
        for table in (self.numbers, self.prefixes):
            for key in [k for k, hits in table.items() if any(g == group_id for g, _ in hits)]:
                self._set(table, key, tuple(h for h in table[key] if h[0] != group_id))
        self._refresh_lengths()

    def upsert(self, group_id: int, patterns: Iterable[str], expires: float) -> None:
        for pattern in patterns:
            table, key = self._slot(pattern)
            kept = tuple(h for h in table.get(key, ()) if h[0] != group_id)
            table[key] = (*kept, (group_id, expires))
        self._refresh_lengths()

    def remove(self, group_id: int | None, patterns: Iterable[str]) -> None:
        for pattern in patterns:
            table, key = self._slot(pattern)
            if key in table:
                kept = tuple(h for h in table[key] if group_id is not None and h[0] != group_id)
                self._set(table, key, kept)
        self._refresh_lengths()

    def _slot(self, pattern: str) -> tuple[dict[str, tuple[Hit, ...]], str]:
        if pattern.endswith(PREFIX_MARK):
            return self.prefixes, pattern[: -len(PREFIX_MARK)]
        return self.numbers, pattern

    @staticmethod
    def _set(table: dict[str, tuple[Hit, ...]], key: str, hits: tuple[Hit, ...]) -> None:
        if hits:
            table[key] = hits
        else:
            table.pop(key, None)

    def _refresh_lengths(self) -> None:
        lengths = frozenset(len(key) for key in self.prefixes)
        if lengths != self.prefix_lengths:
            self.prefix_lengths = lengths


def build(
    version: int,
    groups: Iterable[IndexedGroup],
    entries: Iterable[tuple[int, str, datetime | None]],
) -> AccountIndex:
    """An account's index from its groups and its (group id, pattern, expiry) entries."""
    index = AccountIndex(version=version)
    for group in groups:
        index.put_group(group)
    numbers: dict[str, list[Hit]] = {}
    prefixes: dict[str, list[Hit]] = {}
    for group_id, pattern, expires_at in entries:
        if pattern.endswith(PREFIX_MARK):
            prefixes.setdefault(pattern[: -len(PREFIX_MARK)], []).append(
                (group_id, expiry_stamp(expires_at))
            )
        else:
            numbers.setdefault(pattern, []).append((group_id, expiry_stamp(expires_at)))
    index.numbers = {k: tuple(v) for k, v in numbers.items()}
    index.prefixes = {k: tuple(v) for k, v in prefixes.items()}
    index._refresh_lengths()
    return index
