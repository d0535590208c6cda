"""What the SDK's calls take and return: the argument types and the result dataclasses.

Results are frozen dataclasses built by ``_parse`` from the API's JSON; every date-time in them
is timezone-aware.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, TypeAlias

__all__ = [
    "DEFAULT_TIMEOUT",
    "Account",
    "AddResult",
    "AuditEvent",
    "BatchResult",
    "Change",
    "ChangedEntry",
    "ChangedGroup",
    "CheckDirection",
    "CheckResult",
    "Direction",
    "Entry",
    "EntryStatus",
    "Group",
    "InvalidItem",
    "Match",
    "NumberInput",
    "RemoveResult",
]

DEFAULT_TIMEOUT = 10.0
"""Seconds to wait for connecting, and for each read and write, before a TransportError."""

Direction: TypeAlias = Literal["inbound", "outbound", "both"]
"""Which checks a group's entries count for."""
CheckDirection: TypeAlias = Literal["inbound", "outbound"]
"""The direction of the call being checked; None checks against every group."""
EntryStatus: TypeAlias = Literal["active", "expired", "all"]
"""Which entries of a group to list."""
NumberInput: TypeAlias = str | int
"""A number in any common form (``"+91 98765 43210"``, ``9876543210``) or a prefix (``"140*"``)."""


@dataclass(frozen=True, slots=True)
class Group:
    id: int
    name: str
    description: str
    direction: Direction
    active_count: int
    """Entries that block now."""
    expired_count: int
    """Entries past their expiry, kept for the record."""
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Entry:
    number: str
    """E.164 number, or E.164 prefix ending in ``*``."""
    kind: Literal["number", "prefix"]
    status: Literal["active", "expired"]
    expires_at: datetime | None
    note: str | None
    source: str
    """The surface that last wrote it: ``v1``, ``compat-v2``, ``cli``..."""
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class InvalidItem:
    """An input that was not a valid number or prefix, as it was sent."""

    input: NumberInput | None
    reason: str


@dataclass(frozen=True, slots=True)
class AddResult:
    added: int
    """Entries that were not in the group before."""
    updated: int
    """Entries already there whose expiry and note were set again."""
    invalid: tuple[InvalidItem, ...]


@dataclass(frozen=True, slots=True)
class RemoveResult:
    removed: int
    not_found: tuple[NumberInput, ...]
    """Inputs, as sent, that were not in the group."""
    invalid: tuple[InvalidItem, ...]


@dataclass(frozen=True, slots=True)
class Match:
    """Why a number is blocked: the group and entry that matched, or the account's rule."""

    group_id: int | None
    group_name: str | None
    pattern: str
    expires_at: datetime | None
    rule: Literal["number", "prefix", "block_anonymous"]


@dataclass(frozen=True, slots=True)
class CheckResult:
    number: str | None
    """E.164 form of the input; None for a withheld caller ID."""
    blocked: bool
    matches: tuple[Match, ...]


@dataclass(frozen=True, slots=True)
class BatchResult:
    """One input of :meth:`Client.check_many`, in the order sent."""

    input: NumberInput | None
    number: str | None
    blocked: bool
    group_ids: tuple[int, ...]
    error: str | None
    """Why the input could not be checked (``"not a valid phone number"``), else None."""


@dataclass(frozen=True, slots=True)
class AuditEvent:
    id: int
    at: datetime
    surface: str
    action: str
    group_id: int | None
    key_id: int | None
    """The id of the API key used; None for the local CLI."""
    count: int
    """How many numbers the change touched."""
    numbers: tuple[str, ...]
    """Up to 100 of them."""
    detail: Mapping[str, Any] | None


@dataclass(frozen=True, slots=True)
class Account:
    username: str
    region: str
    timezone: str
    auth_mode: str
    block_anonymous: bool


@dataclass(frozen=True, slots=True)
class ChangedGroup:
    """A group as a change left it (``Change.group``)."""

    id: int
    name: str
    description: str
    direction: Direction


@dataclass(frozen=True, slots=True)
class ChangedEntry:
    """An entry a change wrote, with the expiry it now has."""

    number: str
    """E.164 number, or E.164 prefix ending in ``*``."""
    expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class Change:
    """One change of the account, from :meth:`Client.changes` (or a part of a big one)."""

    version: int
    """The account's version after it: one more than the change before, with no gaps."""
    at: datetime
    action: str
    """``create``, ``add``, ``expire-refresh``, ``remove``, ``rename``, ``update``,
    ``delete``, ``import`` or ``settings``."""
    group_id: int | None
    """The group changed; None for a removal from every group, or an account setting. For
    ``delete``, the group gone with all its entries (they are not listed)."""
    group: ChangedGroup | None
    """The group as the change left it, where the change records it (``create``, ``rename``,
    ``update``, an ``import`` that created its group)."""
    upserted: tuple[ChangedEntry, ...]
    """Entries written (new, or already there with their expiry set again)."""
    removed: tuple[str, ...]
    """Entries removed: from ``group_id``, or from every group when it is None."""
    block_anonymous: bool | None
    """The account's withheld-caller setting, when this change set it."""
    note: str | None
    """The note the change wrote on its upserted entries; None: their notes stayed."""
    continued: bool
    """More entries of this change follow, in the next change given (the same version)."""
    token: str
    """Pass as ``since`` to go on right after this change (or this part of it)."""
