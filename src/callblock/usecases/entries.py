"""A group's entries: list them, add numbers and prefixes, remove them, purge the expired."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import Connection

from callblock.change import Draft, expiry_keys, keys_of
from callblock.domain import (
    Action,
    Actor,
    Entry,
    EntryStatus,
    GroupById,
    GroupRef,
    Page,
    RequestedNumber,
    split_repeats,
)
from callblock.index import expiry_stamp
from callblock.numbers import pattern_key, search_texts
from callblock.store import Store
from callblock.store import entries as entry_rows
from callblock.store import groups as group_rows
from callblock.usecases.groups import find_group
from callblock.usecases.results import NumbersAdded, NumbersRemoved, page
from callblock.usecases.writes import Writer


class Entries:
    def __init__(self, store: Store, clock: Callable[[], datetime], writer: Writer) -> None:
        self._store = store
        self._clock = clock
        self._writer = writer

    def list_entries(
        self,
        actor: Actor,
        group_id: int,
        *,
        status: EntryStatus,
        q: str | None,
        after: int | None,
        limit: int,
    ) -> Page[Entry]:
        """A page of the group's entries; with ``q``, those it finds: any part of a pattern
        as stored (``98765``, ``+91140*``), or a number or prefix in any spelling a check
        reads with the account's region (``09876543210``, ``0140*``; ``search_texts``)."""
        now = self._clock()
        texts = search_texts(q, actor.account.region) if q else None
        with self._store.read() as conn:
            group = find_group(conn, actor.account.id, GroupById(group_id))
            items = entry_rows.list_entries(
                conn,
                group.id,
                status=status,
                texts=texts,
                now=now,
                after_key=after,
                limit=limit + 1,
            )
            total = entry_rows.count_entries(conn, group.id, status=status, texts=texts, now=now)
        return page(items[:limit], total, len(items) > limit, lambda e: e.key)

    def add_numbers(
        self,
        actor: Actor,
        group_ref: GroupRef,
        numbers: Sequence[RequestedNumber],
        expires_at: datetime | None,
        note: str | None = None,
    ) -> NumbersAdded:
        """Add numbers; a number already in the group gets the new expiry."""
        first, repeats = split_repeats(numbers)
        written = [n.e164 for n in first]
        account_id = actor.account.id

        def work(conn: Connection, now: datetime) -> tuple[NumbersAdded, Draft]:
            group = find_group(conn, account_id, group_ref)
            # Exact: the account's write lock keeps every other writer out until commit.
            existing = entry_rows.numbers_in_groups(conn, account_id, group.id, written)
            entry_rows.upsert_entries(
                conn,
                group_id=group.id,
                numbers=written,
                expires_at=expires_at,
                source=actor.surface.value,
                now=now,
                note=note,
            )
            group_rows.touch_group(conn, group.id, now)
            new = len(set(written) - existing)
            draft = Draft(
                action=Action.ADD if new or not written else Action.EXPIRE_REFRESH,
                group_id=group.id,
                upserted=keys_of([pattern_key(number) for number in written]),
                expiries=expiry_keys(len(written), expiry_stamp(expires_at)),
                added=new,
                note=note,
            )
            return NumbersAdded(group, written, repeats, new=new), draft

        return self._writer.write(actor, work)

    def remove_numbers(
        self, actor: Actor, group_ref: GroupRef | None, numbers: Sequence[RequestedNumber]
    ) -> NumbersRemoved:
        """Remove numbers from one group, or from every group of the account (no group)."""
        distinct = list(dict.fromkeys(n.e164 for n in numbers))
        account_id = actor.account.id

        def work(conn: Connection, now: datetime) -> tuple[NumbersRemoved, Draft | None]:
            group_id = None if group_ref is None else find_group(conn, account_id, group_ref).id
            present = entry_rows.numbers_in_groups(conn, account_id, group_id, distinct)
            removed = [n for n in distinct if n in present]
            answer = NumbersRemoved(
                group_id=group_id,
                found=[n.e164 for n in numbers if n.e164 in present],
                missing=[n for n in numbers if n.e164 not in present],
                deleted=len(removed),
            )
            if not removed:
                return answer, None
            for touched in entry_rows.delete_entries(conn, account_id, group_id, removed):
                group_rows.touch_group(conn, touched, now)
            draft = Draft(
                action=Action.REMOVE,
                group_id=group_id,
                removed=keys_of([pattern_key(number) for number in removed]),
            )
            return answer, draft

        return self._writer.write(actor, work)

    def purge_expired(self, actor: Actor, group_id: int) -> int:
        """Remove every entry of the group whose expiry is at or before now (the write's
        time), in one write; answer how many went. Nothing expired: nothing is recorded."""
        account_id = actor.account.id

        def work(conn: Connection, now: datetime) -> tuple[int, Draft | None]:
            group = find_group(conn, account_id, GroupById(group_id))
            removed = entry_rows.delete_expired(conn, group.id, now)
            if not len(removed):
                return 0, None
            group_rows.touch_group(conn, group.id, now)
            return len(removed), Draft(action=Action.PURGE, group_id=group.id, removed=removed)

        return self._writer.write(actor, work)
