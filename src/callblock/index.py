"""The in-memory check index: what is blocked, per account, without a database round trip.

Each process holds one ``AccountIndex`` per account. Exact numbers live in a ``NumberTable``:
sorted numpy arrays (the E.164 number as an integer, a group slot, an expiry in microseconds;
20 bytes an entry) plus a small overlay of recent changes, merged into new arrays once it
grows. Prefix patterns, which are few, live in a dict keyed by the prefix text. The index is
loaded from the store, kept current by the process's own writes (each ``Change`` applied after
its commit, when the index is exactly one version behind it) and by a refresher that reloads any
account whose counter moved elsewhere. Expiry is judged at check time against the clock, so an
entry stops blocking at its expiry instant exactly.

Readers take no lock: writers replace whole values (a key's tuple, a new table), so a check
never sees half a change.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from callblock.change import Change
from callblock.domain import Action, Direction, Match
from callblock.numbers import PREFIX_MARK, pattern_key
from callblock.timestamps import NEVER, from_micros, micros

_LOAD_CHUNK = 200_000

# (group id, expiry in POSIX microseconds; NEVER for none)
Hit = tuple[int, int]


def expiry_stamp(expires_at: datetime | None) -> int:
    return int(NEVER) if expires_at is None else micros(expires_at)


def _expiry_datetime(stamp: int) -> datetime | None:
    if stamp == NEVER:
        return None
    return from_micros(stamp)


def number_key(e164: str) -> int:
    """An E.164 number as an integer (its digits; country codes never start with 0)."""
    return int(e164[1:])


@dataclass(frozen=True, slots=True)
class IndexedGroup:
    id: int
    name: str
    direction: Direction

    def applies_to(self, direction: Direction | None) -> bool:
        return direction is None or self.direction in (direction, Direction.BOTH)


class NumberTable:
    """Exact numbers: an immutable sorted base and an overlay of changes since it was built."""

    __slots__ = ("expiry", "group_ids", "keys", "overlay", "slots", "tombstones")

    def __init__(
        self,
        keys: np.ndarray[Any, np.dtype[np.int64]],
        slots: np.ndarray[Any, np.dtype[np.int32]],
        expiry: np.ndarray[Any, np.dtype[np.int64]],
        group_ids: np.ndarray[Any, np.dtype[np.int64]],
    ) -> None:
        order = np.argsort(keys, kind="stable")
        self.keys = keys[order]
        self.slots = slots[order]
        self.expiry = expiry[order]
        self.group_ids = group_ids  # slot -> group id
        # number -> ((group id, expiry), ...): entries written since the base was built,
        # shadowing the base's entry of the same number and group.
        self.overlay: dict[int, tuple[Hit, ...]] = {}
        # (number, group id) of base entries removed since.
        self.tombstones: set[tuple[int, int]] = set()

    @classmethod
    def empty(cls) -> NumberTable:
        return cls(
            np.empty(0, np.int64),
            np.empty(0, np.int32),
            np.empty(0, np.int64),
            np.empty(0, np.int64),
        )

    @classmethod
    def from_hits(cls, rows: Iterable[tuple[int, int, int]]) -> NumberTable:
        """From (number key, group id, expiry) rows, read in chunks to bound peak memory."""
        slot_of: dict[int, int] = {}
        parts: list[tuple[Any, Any, Any]] = []
        keys: list[int] = []
        slots: list[int] = []
        expiry: list[int] = []

        def flush() -> None:
            parts.append(
                (np.array(keys, np.int64), np.array(slots, np.int32), np.array(expiry, np.int64))
            )
            keys.clear()
            slots.clear()
            expiry.clear()

        for key, group_id, expires in rows:
            keys.append(key)
            slots.append(slot_of.setdefault(group_id, len(slot_of)))
            expiry.append(expires)
            if len(keys) >= _LOAD_CHUNK:
                flush()
        flush()
        return cls(
            np.concatenate([p[0] for p in parts]),
            np.concatenate([p[1] for p in parts]),
            np.concatenate([p[2] for p in parts]),
            np.array(list(slot_of), np.int64),
        )

    @property
    def size(self) -> int:
        return len(self.keys) - len(self.tombstones) + sum(map(len, self.overlay.values()))

    @property
    def nbytes(self) -> int:
        """Bytes held by the base arrays (the bulk of the table)."""
        return int(self.keys.nbytes + self.slots.nbytes + self.expiry.nbytes)

    def hits(self, key: int) -> list[Hit]:
        found: list[Hit] = []
        keys = self.keys
        position = int(np.searchsorted(keys, key))
        overlaid = self.overlay.get(key, ())
        shadowed = {g for g, _ in overlaid}
        tombstones = self.tombstones
        while position < len(keys) and keys[position] == key:
            group_id = int(self.group_ids[self.slots[position]])
            if group_id not in shadowed and (key, group_id) not in tombstones:
                found.append((group_id, int(self.expiry[position])))
            position += 1
        found.extend(overlaid)
        return found

    # --- writing (one writer at a time) ---------------------------------------------------------

    def upsert(self, key: int, group_id: int, expires: int) -> None:
        kept = tuple(h for h in self.overlay.get(key, ()) if h[0] != group_id)
        self.overlay[key] = (*kept, (group_id, expires))
        self.tombstones.discard((key, group_id))

    def remove(self, key: int, group_id: int | None) -> None:
        groups = [g for g, _ in self.hits(key)] if group_id is None else [group_id]
        for group in groups:
            kept = tuple(h for h in self.overlay.get(key, ()) if h[0] != group)
            if kept:
                self.overlay[key] = kept
            else:
                self.overlay.pop(key, None)
            self.tombstones.add((key, group))

    def needs_merge(self) -> bool:
        changes = len(self.overlay) + len(self.tombstones)
        return changes > max(50_000, len(self.keys) // 8)

    def merged(self, live_groups: set[int]) -> NumberTable:
        """A new table with the overlay folded into the base (dropped groups left out)."""
        group_of = self.group_ids[self.slots] if len(self.keys) else np.empty(0, np.int64)
        keep = np.isin(group_of, np.fromiter(live_groups, np.int64, len(live_groups)))
        if self.tombstones or self.overlay:
            gone = set(self.tombstones)
            for key, hits in self.overlay.items():
                gone.update((key, g) for g, _ in hits)
            keep &= np.fromiter(
                ((int(k), int(g)) not in gone for k, g in zip(self.keys, group_of, strict=True)),
                bool,
                len(self.keys),
            )
        rows = [(k, g, e) for k, hits in self.overlay.items() for g, e in hits if g in live_groups]
        base = zip(
            self.keys[keep].tolist(),
            group_of[keep].tolist(),
            self.expiry[keep].tolist(),
            strict=True,
        )
        return NumberTable.from_hits([*base, *rows]) if rows or keep.any() else NumberTable.empty()


@dataclass(slots=True)
class AccountIndex:
    version: int
    groups: dict[int, IndexedGroup] = field(default_factory=dict)
    numbers: NumberTable = field(default_factory=NumberTable.empty)
    # Keys are patterns without the mark ("+91140"); lengths lets a check try each once.
    prefixes: dict[str, tuple[Hit, ...]] = field(default_factory=dict)
    prefix_lengths: frozenset[int] = frozenset()

    # --- reading ---------------------------------------------------------------------------

    def matches(self, e164: str, direction: Direction | None, now: int) -> list[Match]:
        found: list[Match] = []
        self._collect(found, e164, "number", self.numbers.hits(number_key(e164)), direction, now)
        for length in self.prefix_lengths:
            key = e164[:length]
            hits = self.prefixes.get(key) if length <= len(e164) else None
            if hits:
                self._collect(found, key + PREFIX_MARK, "prefix", hits, direction, now)
        return found

    def blocking_groups(
        self,
        numbers: Sequence[str | None],
        direction: Direction | None,
        now: int,
        keys: np.ndarray[Any, np.dtype[np.int64]] | None = None,
    ) -> list[list[int]]:
        """For each E.164 number, the ids of the groups that block it now (batch check);
        an empty list for a None. ``keys`` may give the numbers as integers already.

        The common case (one base entry, or none) is answered with array operations; numbers
        with several entries or recent changes go through ``hits``.
        """
        table = self.numbers
        if keys is None:
            keys = np.fromiter(
                (int(n[1:]) if n is not None else -1 for n in numbers), np.int64, len(numbers)
            )
        none: list[int] = []  # shared by every number without a match; never appended to
        answers: list[list[int]] = [none] * len(numbers)
        if len(table.keys) and len(keys):
            wanted = keys
            low = np.searchsorted(table.keys, wanted, "left")
            high = np.searchsorted(table.keys, wanted, "right")
            single = np.flatnonzero(high - low == 1)
            allowed = [g for g, group in self.groups.items() if group.applies_to(direction)]
            group_of = table.group_ids[table.slots[low[single]]]
            live = (table.expiry[low[single]] > now) & np.isin(group_of, allowed)
            for position, group_id in zip(
                single[live].tolist(), group_of[live].tolist(), strict=True
            ):
                answers[position] = [group_id]
            slow = set(np.flatnonzero(high - low > 1).tolist())
        else:
            slow = set()
        if table.overlay or table.tombstones:
            touched = {k for k, _ in table.tombstones} | set(table.overlay)
            slow.update(i for i, key in enumerate(keys.tolist()) if key in touched)
        for position in slow:
            key = int(keys[position])
            if key < 0:
                continue
            answers[position] = [
                g for g, exp in table.hits(key) if now < exp and self._in(g, direction)
            ]
        if self.prefix_lengths:
            for position, e164 in enumerate(numbers):
                if e164 is None:
                    continue
                for length in self.prefix_lengths:
                    hits = self.prefixes.get(e164[:length]) if length <= len(e164) else None
                    if hits:
                        found = [g for g, exp in hits if now < exp and self._in(g, direction)]
                        if found:
                            answers[position] = [*answers[position], *found]
        if not slow and not self.prefix_lengths:
            return answers  # each answer has one group at most
        return [a if len(a) < 2 else sorted(set(a)) for a in answers]

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
        now: int,
    ) -> None:
        for group_id, expires in hits:
            group = self.groups.get(group_id)
            if group is not None and now < expires and group.applies_to(direction):
                expiry = _expiry_datetime(expires)
                into.append(Match(group_id, group.name, pattern, expiry, rule))

    @property
    def size(self) -> int:
        return self.numbers.size + sum(map(len, self.prefixes.values()))

    # --- writing (one writer at a time, under the service's lock) ----------------------------

    def put_group(self, group: IndexedGroup) -> None:
        self.groups[group.id] = group

    def drop_group(self, group_id: int) -> None:
        # The table's entries of the group stop counting at once (no group to match) and
        # leave at the next merge.
        self.groups.pop(group_id, None)
        for key in [k for k, hits in self.prefixes.items() if any(g == group_id for g, _ in hits)]:
            self._set_prefix(key, tuple(h for h in self.prefixes[key] if h[0] != group_id))
        self._refresh_lengths()

    def apply(self, change: Change) -> None:
        """Bring the index to ``change.version`` (one version behind it: see Checker.apply)."""
        draft = change.draft
        if draft.group is not None:
            group = draft.group
            self.put_group(IndexedGroup(group.id, group.name, group.direction))
        if draft.action is Action.DELETE and draft.group_id is not None:
            self.drop_group(draft.group_id)
        if len(draft.upserted):
            assert draft.group_id is not None  # upserts always name their group
            self.upsert_keys(draft.group_id, draft.upserted.tolist(), draft.expiries.tolist())
        if len(draft.removed):
            self.remove_keys(draft.group_id, draft.removed.tolist())
        self.version = change.version

    def upsert(self, group_id: int, patterns: Iterable[str], expires: int) -> None:
        keys = [pattern_key(pattern) for pattern in patterns]
        self.upsert_keys(group_id, keys, [expires] * len(keys))

    def remove(self, group_id: int | None, patterns: Iterable[str]) -> None:
        self.remove_keys(group_id, [pattern_key(pattern) for pattern in patterns])

    def upsert_keys(self, group_id: int, keys: Sequence[int], expiries: Sequence[int]) -> None:
        """Entries by stored key (``numbers.pattern_key``: negative for a prefix)."""
        for key, expires in zip(keys, expiries, strict=True):
            if key < 0:
                prefix = _prefix_of(key)
                kept = tuple(h for h in self.prefixes.get(prefix, ()) if h[0] != group_id)
                self.prefixes[prefix] = (*kept, (group_id, expires))
            else:
                self.numbers.upsert(key, group_id, expires)
        self._settle()

    def remove_keys(self, group_id: int | None, keys: Sequence[int]) -> None:
        """Remove entries by stored key from the group, or from every group (None)."""
        for key in keys:
            if key < 0:
                prefix = _prefix_of(key)
                kept = tuple(
                    h
                    for h in self.prefixes.get(prefix, ())
                    if group_id is not None and h[0] != group_id
                )
                self._set_prefix(prefix, kept)
            else:
                self.numbers.remove(key, group_id)
        self._settle()

    def _settle(self) -> None:
        self._refresh_lengths()
        if self.numbers.needs_merge():
            self.numbers = self.numbers.merged(set(self.groups))

    def _set_prefix(self, key: str, hits: tuple[Hit, ...]) -> None:
        if hits:
            self.prefixes[key] = hits
        else:
            self.prefixes.pop(key, None)

    def _refresh_lengths(self) -> None:
        lengths = frozenset(len(key) for key in self.prefixes)
        if lengths != self.prefix_lengths:
            self.prefix_lengths = lengths


def _prefix_of(key: int) -> str:
    """The prefix table's key for a stored prefix key (``+91140`` for -91140)."""
    return f"+{-key}"


def load(
    version: int,
    groups: Iterable[IndexedGroup],
    numbers: Iterable[Sequence[tuple[int, int, int]]],
    prefixes: Iterable[tuple[int, str, datetime | None]],
) -> AccountIndex:
    """An account's index from the store's chunks (``queries.active_number_keys``) of
    (number, group id, expiry stamp) rows, which become arrays without per-row work."""
    index = build(version, groups, prefixes)
    parts = [np.array(chunk, dtype=np.int64).reshape(-1, 3) for chunk in numbers if chunk]
    if parts:
        rows = np.concatenate(parts)
        slot_ids, slots = np.unique(rows[:, 1], return_inverse=True)
        index.numbers = NumberTable(rows[:, 0], slots.astype(np.int32), rows[:, 2], slot_ids)
    return index


def build(
    version: int,
    groups: Iterable[IndexedGroup],
    entries: Iterable[tuple[int, str, datetime | None]],
) -> AccountIndex:
    """An account's index from its groups and its (group id, pattern, expiry) entries."""
    index = AccountIndex(version=version)
    for group in groups:
        index.put_group(group)
    prefixes: dict[str, list[Hit]] = {}

    def numbers() -> Iterable[tuple[int, int, int]]:
        for group_id, pattern, expires_at in entries:
            if pattern.endswith(PREFIX_MARK):
                key = pattern[: -len(PREFIX_MARK)]
                prefixes.setdefault(key, []).append((group_id, expiry_stamp(expires_at)))
            else:
                yield number_key(pattern), group_id, expiry_stamp(expires_at)

    index.numbers = NumberTable.from_hits(numbers())
    index.prefixes = {k: tuple(v) for k, v in prefixes.items()}
    index._refresh_lengths()
    return index
