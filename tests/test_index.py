"""The check index on its own: base arrays, overlay, tombstones, merges, expiry, direction."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from callblock.domain import Direction
from callblock.index import NEVER, AccountIndex, IndexedGroup, NumberTable, build, number_key

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


def test_a_million_entries_take_twenty_bytes_each() -> None:
    rows = ((919000000000 + i, 1 + i % 3, int(NEVER)) for i in range(1_000_000))
    table = NumberTable.from_hits(rows)
    assert table.nbytes / table.size == 20
    probe = random.Random(7).sample(range(1_000_000), 1000)
    assert all(table.hits(919000000000 + i) == [(1 + i % 3, int(NEVER))] for i in probe)
