"""What the SDK's calls take and return: the argument types and the result dataclasses.

Results are frozen dataclasses built by ``_parse`` from the API's JSON; every date-time in them
is timezone-aware.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Final, Literal, Protocol, TypeAlias

__all__ = [
    "DEFAULT_TIMEOUT",
    "KEEP",
    "Account",
    "AddResult",
    "ApiKey",
    "AttachedGroup",
    "AuditEvent",
    "BatchReason",
    "BatchResult",
    "BinaryFile",
    "BinaryOutput",
    "CallingWindow",
    "CallingWindowInput",
    "Campaign",
    "CampaignBatchResult",
    "CampaignCheckResult",
    "CampaignRef",
    "Change",
    "ChangedCampaign",
    "ChangedEntry",
    "ChangedGroup",
    "CheckDirection",
    "CheckResult",
    "Direction",
    "Entry",
    "EntryStatus",
    "FileInput",
    "FileOutput",
    "Group",
    "GroupKind",
    "GroupMatches",
    "GroupScope",
    "HeaderLine",
    "ImportMode",
    "ImportResult",
    "InvalidItem",
    "InvalidLine",
    "IssuedApiKey",
    "Keep",
    "KeyScope",
    "LineFormat",
    "Match",
    "NumberInput",
    "Reason",
    "ReasonCode",
    "RemoveResult",
    "StaleEntry",
    "Stats",
    "StatsBucket",
    "StatsPoint",
    "TopEntry",
    "Weekday",
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
GroupKind: TypeAlias = Literal["block", "allow"]
"""``block``: the group's entries must not be called; ``allow``: consent or a relationship,
which lifts the blocks of groups with ``consent_overrides`` in a campaign's checks."""
GroupScope: TypeAlias = Literal["global", "attached"]
"""``global``: the group counts in every check; ``attached``: only in the checks of the
campaigns it is attached to."""
Weekday: TypeAlias = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
CampaignRef: TypeAlias = str | int
"""A campaign, by its id or by its name (the API reads a name of digits only as an id)."""
ReasonCode: TypeAlias = Literal[
    "blocked",
    "blocked_by_prefix",
    "withheld_caller",
    "consent_overrides_block",
    "outside_calling_hours",
]
"""Why a campaign check answers as it does (docs/api.md, "The campaign check")."""
ImportMode: TypeAlias = Literal["add", "replace", "changes"]
"""What an import does with the group: ``add`` the file's entries; ``replace`` the group by
them; ``changes``: each line adds or deletes its number (docs/api.md, "Change lists")."""
LineFormat: TypeAlias = Literal["auto", "csv", "plain", "area-code-pair", "tps"]
"""How an import reads its lines (docs/api.md, "Line formats"); ``auto`` is the API's default."""
KeyScope: TypeAlias = Literal["check", "read", "write", "admin"]
"""What an API key may do: ``check`` (checks and the change feed), ``read`` (everything that
reads; includes check), ``write`` (changes and imports; includes read), ``admin`` (account
settings and keys; includes nothing else)."""


class BinaryFile(Protocol):
    """A file open for reading bytes (``open(path, "rb")``, ``io.BytesIO``...)."""

    def read(self, size: int, /) -> bytes: ...


FileInput: TypeAlias = str | os.PathLike[str] | BinaryFile
"""A file to import: its path, or a file object open for reading bytes."""


class BinaryOutput(Protocol):
    """A file open for writing bytes (``open(path, "wb")``, ``io.BytesIO``...)."""

    def write(self, data: bytes, /) -> object: ...


FileOutput: TypeAlias = str | os.PathLike[str] | BinaryOutput
"""A file to download into: its path (written whole or not at all), or a file object open
for writing bytes."""
StatsBucket: TypeAlias = Literal["minute", "hour", "day"]
"""The length of each point of :meth:`StatsAPI.get`'s series (UTC minutes, hours, days)."""


class Keep(enum.Enum):
    """The type of :data:`KEEP`."""

    KEEP = "keep"

    def __repr__(self) -> str:
        return "KEEP"


KEEP: Final = Keep.KEEP
"""The default of an update's field that None would remove (a campaign's calling window):
leave it as it is."""


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
    kind: GroupKind = "block"
    scope: GroupScope = "global"
    consent_overrides: bool = False
    """For a block group: whether an active allow entry lifts its blocks in a campaign's
    checks (a national registry). Always False for an allow group."""
    refreshed_at: datetime | None = None
    """When an import of a file last wrote the group (how fresh a registry copy is); None
    when none ever did, or from a server too old to say."""
    refreshed_from: str | None = None
    """That file's name, as the import said it; None when it did not say."""


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
    # Derived from ``number`` for reading: left out of comparisons, so that an entry read
    # from an export (which has neither) equals the same entry read from a listing.
    national: str | None = field(default=None, compare=False)
    """The number as written in its own country, spaced for reading (``098765 43210``; a
    prefix: ``0140*``). None from an export, or from a server too old to send it."""
    international: str | None = field(default=None, compare=False)
    """The number as written from abroad, spaced for reading (``+91 98765 43210``; a prefix:
    ``+91 140*``). None from an export, or from a server too old to send it."""


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
class InvalidLine:
    """A line of an imported file that could not be read, as the file has it."""

    line: int
    """1-based, counted through a zip's members as through their concatenated text."""
    input: str
    reason: str


@dataclass(frozen=True, slots=True)
class HeaderLine:
    """The first row of an imported file, read as column names (and so not imported)."""

    line: int
    cells: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What :meth:`NumbersAPI.import_file` did."""

    added: int
    """Entries that were not in the group before."""
    updated: int
    """Entries already there (their expiry set anew)."""
    repeats: int
    """Lines repeating a number of an earlier line."""
    removed: int
    """Entries removed: those not in the file (``replace``), or deleted by a change list
    (``changes``); 0 for an add."""
    invalid: tuple[InvalidLine, ...]
    """Lines skipped as invalid (``skip_invalid=True``); empty otherwise."""
    header: HeaderLine | None
    """The first row, when it was read as a header; None when it was data."""


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
class Reason:
    """One reason of a campaign check: a block that stands (``blocked``,
    ``blocked_by_prefix``, ``withheld_caller``), a block lifted by consent
    (``consent_overrides_block``, with ``allowed_by``), or the calling window
    (``outside_calling_hours``, with the callee's ``time_zones``)."""

    code: ReasonCode
    group_id: int | None
    """The block's group (None for a withheld caller and the calling window)."""
    group_name: str | None
    pattern: str | None
    """The entry that matched, or the withheld caller ID."""
    expires_at: datetime | None
    allowed_by: Match | None
    """For ``consent_overrides_block``: the allow entry that lifted the block."""
    time_zones: tuple[str, ...]
    """For ``outside_calling_hours``: every zone of the callee, each of which must be inside
    the window; empty for the other codes."""


@dataclass(frozen=True, slots=True)
class CampaignCheckResult:
    """May the campaign call the number now? :meth:`Client.check` with a campaign."""

    number: str | None
    """E.164 form of the input; None for a withheld caller ID."""
    campaign_id: int
    campaign_name: str
    callable: bool
    blocked: bool
    """Whether a block stands (consent did not lift it)."""
    matches: tuple[Match, ...]
    """The blocks that stand."""
    reasons: tuple[Reason, ...]
    """Why, in the order of the precedence table (docs/api.md)."""
    next_callable_at: datetime | None
    """When only the calling window stands in the way: the earliest instant every zone of
    the callee is inside it (within 7 days; None otherwise)."""


@dataclass(frozen=True, slots=True)
class BatchReason:
    """A reason of a :class:`CampaignBatchResult` (the batch names groups by id only)."""

    code: ReasonCode
    group_id: int | None
    pattern: str | None
    allowed_by_group_id: int | None
    """For ``consent_overrides_block``: the group of the allow entry that lifted the block."""


@dataclass(frozen=True, slots=True)
class CampaignBatchResult:
    """One input of :meth:`Client.check_many` with a campaign, in the order sent."""

    input: NumberInput | None
    number: str | None
    callable: bool
    blocked: bool
    group_ids: tuple[int, ...]
    """The groups whose blocks stand."""
    reasons: tuple[BatchReason, ...]
    next_callable_at: datetime | None
    error: str | None
    """Why the input could not be checked (``"not a valid phone number"``), else None."""


@dataclass(frozen=True, slots=True)
class CallingWindow:
    """When a campaign may call, in the callee's local time: the days a window starts on,
    ``start`` (inclusive) and ``end`` (exclusive) as ``HH:MM``. An ``end`` before ``start``
    crosses midnight (``fri`` 21:00-02:00 is open Friday night into Saturday 02:00); ``end``
    may be ``24:00``."""

    days: tuple[Weekday, ...]
    start: str
    end: str


CallingWindowInput: TypeAlias = CallingWindow | Mapping[str, Any]
"""A calling window to send: a :class:`CallingWindow`, or its JSON form as a mapping
(``{"days": ["mon", "sat"], "start": "09:00", "end": "21:00"}``)."""


@dataclass(frozen=True, slots=True)
class AttachedGroup:
    """A group attached to a campaign."""

    id: int
    name: str
    scope: GroupScope
    consent_overrides: bool


@dataclass(frozen=True, slots=True)
class Campaign:
    id: int
    name: str
    description: str
    calling_window: CallingWindow | None
    """None: any time."""
    block_groups: tuple[AttachedGroup, ...]
    """Block groups attached (the global ones count as well)."""
    allow_groups: tuple[AttachedGroup, ...]
    """Allow groups attached (the global ones count as well)."""
    created_at: datetime
    updated_at: datetime

    @property
    def group_ids(self) -> tuple[int, ...]:
        """The ids of every attached group, in id order."""
        return tuple(sorted(g.id for g in (*self.block_groups, *self.allow_groups)))


@dataclass(frozen=True, slots=True)
class AuditEvent:
    id: int
    at: datetime
    surface: str
    """Where the change came from: ``v1``, ``page`` (the admin page), ``compat-v2``,
    ``compat-ca-apis`` or ``cli``."""
    action: str
    group_id: int | None
    key_id: int | None
    """The id of the API key used; None for the local CLI."""
    count: int
    """How many numbers the change touched."""
    numbers: tuple[str, ...]
    """Up to 100 of them."""
    detail: Mapping[str, Any] | None
    key_label: str | None = None
    """The label of the API key used (``""`` for a key without one); None for the local CLI,
    and from a server older than key labels."""


@dataclass(frozen=True, slots=True)
class Account:
    username: str
    region: str
    timezone: str
    auth_mode: str
    block_anonymous: bool


@dataclass(frozen=True, slots=True)
class ApiKey:
    """An API key of the account, as ``keys.list`` shows it: never the key itself."""

    id: int
    label: str
    """Who or what holds the key, as the history names it; ``""`` for none."""
    scopes: tuple[KeyScope, ...]
    """The scopes it was issued with, sorted (those they include are not listed)."""
    prefix: str
    """The key's first characters, to tell keys apart."""
    created_at: datetime
    revoked_at: datetime | None
    """When it was revoked; None while it works."""


@dataclass(frozen=True, slots=True)
class IssuedApiKey(ApiKey):
    """A key just issued by ``keys.create``, with the key itself: the API shows it this once
    and never stores it. Kept out of the repr, so that logging the result does not leak it."""

    key: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class ChangedGroup:
    """A group as a change left it (``Change.group``)."""

    id: int
    name: str
    description: str
    direction: Direction
    kind: GroupKind = "block"
    scope: GroupScope = "global"
    consent_overrides: bool = False


@dataclass(frozen=True, slots=True)
class ChangedCampaign:
    """A campaign as a change left it (``Change.campaign``; as it was, for
    ``campaign-delete``)."""

    id: int
    name: str
    description: str
    calling_window: CallingWindow | None
    group_ids: tuple[int, ...]
    """The groups attached to it, in id order."""


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
    """``create``, ``add``, ``expire-refresh``, ``remove``, ``purge`` (the group's expired
    entries removed), ``rename``, ``update``, ``delete``, ``import``, ``settings``, or a
    campaign's ``campaign-create``, ``campaign-update``, ``campaign-attach``,
    ``campaign-detach``, ``campaign-delete``."""
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
    campaign: ChangedCampaign | None = None
    """For the ``campaign-*`` actions: the campaign as the change left it."""


@dataclass(frozen=True, slots=True)
class StaleEntry(Entry):
    """An entry no check matched for the days asked (:meth:`GroupsAPI.stale`)."""

    last_matched_on: date | None = None
    """The last UTC day a check matched it (before the days asked), or None: never, as far
    as the server keeps match days (800 days by default)."""


@dataclass(frozen=True, slots=True)
class StatsPoint:
    """One bucket of :attr:`Stats.series`: the checks answered from ``start`` for one
    bucket's length."""

    start: datetime
    """The bucket's start (UTC)."""
    checks: int
    """Checks answered (single and batch; a scrub is not counted)."""
    blocked: int
    """Of them, blocked (for a campaign's checks: not callable)."""
    invalid: int
    """Of them, not a number."""
    matched: int
    """With ``group_id``: the checks that group matched; else equal to ``blocked``."""


@dataclass(frozen=True, slots=True)
class GroupMatches:
    """A group's matches over the range (:attr:`Stats.by_group`)."""

    group_id: int
    name: str
    matched: int


@dataclass(frozen=True, slots=True)
class TopEntry:
    """One of the entries single checks matched most (:attr:`Stats.top_entries`)."""

    group_id: int
    group_name: str
    number: str
    """E.164 number, or E.164 prefix ending in ``*``."""
    international: str
    """Spaced for reading (``+91 98765 43210``)."""
    hits: int
    """Single checks it matched on the UTC days the range touches."""


@dataclass(frozen=True, slots=True)
class Stats:
    """Checks and blocked calls over time: :meth:`StatsAPI.get`."""

    bucket: StatsBucket
    start: datetime
    """The first bucket's start (the API's ``from``)."""
    end: datetime
    """The end of the last bucket, excluded (the API's ``to``)."""
    group_id: int | None
    """The group whose matches each point's ``matched`` counts, if one was asked for."""
    campaign_id: int | None
    """The campaign whose checks were counted, if one was asked for; None: every check."""
    checks: int
    """Checks over the range."""
    blocked: int
    """Blocked over the range."""
    series: tuple[StatsPoint, ...]
    """The buckets that hold checks, in time order (a bucket with none is left out)."""
    by_group: tuple[GroupMatches, ...]
    """Each group's matches over the range, most first (groups with none left out)."""
    top_entries: tuple[TopEntry, ...]
    """The ten entries single checks matched most, on the UTC days the range touches."""

    @property
    def blocked_share(self) -> float:
        """``blocked`` of ``checks``, from 0 to 1 (0 when there were no checks)."""
        return self.blocked / self.checks if self.checks else 0.0
