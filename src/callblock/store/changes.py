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
from sqlalchemy import Connection, delete, select

from callblock.change import NO_KEYS, Change, Draft, GroupState, Keys, keys_of
from callblock.domain import Action, Direction, Surface
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
    detail: dict[str, Any] = json.loads(head.detail)
    group = detail.pop("group", None)
    block_anonymous = detail.get("block_anonymous")
    upserted = [b for b in blocks if b.kind == _UPSERT]
    removed = [b for b in blocks if b.kind == _REMOVE]
    upserted_keys = [_array(b.keys) for b in upserted]
    keys = _joined(upserted_keys)
    expiries = _joined(
        [
            _array(b.expiries) if b.expiries is not None else np.full(len(keys_in), NEVER)
            for b, keys_in in zip(upserted, upserted_keys, strict=True)
        ]
    )
    draft = Draft(
        action=Action(head.action),
        group_id=head.group_id,
        group=None
        if group is None
        else GroupState(
            head.group_id, group["name"], group["description"], Direction(group["direction"])
        ),
        upserted=keys,
        expiries=expiries,
        added=head.added,
        removed=_joined([_array(b.keys) for b in removed]),
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


def prune(conn: Connection, before: int) -> int:
    """Delete every change recorded before ``before`` (POSIX microseconds), with its keys;
    return how many changes went. The audit log is not touched."""
    # Their key blocks go with them (ON DELETE CASCADE).
    removed: int = conn.execute(delete(changes).where(changes.c.at < before)).rowcount
    return removed
