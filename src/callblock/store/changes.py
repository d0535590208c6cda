"""The change log: each ``Change`` recorded in full, read back in version order, pruned by age.

A change is one row of ``changes`` and its keys in blocks (``change_keys``), so that an import
of millions of keys costs a few dozen rows. A block is its int64 array delta-encoded and
compressed (zlib, fastest level): keys of a list are mostly ascending and close together, so
a million dense registry keys take about 45 KB instead of 8 MB, in 20 ms. PostgreSQL is told
not to compress the blocks again (``STORAGE EXTERNAL``, migration 0007): its own compression
of 8 MB of keys took 0.65 s of the write's transaction.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator
from typing import Any

import numpy as np
from sqlalchemy import Connection, and_, delete, or_, select

from callblock.calling_hours import window_from_wire
from callblock.change import (
    NO_KEYS,
    CampaignState,
    Change,
    ChangePart,
    Draft,
    GroupState,
    Keys,
    keys_of,
)
from callblock.domain import Action, Direction, GroupKind, GroupScope, Surface
from callblock.store.tables import change_keys, changes
from callblock.timestamps import NEVER, from_micros, micros

BLOCK_KEYS = 1 << 16  # keys per block row: 512 KiB of keys
_UPSERT = "upsert"
_REMOVE = "remove"


def record(conn: Connection, change: Change) -> None:
    """Write ``change`` to the log (in the write's own transaction)."""
    draft = change.draft
    detail: dict[str, Any] = dict(draft.detail)
    if draft.group is not None:
        detail["group"] = {
            "name": draft.group.name,
            "description": draft.group.description,
            "direction": draft.group.direction.value,
            "kind": draft.group.kind.value,
            "scope": draft.group.scope.value,
            "consent_overrides": draft.group.consent_overrides,
        }
    if draft.campaign is not None:
        campaign = draft.campaign
        detail["campaign"] = {
            "id": campaign.id,
            "name": campaign.name,
            "description": campaign.description,
            "window": None if campaign.window is None else campaign.window.to_wire(),
            "group_ids": list(campaign.group_ids),
        }
    if draft.block_anonymous is not None:
        detail["block_anonymous"] = draft.block_anonymous
    conn.execute(
        changes.insert().values(
            account_id=change.account_id,
            version=change.version,
            at=micros(change.at),
            key_id=change.key_id,
            surface=change.surface.value,
            action=change.action.value,
            group_id=draft.group_id,
            added=draft.added,
            dropped=draft.dropped,
            note=draft.note,
            detail=json.dumps(detail),
        )
    )
    rows = [
        *_blocks(change, _UPSERT, draft.upserted, draft.expiries, start=0),
        *_blocks(change, _REMOVE, draft.removed, None, start=_block_count(draft.upserted)),
    ]
    if rows:
        conn.execute(change_keys.insert(), rows)


def _block_count(keys: Keys) -> int:
    return -(-len(keys) // BLOCK_KEYS)


def _blocks(
    change: Change, kind: str, keys: Keys, expiries: Keys | None, start: int
) -> Iterator[dict[str, Any]]:
    every_never = expiries is None or not len(expiries) or bool((expiries == NEVER).all())
    for offset, first in enumerate(range(0, len(keys), BLOCK_KEYS)):
        last = first + BLOCK_KEYS
        yield {
            "account_id": change.account_id,
            "version": change.version,
            "block": start + offset,
            "kind": kind,
            "keys": _bytes(keys[first:last]),
            "expiries": None if every_never or expiries is None else _bytes(expiries[first:last]),
        }


def _bytes(values: Keys) -> bytes:
    """The values delta-encoded (the first against 0), little-endian, compressed. Deltas wrap
    around like all int64 arithmetic in numpy, and ``_array``'s running sum wraps back."""
    deltas = np.diff(values.astype(np.int64, copy=False), prepend=np.int64(0))
    return zlib.compress(deltas.astype("<i8", copy=False).tobytes(), 1)


def _array(data: bytes) -> Keys:
    return keys_of(np.cumsum(np.frombuffer(zlib.decompress(data), dtype="<i8")))


def changes_after(conn: Connection, account_id: int, after: int, limit: int = 1000) -> list[Change]:
    """The account's changes with versions above ``after``, oldest first, up to ``limit``."""
    heads = conn.execute(
        select(changes)
        .where(changes.c.account_id == account_id, changes.c.version > after)
        .order_by(changes.c.version)
        .limit(limit)
    ).all()
    if not heads:
        return []
    blocks = conn.execute(
        select(change_keys)
        .where(
            change_keys.c.account_id == account_id,
            change_keys.c.version.between(heads[0].version, heads[-1].version),
        )
        .order_by(change_keys.c.version, change_keys.c.block)
    ).all()
    by_version: dict[int, list[Any]] = {}
    for block in blocks:
        by_version.setdefault(block.version, []).append(block)
    return [_change(head, by_version.get(head.version, [])) for head in heads]


def _change(head: Any, blocks: list[Any]) -> Change:
    upserted = [b for b in blocks if b.kind == _UPSERT]
    upserted_keys = [_array(b.keys) for b in upserted]
    return _assembled(
        head,
        _joined(upserted_keys),
        _joined([_expiries(b, len(keys)) for b, keys in zip(upserted, upserted_keys, strict=True)]),
        _joined([_array(b.keys) for b in blocks if b.kind == _REMOVE]),
    )


def _expiries(block: Any, count: int) -> Keys:
    """The expiries of an upsert block's ``count`` keys (NULL: none of them expires)."""
    if block.expiries is None:
        return np.full(count, NEVER, dtype=np.int64)
    return _array(block.expiries)


def _assembled(head: Any, upserted: Keys, expiries: Keys, removed: Keys) -> Change:
    """The change of a ``changes`` row, holding the given entries (all of them, or a part)."""
    detail: dict[str, Any] = json.loads(head.detail)
    group = detail.pop("group", None)
    campaign = detail.pop("campaign", None)
    block_anonymous = detail.get("block_anonymous")
    draft = Draft(
        action=Action(head.action),
        group_id=head.group_id,
        group=None
        if group is None
        else GroupState(
            head.group_id,
            group["name"],
            group["description"],
            Direction(group["direction"]),
            # Changes recorded before campaigns existed: every group was a global block one.
            GroupKind(group.get("kind", GroupKind.BLOCK)),
            GroupScope(group.get("scope", GroupScope.GLOBAL)),
            bool(group.get("consent_overrides", False)),
        ),
        campaign=None
        if campaign is None
        else CampaignState(
            campaign["id"],
            campaign["name"],
            campaign["description"],
            None if campaign["window"] is None else window_from_wire(campaign["window"]),
            tuple(campaign["group_ids"]),
        ),
        upserted=upserted,
        expiries=expiries,
        added=head.added,
        removed=removed,
        dropped=head.dropped,
        note=head.note,
        block_anonymous=block_anonymous,
        detail=detail,
    )
    return Change(
        account_id=head.account_id,
        version=head.version,
        at=from_micros(head.at),
        key_id=head.key_id,
        surface=Surface(head.surface),
        draft=draft,
    )


def _joined(parts: list[Keys]) -> Keys:
    return keys_of(np.concatenate(parts)) if parts else NO_KEYS


def has_change(conn: Connection, account_id: int, version: int) -> bool:
    """Whether the log still holds the account's change ``version``."""
    found = conn.execute(
        select(changes.c.version).where(
            changes.c.account_id == account_id, changes.c.version == version
        )
    ).first()
    return found is not None


def read_parts(
    conn: Connection,
    account_id: int,
    after: int,
    offset: int = 0,
    *,
    limit: int,
    entries: int,
    group_id: int | None = None,
) -> tuple[list[ChangePart], bool]:
    """The account's changes after version ``after``, oldest first, as the change feed hands
    them out: up to ``limit`` changes holding up to ``entries`` entries in all (upserted and
    removed; a deleted group's entries are not listed). Change ``after + 1`` starts at
    ``offset`` among its entries: a ``ChangePart.resume`` of an earlier read. A change with
    more entries than are left ends the read as a part that says where the rest resumes.
    With ``group_id``, only that group's changes and the removals from every group. Also
    answers whether more changes are waiting.

    An offset counts in the slots of the change's key blocks (``BLOCK_KEYS`` a block; the
    last upsert block may be short), so that a read decodes only the blocks it hands out:
    a part of a million-key import costs one or two blocks, not sixteen.
    """
    query = select(changes).where(changes.c.account_id == account_id, changes.c.version > after)
    if group_id is not None:
        query = query.where(
            or_(
                changes.c.group_id == group_id,
                and_(changes.c.group_id.is_(None), changes.c.action == Action.REMOVE.value),
            )
        )
    heads = conn.execute(query.order_by(changes.c.version).limit(limit + 1)).all()
    more = len(heads) > limit
    heads = heads[:limit]
    if not heads:
        return [], False
    first = heads[0].version
    skip = offset if first == after + 1 else 0
    versions = [head.version for head in heads]
    blocks = (
        select(change_keys)
        .where(
            change_keys.c.account_id == account_id,
            change_keys.c.version.in_(versions)
            if group_id is not None
            else change_keys.c.version.between(first, versions[-1]),
            or_(change_keys.c.version != first, change_keys.c.block >= skip // BLOCK_KEYS),
        )
        .order_by(change_keys.c.version, change_keys.c.block)
        # Fetched as read: a part ends the read at a block of a big change, and the blocks
        # after it are never sent by the database (PostgreSQL: a server-side cursor).
        .execution_options(yield_per=_BLOCKS_A_FETCH)
    )
    result = conn.execute(blocks)
    try:
        reader = _PartReader(iter(result), entries)
        parts: list[ChangePart] = []
        for head in heads:
            part = reader.part(head, skip if head.version == first else 0)
            if part is None:  # no room left for its entries
                return parts, True
            parts.append(part)
            if part.resume is not None:
                return parts, True
        return parts, more
    finally:
        result.close()


_BLOCKS_A_FETCH = 4


class _PartReader:
    """Walks the key blocks of consecutive changes, in order, handing out up to a budget of
    entries."""

    def __init__(self, rows: Iterator[Any], budget: int) -> None:
        self._rows = rows
        self._row = next(rows, None)
        self._budget = budget

    def part(self, head: Any, start: int) -> ChangePart | None:
        """The change of ``head`` from slot ``start`` on, as far as the budget goes; None when
        it has entries and the budget is spent."""
        row = self._row
        if row is not None and row.version == head.version and self._budget == 0:
            return None
        upserted: list[Keys] = []
        expiries: list[Keys] = []
        removed: list[Keys] = []
        resume = None
        while row is not None and row.version == head.version:
            base = row.block * BLOCK_KEYS
            if self._budget == 0:
                resume = base
                break
            keys = _array(row.keys)
            begin = min(max(0, start - base), len(keys))
            end = min(len(keys), begin + self._budget)
            if row.kind == _UPSERT:
                upserted.append(keys[begin:end])
                expiries.append(_expiries(row, len(keys))[begin:end])
            else:
                removed.append(keys[begin:end])
            self._budget -= end - begin
            if end < len(keys):
                resume = base + end
                break
            row = self._row = next(self._rows, None)
        change = _assembled(head, _joined(upserted), _joined(expiries), _joined(removed))
        return ChangePart(change, resume)


def prune(conn: Connection, before: int) -> int:
    """Delete every change recorded before ``before`` (POSIX microseconds), with its keys;
    return how many changes went. The audit log is not touched."""
    # Their key blocks go with them (ON DELETE CASCADE).
    removed: int = conn.execute(delete(changes).where(changes.c.at < before)).rowcount
    return removed
