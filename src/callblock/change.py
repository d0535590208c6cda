"""What one write did, as one immutable value (no I/O here).

Every write of an account's groups, entries or check settings is described by one ``Change``:
built once by its use case (as a ``Draft``, before the account's new version is known),
stamped and recorded once by the write path (``usecases.writes``) in the write's own
transaction (the change log and the audit event), then applied once, after commit, to the
local check index (``AccountIndex.apply``). Other processes and nodes, and the public change
feed (``GET /v1/changes``), read the same value back from the change log.

Entries are named by their stored keys (``numbers.pattern_key``: the E.164 digits as an
integer, negated for a prefix), in int64 arrays: an import of millions of keys is one array,
not millions of objects.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from callblock.calling_hours import CallingWindow
from callblock.domain import Action, Direction, GroupKind, GroupScope, Surface
from callblock.numbers import key_pattern
from callblock.timestamps import NEVER

Keys = np.ndarray[Any, np.dtype[np.int64]]

# How many entries an audit event names (its sample): the change log has them all.
AUDIT_SAMPLE = 100


def keys_of(values: Sequence[int] | Keys) -> Keys:
    """An int64 array of stored keys (or expiry stamps)."""
    return np.asarray(values, dtype=np.int64).reshape(-1)


NO_KEYS: Keys = keys_of([])
NO_KEYS.setflags(write=False)


def _no_keys() -> Keys:
    return NO_KEYS


@dataclass(frozen=True, slots=True)
class GroupState:
    """A group as it is after the change (create, rename, update)."""

    id: int
    name: str
    description: str
    direction: Direction
    kind: GroupKind = GroupKind.BLOCK
    scope: GroupScope = GroupScope.GLOBAL
    consent_overrides: bool = False


@dataclass(frozen=True, slots=True)
class CampaignState:
    """A campaign as it is after the change (or as it was, for its deletion)."""

    id: int
    name: str
    description: str
    window: CallingWindow | None
    group_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Draft:
    """A change as its use case describes it, before the write path numbers it."""

    action: Action
    group_id: int | None
    group: GroupState | None = None
    campaign: CampaignState | None = None  # set by the campaign actions only
    # Entries written (inserted or refreshed), with each one's expiry (NEVER: none).
    upserted: Keys = field(default_factory=_no_keys)
    expiries: Keys = field(default_factory=_no_keys)
    added: int = 0  # how many of ``upserted`` were not in the group before
    # Entries removed from ``group_id``, or from every group of the account when it is None.
    removed: Keys = field(default_factory=_no_keys)
    # A deleted group's entry count (its entries go with it; the keys are not listed).
    dropped: int = 0
    note: str | None = None
    block_anonymous: bool | None = None  # the account's setting, when this change sets it
    # What else a reader of the history needs (a rename's previous name, a deleted group's
    # name), and the entries an audit event names when they are not in the keys above.
    detail: Mapping[str, Any] = field(default_factory=dict)
    sample: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if len(self.expiries) != len(self.upserted):
            raise ValueError("one expiry per upserted key")


@dataclass(frozen=True, slots=True)
class Change:
    """One committed write of one account: its version is the account's ``data_version``
    after it, gap-free and in commit order per account."""

    account_id: int
    version: int
    at: datetime
    key_id: int | None
    surface: Surface
    draft: Draft

    @property
    def action(self) -> Action:
        return self.draft.action

    @property
    def group_id(self) -> int | None:
        return self.draft.group_id

    @property
    def count(self) -> int:
        """How many entries the change touched (the audit event's count)."""
        draft = self.draft
        return len(draft.upserted) + len(draft.removed) + draft.dropped

    def sample(self) -> list[str]:
        """The patterns an audit event names: up to AUDIT_SAMPLE of the entries touched."""
        draft = self.draft
        if draft.sample is not None:
            return list(draft.sample[:AUDIT_SAMPLE])
        keys = draft.upserted if len(draft.upserted) else draft.removed
        return [key_pattern(int(key)) for key in keys[:AUDIT_SAMPLE]]


@dataclass(frozen=True, slots=True)
class ChangePart:
    """A change as one read of the change feed returns it: whole, or, when it has more entries
    than one answer holds, a run of them in order (its draft holds that run only)."""

    change: Change
    # Where the change's remaining entries start (an offset the store reads from again);
    # None: this part ends the change.
    resume: int | None = None


def expiry_keys(count: int, expires: int = NEVER) -> Keys:
    """``count`` copies of one expiry stamp."""
    return np.full(count, expires, dtype=np.int64)
