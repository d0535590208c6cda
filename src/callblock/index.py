"""The in-memory check index: what is blocked, per account, without a database round trip.

Each process holds one ``AccountIndex`` per account. Exact numbers live in a ``NumberTable``:
an immutable base of ``SortedEntries`` plus a small overlay of the changes applied since the
base was built. The base is compact, because a national registry has hundreds of millions of
entries: the E.164 number as an int64, sorted, and the slot of its group (one byte while the
base holds at most 255 groups), so 9 bytes an entry. Expiry is kept apart, as sorted positions
and stamps of the entries that have one: registry entries rarely do. The base may be a
memory-mapped snapshot file (``callblock.snapshots``) shared by every worker of a node.

Prefix patterns, which are few, live in a dict keyed by the prefix text. Expiry is judged at
check time against the clock, so an entry stops blocking at its expiry instant exactly.

Readers take no lock: writers replace whole values (a key's tuple, a new table), so a check
never sees half a change. Changes are applied in time proportional to the change: a small one
into the overlay, a big one (or an overlay grown big) merged with the base into a new base with
array operations (``merged_with``), off to the side, then swapped in.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from itertools import repeat
from typing import Any

import numpy as np

from callblock.calling_hours import CallingWindow, window_from_wire
from callblock.campaign_rules import GroupRole, Plan, plain_groups, plan_of
from callblock.change import Change
from callblock.domain import (
    Action,
    CampaignById,
    CampaignNotFound,
    CampaignRef,
    Direction,
    GroupKind,
    GroupScope,
    Match,
    name_key,
)
from callblock.numbers import PREFIX_MARK, pattern_key
from callblock.snapshots import Snapshot
from callblock.timestamps import NEVER, from_micros, micros

Int64s = np.ndarray[Any, np.dtype[np.int64]]


@dataclass(slots=True)
class BatchTally:
    """What a batch check matched, for counting it (``usecases.check_counts``), as
    ``AccountIndex.blocking_groups`` found it: no object per number."""

    # The numbers one base entry matched (the common case), and that entry's group.
    positions: Int64s = field(default_factory=lambda: np.empty(0, np.int64))
    groups: Int64s = field(default_factory=lambda: np.empty(0, np.int64))
    # The other numbers' own entries that matched: (position, group).
    exact: list[tuple[int, int]] = field(default_factory=list)
    # Prefix entries that matched: (position, group, the prefix's pattern).
    prefixed: list[tuple[int, int, str]] = field(default_factory=list)


Slots = np.ndarray[Any, np.dtype[np.unsignedinteger[Any]]]

# (group id, expiry in POSIX microseconds; NEVER for none)
Hit = tuple[int, int]
ANY_GROUP = -1  # in a removal's group column: the entry goes from every group
# An overlay holding more (number, group) changes than this is merged into a new base.
OVERLAY_LIMIT = 50_000


def expiry_stamp(expires_at: datetime | None) -> int:
    return int(NEVER) if expires_at is None else micros(expires_at)


def _expiry_datetime(stamp: int) -> datetime | None:
    if stamp == NEVER:
        return None
    return from_micros(stamp)


def number_key(e164: str) -> int:
    """An E.164 number as an integer (its digits; country codes never start with 0)."""
    return int(e164[1:])


def slot_dtype(groups: int) -> np.dtype[Any]:
    """The narrowest unsigned type that numbers ``groups`` group slots."""
    for dtype in (np.uint8, np.uint16, np.uint32):
        if groups <= np.iinfo(dtype).max + 1:
            return np.dtype(dtype)
    raise ValueError(f"{groups} groups cannot be indexed")


def _int64s(values: Iterable[int] | Int64s) -> Int64s:
    if isinstance(values, np.ndarray):
        return values.astype(np.int64, copy=False)
    return np.fromiter(values, np.int64)


def _among(values: Int64s, few: Iterable[int]) -> np.ndarray[Any, np.dtype[np.bool_]]:
    """Which of ``values`` are among ``few`` (group ids): a binary search each, so that
    millions of values cost no hash table and hold no lock for long."""
    pool = np.unique(np.fromiter(few, np.int64))
    if not len(pool) or not len(values):
        return np.zeros(len(values), bool)
    at = np.minimum(np.searchsorted(pool, values), len(pool) - 1)
    found: np.ndarray[Any, np.dtype[np.bool_]] = pool[at] == values
    return found


def _found_in(values: Int64s, pool: Int64s) -> np.ndarray[Any, np.dtype[np.bool_]]:
    """Which of ``values`` (few: an overlay's) occur in ``pool`` (perhaps millions, unsorted):
    the pool is searched in the few, not the other way round, so it is never sorted."""
    found = np.zeros(len(values), bool)
    if not len(values) or not len(pool):
        return found
    distinct = np.unique(values)
    at = np.searchsorted(distinct, pool)
    inside = at < len(distinct)
    at, candidates = at[inside], pool[inside]
    present = np.zeros(len(distinct), bool)
    present[at[distinct[at] == candidates]] = True
    hit: np.ndarray[Any, np.dtype[np.bool_]] = present[np.searchsorted(distinct, values)]
    return hit


@dataclass(frozen=True, slots=True, eq=False)
class SortedEntries:
    """An immutable, compact table of exact-number entries, sorted by number.

    ``keys[i]`` is in group ``group_ids[slots[i]]``; the entries at positions ``expiring``
    expire at ``expiry_at`` (the others never do). The arrays may be views of a mapped file.
    """

    keys: Int64s
    slots: Slots
    group_ids: Int64s
    expiring: Int64s
    expiry_at: Int64s

    def __len__(self) -> int:
        return len(self.keys)

    @property
    def nbytes(self) -> int:
        arrays = (self.keys, self.slots, self.group_ids, self.expiring, self.expiry_at)
        return sum(int(array.nbytes) for array in arrays)

    @classmethod
    def empty(cls) -> SortedEntries:
        none = np.empty(0, np.int64)
        return cls(none, np.empty(0, np.uint8), none, none, none)

    @classmethod
    def from_columns(cls, keys: Int64s, groups: Int64s, expiry: Int64s) -> SortedEntries:
        """From unsorted columns of (number key, group id, expiry stamp)."""
        if not len(keys):
            return cls.empty()
        # Rows come from the store in group order, each group sorted: the groups are found
        # from where the runs start, and a stable sort merges sorted runs fastest (a single
        # group needs no sort at all).
        starts = np.flatnonzero(np.diff(groups)) + 1
        group_ids = np.unique(groups[np.concatenate([[0], starts])]).astype(np.int64)
        slots = np.searchsorted(group_ids, groups).astype(slot_dtype(len(group_ids)))
        if not (keys[1:] >= keys[:-1]).all():
            order = np.argsort(keys, kind="stable")
            keys, slots, expiry = keys[order], slots[order], expiry[order]
        expiring = np.flatnonzero(expiry != NEVER)
        return cls(
            np.ascontiguousarray(keys),
            np.ascontiguousarray(slots),
            group_ids,
            expiring.astype(np.int64),
            np.ascontiguousarray(expiry[expiring]),
        )

    def expiry(self, position: int) -> int:
        expiring = self.expiring
        if not len(expiring):
            return NEVER
        at = int(np.searchsorted(expiring, position))
        if at < len(expiring) and expiring[at] == position:
            return int(self.expiry_at[at])
        return NEVER

    def expiries(self, positions: Int64s) -> Int64s:
        """The expiry stamps of the entries at ``positions`` (NEVER for none)."""
        found = np.full(len(positions), NEVER, np.int64)
        expiring = self.expiring
        if len(expiring) and len(positions):
            at = np.minimum(np.searchsorted(expiring, positions), len(expiring) - 1)
            hit = expiring[at] == positions
            found[hit] = self.expiry_at[at[hit]]
        return found

    def positions_of(self, keys: Int64s) -> tuple[Int64s, Int64s]:
        """Every position holding one of ``keys``, and which of ``keys`` it holds."""
        low = np.searchsorted(self.keys, keys, "left")
        counts = np.searchsorted(self.keys, keys, "right") - low
        total = int(counts.sum())
        owners = np.repeat(np.arange(len(keys), dtype=np.int64), counts)
        starts = np.repeat(np.cumsum(counts) - counts, counts)
        return np.repeat(low, counts) + (np.arange(total, dtype=np.int64) - starts), owners

    def merged(
        self,
        drop_keys: Int64s,
        drop_groups: Int64s,
        add_keys: Int64s,
        add_groups: Int64s,
        add_expiry: Int64s,
        live_groups: set[int],
        now: int,
    ) -> SortedEntries:
        """A new table: this one less the (key, group) pairs dropped (``ANY_GROUP``: every
        group), less entries of groups no longer live or expired by ``now``, plus the rows
        added (which must not repeat a pair, nor be dropped themselves).

        Array operations only, in time linear in the table plus the change's own sort."""
        group_live = _among(self.group_ids, live_groups)
        drop = np.zeros(len(self.keys), bool)
        if not group_live.all():
            drop |= ~group_live[self.slots]
        if len(self.expiring):
            drop[self.expiring[self.expiry_at <= now]] = True
        if len(drop_keys):
            positions, owners = self.positions_of(drop_keys)
            wanted = drop_groups[owners]
            held = self.group_ids[self.slots[positions]]
            drop[positions[(wanted == ANY_GROUP) | (wanted == held)]] = True
        live_add = (add_expiry > now) & _among(add_groups, live_groups)
        add_keys, add_groups, add_expiry = (
            add_keys[live_add],
            add_groups[live_add],
            add_expiry[live_add],
        )
        order = np.argsort(add_keys, kind="stable")
        add_keys, add_groups, add_expiry = add_keys[order], add_groups[order], add_expiry[order]

        # A slot for every live group (few), whether or not it has entries here: finding
        # which groups the added rows name would cost a pass over them all.
        group_ids = np.unique(np.fromiter(live_groups, np.int64, len(live_groups)))
        dtype = slot_dtype(len(group_ids))
        old_to_new = np.searchsorted(group_ids, self.group_ids).astype(dtype)
        dropped = np.flatnonzero(drop)
        if len(dropped):
            kept = ~drop
            kept_keys = self.keys[kept]
            kept_slots = old_to_new[self.slots[kept]]
        else:
            kept_keys = self.keys
            kept_slots = old_to_new[self.slots]
        # Each added row goes before the kept entries of the same number.
        inserted_at = np.searchsorted(kept_keys, add_keys, "left")
        add_positions = inserted_at + np.arange(len(add_keys), dtype=np.int64)
        total = len(kept_keys) + len(add_keys)
        if len(add_keys):
            from_base = np.ones(total, bool)
            from_base[add_positions] = False
            keys = np.empty(total, np.int64)
            keys[from_base] = kept_keys
            keys[add_positions] = add_keys
            slots = np.empty(total, dtype)
            slots[from_base] = kept_slots
            slots[add_positions] = np.searchsorted(group_ids, add_groups).astype(dtype)
        else:
            keys = np.ascontiguousarray(kept_keys)
            slots = np.ascontiguousarray(kept_slots)

        # Expiring entries: the base's that stay, at their new positions, and the added ones.
        still = ~drop[self.expiring] if len(self.expiring) else np.empty(0, bool)
        old = self.expiring[still]
        kept_index = old - np.searchsorted(dropped, old)
        moved = kept_index + np.searchsorted(inserted_at, kept_index, "right")
        added_expiring = add_expiry != NEVER
        positions = np.concatenate([moved, add_positions[added_expiring]])
        stamps = np.concatenate([self.expiry_at[still], add_expiry[added_expiring]])
        order = np.argsort(positions, kind="stable")
        return SortedEntries(
            keys, slots, group_ids, positions[order].astype(np.int64), stamps[order]
        )


class NumberTable:
    """Exact numbers: an immutable sorted base and an overlay of changes since it was built."""

    __slots__ = ("base", "overlay", "tombstones")

    def __init__(self, base: SortedEntries) -> None:
        self.base = base
        # number -> ((group id, expiry), ...): entries written since the base was built,
        # shadowing the base's entry of the same number and group.
        self.overlay: dict[int, tuple[Hit, ...]] = {}
        # (number, group id) of base entries removed since.
        self.tombstones: set[tuple[int, int]] = set()

    @classmethod
    def empty(cls) -> NumberTable:
        return cls(SortedEntries.empty())

    @classmethod
    def from_hits(cls, rows: Iterable[tuple[int, int, int]]) -> NumberTable:
        """From (number key, group id, expiry) rows."""
        columns: Int64s = np.array(list(rows), np.int64).reshape(-1, 3)
        return cls(SortedEntries.from_columns(columns[:, 0], columns[:, 1], columns[:, 2]))

    @property
    def keys(self) -> Int64s:
        return self.base.keys

    @property
    def size(self) -> int:
        return len(self.base) - len(self.tombstones) + sum(map(len, self.overlay.values()))

    @property
    def nbytes(self) -> int:
        """Bytes held by the base arrays (the bulk of the table)."""
        return self.base.nbytes

    @property
    def changed(self) -> int:
        """How many (number, group) changes the overlay holds."""
        return len(self.overlay) + len(self.tombstones)

    def hits(self, key: int) -> list[Hit]:
        found: list[Hit] = []
        base = self.base
        keys = base.keys
        position = int(np.searchsorted(keys, key))
        overlaid = self.overlay.get(key, ())
        shadowed = {g for g, _ in overlaid}
        tombstones = self.tombstones
        while position < len(keys) and keys[position] == key:
            group_id = int(base.group_ids[base.slots[position]])
            if group_id not in shadowed and (key, group_id) not in tombstones:
                found.append((group_id, base.expiry(position)))
            position += 1
        found.extend(overlaid)
        return found

    # --- writing (one writer at a time) ---------------------------------------------------------

    def upsert(self, key: int, group_id: int, expires: int) -> None:
        kept = tuple(h for h in self.overlay.get(key, ()) if h[0] != group_id)
        self.overlay[key] = (*kept, (group_id, expires))
        self.tombstones.discard((key, group_id))

    def upsert_many(self, group_id: int, keys: Sequence[int], expiries: Sequence[int]) -> None:
        """``upsert`` for many keys of one group, in one loop (a change list's 50,000 adds
        were a call each)."""
        overlay = self.overlay
        for key, expires in zip(keys, expiries, strict=True):
            there = overlay.get(key)
            if there is None:
                overlay[key] = ((group_id, expires),)
            else:
                overlay[key] = (*(h for h in there if h[0] != group_id), (group_id, expires))
        if self.tombstones:
            self.tombstones.difference_update(zip(keys, repeat(group_id)))

    def remove_many(self, group_id: int, keys: Sequence[int]) -> None:
        """``remove`` for many keys of one group, in one loop."""
        overlay = self.overlay
        for key in keys:
            there = overlay.pop(key, None)
            if there is not None:
                kept = tuple(h for h in there if h[0] != group_id)
                if kept:
                    overlay[key] = kept
        self.tombstones.update(zip(keys, repeat(group_id)))

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
        # A fixed size, not a share of the base: each overlay entry costs a worker about 200
        # bytes of Python objects, and a registry's base would allow millions of them.
        return self.changed > OVERLAY_LIMIT

    def merged(self, live_groups: set[int], now: int = -(2**63)) -> NumberTable:
        """A new table with the overlay folded into the base (dropped groups and entries
        expired by ``now`` left out)."""
        return NumberTable(self.merged_entries(live_groups, now))

    def merged_entries(
        self,
        live_groups: set[int],
        now: int,
        change: tuple[int, Int64s, Int64s] | None = None,
        removal: tuple[int, Int64s] | None = None,
    ) -> SortedEntries:
        """The base with the overlay folded in and then, optionally, a big change's upserts
        (group, keys, expiries) and removals (group or ANY_GROUP, keys) applied after it."""
        adds = [(k, g, e) for k, hits in self.overlay.items() for g, e in hits]
        add = np.array(adds, np.int64).reshape(-1, 3)
        add_keys, add_groups, add_expiry = add[:, 0], add[:, 1], add[:, 2]
        gone = np.array(list(self.tombstones), np.int64).reshape(-1, 2)
        # Every overlay entry shadows the base entry of its pair; every tombstone removes one.
        drop_keys = [gone[:, 0], add_keys]
        drop_groups = [gone[:, 1], add_groups]
        if change is not None:
            group_id, keys, expiries = change
            superseded = (add_groups == group_id) & _found_in(add_keys, keys)
            add_keys, add_groups, add_expiry = (
                add_keys[~superseded],
                add_groups[~superseded],
                add_expiry[~superseded],
            )
            drop_keys.append(keys)
            drop_groups.append(np.full(len(keys), group_id, np.int64))
            add_keys = np.concatenate([add_keys, keys])
            add_groups = np.concatenate([add_groups, np.full(len(keys), group_id, np.int64)])
            add_expiry = np.concatenate([add_expiry, expiries])
        if removal is not None:
            group_id, keys = removal
            removed = _found_in(add_keys, keys)
            if group_id != ANY_GROUP:
                removed &= add_groups == group_id
            add_keys, add_groups, add_expiry = (
                add_keys[~removed],
                add_groups[~removed],
                add_expiry[~removed],
            )
            drop_keys.append(keys)
            drop_groups.append(np.full(len(keys), group_id, np.int64))
        return self.base.merged(
            np.concatenate(drop_keys),
            np.concatenate(drop_groups),
            add_keys,
            add_groups,
            add_expiry,
            live_groups,
            now,
        )


@dataclass(frozen=True, slots=True)
class IndexedGroup:
    id: int
    name: str
    direction: Direction
    kind: GroupKind = GroupKind.BLOCK
    scope: GroupScope = GroupScope.GLOBAL
    consent_overrides: bool = False

    @property
    def role(self) -> GroupRole:
        return GroupRole(self.kind, self.scope, self.consent_overrides, self.direction)


@dataclass(frozen=True, slots=True)
class IndexedCampaign:
    id: int
    name: str
    window: CallingWindow | None
    group_ids: tuple[int, ...]


@dataclass(slots=True)
class AccountIndex:
    version: int
    groups: dict[int, IndexedGroup] = field(default_factory=dict)
    numbers: NumberTable = field(default_factory=NumberTable.empty)
    # Keys are patterns without the mark ("+91140"); lengths lets a check try each once.
    prefixes: dict[str, tuple[Hit, ...]] = field(default_factory=dict)
    prefix_lengths: frozenset[int] = frozenset()
    base_version: int = 0  # the version the base was built at; the overlay holds the rest
    campaigns: dict[int, IndexedCampaign] = field(default_factory=dict)
    # The groups each kind of check counts, worked out once per state of the groups and
    # campaigns: ``_shape`` moves with every such change and a cached set of another shape is
    # not used (a reader may have worked one out while a writer changed the groups).
    _shape: int = 0
    _counted: dict[object, tuple[int, Any]] = field(default_factory=dict)

    # --- reading ---------------------------------------------------------------------------

    def plain(self, direction: Direction | None) -> frozenset[int]:
        """The groups a check without a campaign counts in ``direction``."""
        shape = self._shape
        cached = self._counted.get(direction)
        if cached is not None and cached[0] == shape:
            found: frozenset[int] = cached[1]
            return found
        counted = plain_groups(self._roles(), direction)
        self._counted[direction] = (shape, counted)
        return counted

    def plan(self, campaign: CampaignRef | None, direction: Direction | None) -> Plan:
        """What a campaign's checks obey in ``direction``; CampaignNotFound if it has none.
        Without a campaign, the plan of a plain check: the global block groups, nothing that
        lifts them, no window."""
        shape = self._shape
        cached = self._counted.get((campaign, direction))
        if cached is not None and cached[0] == shape:
            known: Plan = cached[1]
            return known
        if campaign is None:
            plain = self.plain(direction)
            plan = Plan(0, "", None, plain, frozenset(), frozenset())
        else:
            found = self._campaign(campaign)
            plan = plan_of(
                found.id, found.name, found.window, found.group_ids, self._roles(), direction
            )
        self._counted[(campaign, direction)] = (shape, plan)
        return plan

    def _campaign(self, ref: CampaignRef) -> IndexedCampaign:
        if isinstance(ref, CampaignById):
            found = self.campaigns.get(ref.id)
        else:
            wanted = name_key(ref.name)
            found = next((c for c in self.campaigns.values() if name_key(c.name) == wanted), None)
        if found is None:
            raise CampaignNotFound
        return found

    def _roles(self) -> dict[int, GroupRole]:
        return {group_id: group.role for group_id, group in list(self.groups.items())}

    def matches(
        self,
        e164: str,
        direction: Direction | None,
        now: int,
        among: frozenset[int] | None = None,
    ) -> list[Match]:
        """The active entries that match ``e164`` in the groups a plain check counts in
        ``direction``, or in the groups ``among``."""
        wanted = self.plain(direction) if among is None else among
        found: list[Match] = []
        self._collect(found, e164, "number", self.numbers.hits(number_key(e164)), wanted, now)
        for length in self.prefix_lengths:
            key = e164[:length]
            hits = self.prefixes.get(key) if length <= len(e164) else None
            if hits:
                self._collect(found, key + PREFIX_MARK, "prefix", hits, wanted, now)
        return found

    def blocking_groups(
        self,
        numbers: Sequence[str | None],
        direction: Direction | None,
        now: int,
        keys: Int64s | None = None,
        among: frozenset[int] | None = None,
        tally: BatchTally | None = None,
    ) -> list[list[int]]:
        """For each E.164 number, the ids of the groups that block it now (batch check), or
        of the groups ``among`` that match it; an empty list for a None. ``keys`` may give
        the numbers as integers already. Answers may be shared between numbers: they are
        never to be changed in place. ``tally``, when given, is told which entries matched.

        The common case (one base entry, or none) is answered with array operations; numbers
        with several entries or recent changes go through ``hits``.
        """
        table = self.numbers
        base = table.base
        wanted = self.plain(direction) if among is None else among
        if keys is None:
            keys = np.fromiter(
                (int(n[1:]) if n is not None else -1 for n in numbers), np.int64, len(numbers)
            )
        none: list[int] = []  # shared by every number without a match; never appended to
        answers: list[list[int]] = [none] * len(numbers)
        if len(base.keys) and len(keys):
            low = np.searchsorted(base.keys, keys, "left")
            high = np.searchsorted(base.keys, keys, "right")
            single = np.flatnonzero(high - low == 1)
            at = low[single]
            group_of = base.group_ids[base.slots[at]]
            live = _among(group_of, wanted)
            if len(base.expiring):
                live &= base.expiries(at) > now
            # The numbers of one group share one answer (never appended to): no list each,
            # and a caller can decide once per answer.
            one_group = {g: [g] for g in set(group_of[live].tolist())}
            for position, group_id in zip(
                single[live].tolist(), group_of[live].tolist(), strict=True
            ):
                answers[position] = one_group[group_id]
            if tally is not None:
                tally.positions, tally.groups = single[live], group_of[live].astype(np.int64)
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
            answers[position] = [g for g, exp in table.hits(key) if now < exp and g in wanted]
            if tally is not None:
                tally.exact.extend((position, g) for g in answers[position])
        if tally is not None and slow and len(tally.positions):
            # A number answered again above is told there, not among the common case.
            kept = ~np.isin(tally.positions, np.fromiter(slow, np.int64, len(slow)))
            tally.positions, tally.groups = tally.positions[kept], tally.groups[kept]
        if self.prefix_lengths:
            for position, e164 in enumerate(numbers):
                if e164 is None:
                    continue
                for length in self.prefix_lengths:
                    hits = self.prefixes.get(e164[:length]) if length <= len(e164) else None
                    if hits:
                        found = [g for g, exp in hits if now < exp and g in wanted]
                        if found:
                            answers[position] = [*answers[position], *found]
                            if tally is not None:
                                prefix = e164[:length] + PREFIX_MARK
                                tally.prefixed.extend((position, g, prefix) for g in found)
        if not slow and not self.prefix_lengths:
            return answers  # each answer has one group at most
        return [a if len(a) < 2 else sorted(set(a)) for a in answers]

    def _collect(
        self,
        into: list[Match],
        pattern: str,
        rule: str,
        hits: Iterable[Hit],
        wanted: frozenset[int],
        now: int,
    ) -> None:
        for group_id, expires in hits:
            group = self.groups.get(group_id)
            if group is not None and now < expires and group_id in wanted:
                expiry = _expiry_datetime(expires)
                into.append(Match(group_id, group.name, pattern, expiry, rule))

    @property
    def size(self) -> int:
        return self.numbers.size + sum(map(len, self.prefixes.values()))

    # --- writing (one writer at a time, under the checker's lock) ----------------------------

    def put_group(self, group: IndexedGroup) -> None:
        self.groups[group.id] = group
        self._shape += 1

    def put_campaign(self, campaign: IndexedCampaign) -> None:
        self.campaigns[campaign.id] = campaign
        self._shape += 1

    def drop_campaign(self, campaign_id: int) -> None:
        self.campaigns.pop(campaign_id, None)
        self._shape += 1

    def drop_group(self, group_id: int) -> None:
        # The table's entries of the group stop counting at once (no group to match) and
        # leave at the next merge.
        self.groups.pop(group_id, None)
        self._shape += 1
        for key in [k for k, hits in self.prefixes.items() if any(g == group_id for g, _ in hits)]:
            self._set_prefix(key, tuple(h for h in self.prefixes[key] if h[0] != group_id))
        self._refresh_lengths()

    def apply(self, change: Change) -> None:
        """Bring the index to ``change.version`` (one version behind it) in the overlay: in
        time proportional to the change."""
        self._apply_groups(change)
        draft = change.draft
        if len(draft.upserted):
            assert draft.group_id is not None  # upserts always name their group
            self.upsert_keys(draft.group_id, draft.upserted.tolist(), draft.expiries.tolist())
        if len(draft.removed):
            self.remove_keys(draft.group_id, draft.removed.tolist())
        self.version = change.version

    def applied_in_bulk(self, change: Change, now: int) -> AccountIndex:
        """A new index at ``change.version``: this one (one version behind it) with its
        overlay and the change merged into a new base by array operations. For a change too
        big for the overlay; the time is linear in the base, with no per-entry Python."""
        index = self.rebased(self.numbers.base, self.version)
        index.numbers = self.numbers  # the overlay is folded in below, with the change
        index._apply_groups(change)
        draft = change.draft
        upserted, removed = draft.upserted, draft.removed
        if len(upserted[upserted < 0]) or len(removed[removed < 0]):
            prefixes = upserted < 0
            if prefixes.any():
                assert draft.group_id is not None
                index.upsert_keys(
                    draft.group_id, upserted[prefixes].tolist(), draft.expiries[prefixes].tolist()
                )
            if (removed < 0).any():
                index.remove_keys(draft.group_id, removed[removed < 0].tolist())
        numbers = upserted >= 0
        change_part = None
        if numbers.any():
            assert draft.group_id is not None
            change_part = (draft.group_id, upserted[numbers], draft.expiries[numbers])
        removal = None
        if (removed >= 0).any():
            group = ANY_GROUP if draft.group_id is None else draft.group_id
            removal = (group, removed[removed >= 0])
        base = self.numbers.merged_entries(set(index.groups), now, change_part, removal)
        index.numbers = NumberTable(base)
        index.version = index.base_version = change.version
        return index

    def folded(self, now: int) -> SortedEntries:
        """The base with the overlay merged in (for a new snapshot at this version)."""
        return self.numbers.merged_entries(set(self.groups), now)

    def copied(self) -> AccountIndex:
        """A copy to apply a change to off to the side, then swap in whole: the base shared
        (it is immutable), the overlay, the prefixes and the groups copied (they are small)."""
        numbers = NumberTable(self.numbers.base)
        numbers.overlay = dict(self.numbers.overlay)
        numbers.tombstones = set(self.numbers.tombstones)
        return replace(
            self,
            groups=dict(self.groups),
            numbers=numbers,
            prefixes=dict(self.prefixes),
            campaigns=dict(self.campaigns),
            _counted={},
        )

    def rebased(self, base: SortedEntries, version: int) -> AccountIndex:
        """A copy of this index's groups and prefixes over ``base``, with no overlay."""
        return replace(
            self,
            version=version,
            base_version=version,
            groups=dict(self.groups),
            numbers=NumberTable(base),
            prefixes=dict(self.prefixes),
            campaigns=dict(self.campaigns),
            _counted={},
        )

    def _apply_groups(self, change: Change) -> None:
        draft = change.draft
        if draft.group is not None:
            group = draft.group
            self.put_group(
                IndexedGroup(
                    group.id,
                    group.name,
                    group.direction,
                    group.kind,
                    group.scope,
                    group.consent_overrides,
                )
            )
        if draft.action is Action.DELETE and draft.group_id is not None:
            self.drop_group(draft.group_id)
        if draft.campaign is not None:
            campaign = draft.campaign
            if draft.action is Action.CAMPAIGN_DELETE:
                self.drop_campaign(campaign.id)
            else:
                self.put_campaign(
                    IndexedCampaign(campaign.id, campaign.name, campaign.window, campaign.group_ids)
                )

    def upsert(self, group_id: int, patterns: Iterable[str], expires: int) -> None:
        keys = [pattern_key(pattern) for pattern in patterns]
        self.upsert_keys(group_id, keys, [expires] * len(keys))

    def remove(self, group_id: int | None, patterns: Iterable[str]) -> None:
        self.remove_keys(group_id, [pattern_key(pattern) for pattern in patterns])

    def upsert_keys(self, group_id: int, keys: Sequence[int], expiries: Sequence[int]) -> None:
        """Entries by stored key (``numbers.pattern_key``: negative for a prefix)."""
        numbers: list[int] = []
        number_expiries: list[int] = []
        for key, expires in zip(keys, expiries, strict=True):
            if key < 0:
                prefix = _prefix_of(key)
                kept = tuple(h for h in self.prefixes.get(prefix, ()) if h[0] != group_id)
                self.prefixes[prefix] = (*kept, (group_id, expires))
            else:
                numbers.append(key)
                number_expiries.append(expires)
        self.numbers.upsert_many(group_id, numbers, number_expiries)
        self._refresh_lengths()

    def remove_keys(self, group_id: int | None, keys: Sequence[int]) -> None:
        """Remove entries by stored key from the group, or from every group (None)."""
        numbers: list[int] = []
        for key in keys:
            if key < 0:
                prefix = _prefix_of(key)
                kept = tuple(
                    h
                    for h in self.prefixes.get(prefix, ())
                    if group_id is not None and h[0] != group_id
                )
                self._set_prefix(prefix, kept)
            elif group_id is None:
                self.numbers.remove(key, None)
            else:
                numbers.append(key)
        if numbers:
            assert group_id is not None
            self.numbers.remove_many(group_id, numbers)
        self._refresh_lengths()

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


def entries_from_chunks(chunks: Iterable[Sequence[tuple[int, int, int]]]) -> SortedEntries:
    """``SortedEntries`` from the store's chunks (``entries.active_number_keys``) of
    (number, group id, expiry stamp) rows, which become arrays without per-row work.

    Each chunk is reduced at once to what the base keeps (the key, a group slot, the few
    expiries), so a registry of 10**8 rows peaks near 2 GB, not the 7 GB of three int64
    columns and their copies."""
    slot_of: dict[int, int] = {}
    keys: list[Int64s] = []
    slots: list[np.ndarray[Any, np.dtype[np.uint32]]] = []
    expiring: list[Int64s] = []
    expiry_at: list[Int64s] = []
    count = 0
    for chunk in chunks:
        if not chunk:
            continue
        rows = np.array(chunk, dtype=np.int64).reshape(-1, 3)
        keys.append(rows[:, 0].copy())
        groups, inverse = np.unique(rows[:, 1], return_inverse=True)
        chunk_slots = np.array([slot_of.setdefault(int(g), len(slot_of)) for g in groups])
        slots.append(chunk_slots[inverse].astype(np.uint32))
        stamps = rows[:, 2]
        dated = np.flatnonzero(stamps != NEVER)
        expiring.append(dated + count)
        expiry_at.append(stamps[dated])
        count += len(rows)
    if not count:
        return SortedEntries.empty()
    all_keys = np.concatenate(keys)
    del keys
    # Slots were handed out in the order groups came; the base numbers them by group id.
    group_ids = np.array(list(slot_of), np.int64)
    by_id = np.argsort(group_ids)
    renumber = np.empty(len(group_ids), np.int64)
    renumber[by_id] = np.arange(len(group_ids))
    all_slots = renumber[np.concatenate(slots)].astype(slot_dtype(len(group_ids)))
    del slots
    positions, stamps = np.concatenate(expiring), np.concatenate(expiry_at)
    if not (all_keys[1:] >= all_keys[:-1]).all():
        # Rows come from the store in group order, each group sorted: a stable sort merges
        # sorted runs fastest.
        order = np.argsort(all_keys, kind="stable")
        all_keys, all_slots = all_keys[order], all_slots[order]
        where = np.empty(len(order), np.int64)
        where[order] = np.arange(len(order))
        positions = where[positions]
        del order, where
        by_position = np.argsort(positions)
        positions, stamps = positions[by_position], stamps[by_position]
    return SortedEntries(all_keys, all_slots, group_ids[by_id], positions, stamps)


def with_prefixes(
    version: int,
    groups: Iterable[IndexedGroup],
    base: SortedEntries,
    prefixes: Iterable[tuple[int, str, int]],
    campaigns: Iterable[IndexedCampaign] = (),
) -> AccountIndex:
    """An account's index from its groups, its numbers' base and its (group id, prefix key
    text without the mark, expiry stamp) prefix entries."""
    index = AccountIndex(version=version, numbers=NumberTable(base), base_version=version)
    for group in groups:
        index.put_group(group)
    for campaign in campaigns:
        index.put_campaign(campaign)
    collected: dict[str, list[Hit]] = {}
    for group_id, prefix, expires in prefixes:
        collected.setdefault(prefix, []).append((group_id, expires))
    index.prefixes = {k: tuple(v) for k, v in collected.items()}
    index._refresh_lengths()
    return index


def load(
    version: int,
    groups: Iterable[IndexedGroup],
    numbers: Iterable[Sequence[tuple[int, int, int]]],
    prefixes: Iterable[tuple[int, str, datetime | None]],
    campaigns: Iterable[IndexedCampaign] = (),
) -> AccountIndex:
    """An account's index from the store's chunks of number rows and its prefix rows."""
    return with_prefixes(
        version,
        groups,
        entries_from_chunks(numbers),
        (
            (group_id, pattern[: -len(PREFIX_MARK)], expiry_stamp(expires_at))
            for group_id, pattern, expires_at in prefixes
        ),
        campaigns,
    )


def build(
    version: int,
    groups: Iterable[IndexedGroup],
    entries: Iterable[tuple[int, str, datetime | None]],
    campaigns: Iterable[IndexedCampaign] = (),
) -> AccountIndex:
    """An account's index from its groups and its (group id, pattern, expiry) entries."""
    numbers: list[tuple[int, int, int]] = []
    prefixes: list[tuple[int, str, int]] = []
    for group_id, pattern, expires_at in entries:
        if pattern.endswith(PREFIX_MARK):
            prefixes.append((group_id, pattern[: -len(PREFIX_MARK)], expiry_stamp(expires_at)))
        else:
            numbers.append((number_key(pattern), group_id, expiry_stamp(expires_at)))
    return with_prefixes(version, groups, entries_from_chunks([numbers]), prefixes, campaigns)


def snapshot_parts(index: AccountIndex) -> tuple[dict[str, Int64s | Slots], dict[str, Any]]:
    """The arrays and the metadata of a snapshot of ``index``'s base (its overlay is not
    saved: fold it first)."""
    base = index.numbers.base
    arrays: dict[str, Int64s | Slots] = {
        "keys": base.keys,
        "slots": base.slots,
        "group_ids": base.group_ids,
        "expiring": base.expiring,
        "expiry_at": base.expiry_at,
    }
    meta = {
        "groups": [
            [g.id, g.name, g.direction.value, g.kind.value, g.scope.value, g.consent_overrides]
            for g in index.groups.values()
        ],
        "prefixes": [[p, [list(hit) for hit in hits]] for p, hits in index.prefixes.items()],
        "campaigns": [
            [c.id, c.name, None if c.window is None else c.window.to_wire(), list(c.group_ids)]
            for c in index.campaigns.values()
        ],
    }
    return arrays, meta


def index_from_snapshot(snapshot: Snapshot) -> AccountIndex:
    """An account's index over a mapped snapshot's arrays (shared, read-only)."""
    arrays = snapshot.arrays
    base = SortedEntries(
        arrays["keys"],
        arrays["slots"],
        arrays["group_ids"],
        arrays["expiring"],
        arrays["expiry_at"],
    )
    meta = snapshot.meta
    groups = [
        IndexedGroup(
            id_,
            name,
            Direction(direction),
            GroupKind(kind),
            GroupScope(scope),
            bool(consent_overrides),
        )
        for id_, name, direction, kind, scope, consent_overrides in meta["groups"]
    ]
    prefixes = [
        (group_id, prefix, expires)
        for prefix, hits in meta["prefixes"]
        for group_id, expires in hits
    ]
    campaigns = [
        IndexedCampaign(
            id_, name, None if window is None else window_from_wire(window), tuple(group_ids)
        )
        for id_, name, window, group_ids in meta["campaigns"]
    ]
    return with_prefixes(snapshot.version, groups, base, prefixes, campaigns)
