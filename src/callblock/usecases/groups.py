"""Groups: create (with numbers), list, read, rename or redirect, delete."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from callblock.change import Draft, GroupState, expiry_keys, keys_of
from callblock.domain import (
    Action,
    Actor,
    Direction,
    Group,
    GroupById,
    GroupDetail,
    GroupKind,
    GroupKindMismatch,
    GroupNotFound,
    GroupRef,
    GroupRefresh,
    GroupScope,
    Page,
    RequestedNumber,
    name_key,
    split_repeats,
)
from callblock.index import expiry_stamp
from callblock.numbers import pattern_key
from callblock.store import Store
from callblock.store import entries as entry_rows
from callblock.store import groups as group_rows
from callblock.usecases.results import GroupCreated, page
from callblock.usecases.writes import Writer


def find_group(conn: Connection, account_id: int, ref: GroupRef) -> Group:
    """The account's group named by id or by name; GroupNotFound otherwise."""
    if isinstance(ref, GroupById):
        group = group_rows.group_of_account(conn, account_id, ref.id)
    else:
        group = group_rows.group_by_name(conn, account_id, name_key(ref.name.strip()))
    if group is None:
        raise GroupNotFound
    return group


def state_of(group: Group) -> GroupState:
    return GroupState(
        group.id,
        group.name,
        group.description,
        group.direction,
        group.kind,
        group.scope,
        group.consent_overrides,
    )


def consistent_role(kind: GroupKind, consent_overrides: bool) -> None:
    """GroupKindMismatch for an allow group that consent would override."""
    if kind is GroupKind.ALLOW and consent_overrides:
        raise GroupKindMismatch(
            "consent_overrides is a property of block groups: an allow group's entries are "
            "the consent that overrides them"
        )


class Groups:
    def __init__(self, store: Store, clock: Callable[[], datetime], writer: Writer) -> None:
        self._store = store
        self._clock = clock
        self._writer = writer

    def create_group(
        self,
        actor: Actor,
        name: str,
        description: str,
        numbers: Sequence[RequestedNumber],
        expires_at: datetime | None,
        direction: Direction = Direction.BOTH,
        note: str | None = None,
        kind: GroupKind = GroupKind.BLOCK,
        scope: GroupScope = GroupScope.GLOBAL,
        consent_overrides: bool = False,
    ) -> GroupCreated:
        consistent_role(kind, consent_overrides)
        first, repeats = split_repeats(numbers)
        stored = [n.e164 for n in first]
        account_id = actor.account.id

        def work(conn: Connection, now: datetime) -> tuple[GroupCreated, Draft]:
            group = group_rows.insert_group(
                conn,
                account_id,
                name,
                name_key(name),
                description,
                now,
                direction,
                kind,
                scope,
                consent_overrides,
            )
            if stored:
                entry_rows.upsert_entries(
                    conn,
                    group_id=group.id,
                    numbers=stored,
                    expires_at=expires_at,
                    source=actor.surface.value,
                    now=now,
                    note=note,
                )
            draft = Draft(
                action=Action.CREATE,
                group_id=group.id,
                group=state_of(group),
                upserted=keys_of([pattern_key(number) for number in stored]),
                expiries=expiry_keys(len(stored), expiry_stamp(expires_at)),
                added=len(stored),  # a new group: every entry is new
                note=note,
            )
            return GroupCreated(group, stored, repeats), draft

        return self._writer.write(actor, work)

    def list_groups(
        self, actor: Actor, *, name: str | None, after: int | None, limit: int
    ) -> Page[GroupDetail]:
        now = self._clock()
        account_id = actor.account.id
        with self._store.read() as conn:
            items = group_rows.group_details(
                conn, account_id, now=now, name=name, after_id=after, limit=limit + 1
            )
            total = group_rows.count_groups(conn, account_id, name)
        return page(items[:limit], total, len(items) > limit, lambda g: g.group.id)

    def group_refreshes(self) -> list[GroupRefresh]:
        """Every group, of every account, an import from a file has written: when (the
        operator's view, for ``/metrics``)."""
        with self._store.read() as conn:
            return group_rows.group_refreshes(conn)

    def group_detail(self, actor: Actor, group_id: int) -> GroupDetail:
        with self._store.read() as conn:
            found = group_rows.group_details(
                conn, actor.account.id, now=self._clock(), group_id=group_id
            )
        if not found:
            raise GroupNotFound
        return found[0]

    def update_group(
        self,
        actor: Actor,
        group_id: int,
        *,
        name: str | None = None,
        description: str | None = None,
        direction: Direction | None = None,
        kind: GroupKind | None = None,
        scope: GroupScope | None = None,
        consent_overrides: bool | None = None,
    ) -> GroupDetail:
        """Rename, redescribe, redirect or re-scope a group; each given field changes, others
        stay."""
        account_id = actor.account.id

        def work(conn: Connection, now: datetime) -> tuple[None, Draft | None]:
            group = find_group(conn, account_id, GroupById(group_id))
            consistent_role(
                group.kind if kind is None else kind,
                group.consent_overrides if consent_overrides is None else consent_overrides,
            )
            values: dict[str, Any] = {}
            if kind is not None and kind is not group.kind:
                values["kind"] = kind.value
            if scope is not None and scope is not group.scope:
                values["scope"] = scope.value
            if consent_overrides is not None and consent_overrides != group.consent_overrides:
                values["consent_overrides"] = consent_overrides
            if name is not None and name != group.name:
                values.update(name=name, name_key=name_key(name))
            if description is not None and description != group.description:
                values["description"] = description
            if direction is not None and direction is not group.direction:
                values["direction"] = direction.value
            if not values:
                return None, None
            group_rows.update_group(conn, group, {**values, "updated_at": now})
            renamed = "name" in values
            detail: dict[str, Any] = {k: v for k, v in values.items() if k != "name_key"}
            # What each changed field was, so the history shows before and after.
            was = {
                "name": group.name,
                "description": group.description,
                "direction": group.direction.value,
                "kind": group.kind.value,
                "scope": group.scope.value,
                "consent_overrides": group.consent_overrides,
            }
            detail["previous"] = {k: was[k] for k in detail}
            if renamed:
                detail["previous_name"] = group.name
            changed = find_group(conn, account_id, GroupById(group_id))
            draft = Draft(
                action=Action.RENAME if renamed else Action.UPDATE,
                group_id=group.id,
                group=state_of(changed),
                detail=detail,
            )
            return None, draft

        self._writer.write(actor, work)
        return self.group_detail(actor, group_id)

    def delete_group(self, actor: Actor, group_id: int) -> None:
        account_id = actor.account.id

        def work(conn: Connection, now: datetime) -> tuple[None, Draft]:
            group = find_group(conn, account_id, GroupById(group_id))
            sample = group_rows.sample_of_group(conn, group.id)
            dropped = group_rows.delete_group(conn, group.id)
            draft = Draft(
                action=Action.DELETE,
                group_id=group.id,
                dropped=dropped,
                detail={"name": group.name},
                sample=tuple(sample),
            )
            return None, draft

        self._writer.write(actor, work)
