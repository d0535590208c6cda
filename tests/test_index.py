"""The check index on its own: base arrays, overlay, tombstones, merges, expiry, direction."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from callblock.change import Change, Draft, expiry_keys, keys_of
from callblock.domain import Action, Direction, Surface
from callblock.index import (
    NEVER,
    AccountIndex,
    IndexedGroup,
    NumberTable,
    build,
    entries_from_chunks,
    number_key,
)

G1, G2 = IndexedGroup(1, "One", Direction.BOTH), IndexedGroup(2, "Two", Direction.INBOUND)


def index_with(entries: list[tuple[int, str, None]]) -> AccountIndex:
    return build(1, [G1, G2], entries)


def test_lookups_across_base_and_overlay() -> None:
    index = index_with([(1, "+919876543210", None), (2, "+919876543210", None)])
    assert {m.group_id for m in index.matches("+919876543210", None, 0)} == {1, 2}
    assert {m.group_id for m in index.matches("+919876543210", Direction.OUTBOUND, 0)} == {1}
    index.upsert(2, ["+919123456780"], 100)
    assert index.blocking_groups(["+919123456780", "+919876543210"], None, 99) == [[2], [1, 2]]
    assert index.blocking_groups(["+919123456780"], None, 100) == [[]]  # expired at 100
    index.remove(1, ["+919876543210"])
    assert index.blocking_groups(["+919876543210"], None, 0) == [[2]]
    index.remove(None, ["+919876543210"])
    assert index.matches("+919876543210", None, 0) == []
    index.upsert(1, ["+919876543210"], int(NEVER))  # re-added after a removal
    assert index.blocking_groups(["+919876543210"], None, 0) == [[1]]


def test_a_dropped_group_stops_matching_at_once_and_leaves_at_the_merge() -> None:
    index = index_with([(1, "+919876543210", None), (2, "+919876543211", None)])
    index.drop_group(2)
    assert index.blocking_groups(["+919876543211"], None, 0) == [[]]
    merged = index.numbers.merged(set(index.groups))
    assert merged.size == 1


@settings(max_examples=60, deadline=None)
@given(
    operations=st.lists(
        st.tuples(
            st.sampled_from(["add", "remove", "remove-all"]),
            st.integers(1, 3),
            st.integers(0, 30),
            st.integers(0, 3),
        ),
        max_size=80,
    ),
    merge_every=st.integers(1, 20),
)
def test_the_table_agrees_with_a_plain_model(
    operations: list[tuple[str, int, int, int]], merge_every: int
) -> None:
    """Whatever the order of changes and merges, lookups equal a dict's."""
    groups = {g: IndexedGroup(g, str(g), Direction.BOTH) for g in (1, 2, 3)}
    index = build(1, groups.values(), [(1, "+91900000000" + str(n % 10), None) for n in range(3)])
    model: dict[int, dict[int, int]] = {}
    for n in range(3):
        model.setdefault(number_key("+91900000000" + str(n % 10)), {})[1] = int(NEVER)
    for step, (op, group, n, expiry) in enumerate(operations):
        e164 = f"+9190000000{n:02d}"
        key = number_key(e164)
        if op == "add":
            index.upsert(group, [e164], expiry)
            model.setdefault(key, {})[group] = expiry
        elif op == "remove":
            index.remove(group, [e164])
            model.get(key, {}).pop(group, None)
        else:
            index.remove(None, [e164])
            model.pop(key, None)
        if step % merge_every == 0:
            index.numbers = index.numbers.merged(set(index.groups))
    for n in range(31):
        e164 = f"+9190000000{n:02d}"
        expected = sorted(g for g, e in model.get(number_key(e164), {}).items() if e > 1)
        assert index.blocking_groups([e164], None, 1) == [expected]
        assert sorted(m.group_id for m in index.matches(e164, None, 1) if m.group_id) == expected


def test_a_million_entries_take_nine_bytes_each_and_expiry_is_paid_only_where_set() -> None:
    rows = ((919000000000 + i, 1 + i % 3, int(NEVER)) for i in range(1_000_000))
    table = NumberTable.from_hits(rows)
    # An int64 number and a one-byte group slot; 24 bytes for the three groups' ids.
    assert table.nbytes == 9 * 1_000_000 + 3 * 8
    probe = random.Random(7).sample(range(1_000_000), 1000)
    assert all(table.hits(919000000000 + i) == [(1 + i % 3, int(NEVER))] for i in probe)
    expiring = NumberTable.from_hits(
        (919000000000 + i, 1, 10 if i < 1000 else int(NEVER)) for i in range(10_000)
    )
    assert expiring.nbytes == 9 * 10_000 + 8 + 1000 * 16
    assert expiring.hits(919000000000 + 999) == [(1, 10)]
    assert expiring.hits(919000000000 + 1000) == [(1, int(NEVER))]


def test_the_group_slot_widens_past_255_groups() -> None:
    table = NumberTable.from_hits((919000000000 + i, i, int(NEVER)) for i in range(300))
    assert table.base.slots.dtype == np.uint16
    assert table.hits(919000000000 + 299) == [(299, int(NEVER))]


def _change(version: int, action: Action, group: int | None, **parts: object) -> Change:
    draft = Draft(action=action, group_id=group, **parts)  # type: ignore[arg-type]
    return Change(1, version, datetime(2026, 1, 1, tzinfo=UTC), None, Surface.V1, draft)


operation = st.tuples(
    st.sampled_from(["add", "remove", "remove-all", "delete-group"]),
    st.integers(1, 3),
    st.lists(st.integers(0, 40), min_size=1, max_size=12),
    st.sampled_from([5, 50, int(NEVER)]),
)


@settings(max_examples=80, deadline=None)
@given(operations=st.lists(operation, max_size=30), bulk=st.lists(st.booleans(), max_size=30))
def test_changes_applied_in_the_overlay_or_in_bulk_agree_with_a_plain_model(
    operations: list[tuple[str, int, list[int], int]], bulk: list[bool]
) -> None:
    """Each change applied either entry by entry into the overlay or merged into a new base
    by array operations (as a registry-sized change is): the answers equal a dict's."""
    groups = {g: IndexedGroup(g, str(g), Direction.BOTH) for g in (1, 2, 3)}
    start = [(1 + n % 3, f"+9190000000{n:02d}", None) for n in range(0, 41, 2)]
    index = build(0, groups.values(), start)
    model: dict[int, dict[int, int]] = {}
    for group, pattern, _ in start:
        model.setdefault(number_key(pattern), {})[group] = int(NEVER)
    live = set(groups)
    for version, (op, group, ns, expiry) in enumerate(operations, start=1):
        if op in ("add", "remove") and group not in live:
            op = "remove-all"  # a deleted group takes no more writes
        keys = keys_of(sorted({number_key(f"+9190000000{n:02d}") for n in ns}))
        if op == "add":
            change = _change(
                version, Action.ADD, group, upserted=keys, expiries=expiry_keys(len(keys), expiry)
            )
            for key in keys.tolist():
                model.setdefault(key, {})[group] = expiry
        elif op == "remove":
            change = _change(version, Action.REMOVE, group, removed=keys)
            for key in keys.tolist():
                model.get(key, {}).pop(group, None)
        elif op == "remove-all":
            change = _change(version, Action.REMOVE, None, removed=keys)
            for key in keys.tolist():
                model.pop(key, None)
        else:
            change = _change(version, Action.DELETE, group)
            live.discard(group)
            for hits in model.values():
                hits.pop(group, None)
        if version <= len(bulk) and bulk[version - 1]:
            index = index.applied_in_bulk(change, now=1)
        else:
            index.apply(change)
        assert index.version == version
    for n in range(41):
        e164 = f"+9190000000{n:02d}"
        for now in (1, 10, 60):
            expected = sorted(
                g for g, e in model.get(number_key(e164), {}).items() if e > now and g in live
            )
            assert index.blocking_groups([e164], None, now) == [expected]
            assert (
                sorted(m.group_id for m in index.matches(e164, None, now) if m.group_id) == expected
            )


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.integers(919000000000, 919000000050),
            st.sampled_from([3, 17, 5]),
            st.sampled_from([7, 99, int(NEVER)]),
        ),
        unique_by=lambda row: (row[0], row[1]),
        max_size=60,
    ),
    chunk=st.integers(1, 20),
)
def test_the_loader_reads_chunks_into_the_same_table_as_plain_rows(
    rows: list[tuple[int, int, int]], chunk: int
) -> None:
    """The store's chunks, in whatever order and grouping, make the table the rows make."""
    chunks = [rows[i : i + chunk] for i in range(0, len(rows), chunk)]
    loaded = NumberTable(entries_from_chunks(chunks))
    expected: dict[int, list[tuple[int, int]]] = {}
    for key, group, expires in rows:
        expected.setdefault(key, []).append((group, expires))
    for key in range(919000000000, 919000000051):
        assert sorted(loaded.hits(key)) == sorted(expected.get(key, []))
