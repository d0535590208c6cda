"""What the use cases answer: plain values the surfaces render."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from callblock.change import ChangePart
from callblock.domain import (
    EVERY_SCOPE,
    Account,
    BatchReason,
    EntryBlock,
    Group,
    Match,
    Page,
    Reason,
    ReasonCode,
    RejectedLine,
    RequestedNumber,
    Scope,
)
from callblock.index import BatchTally, Int64s


@dataclass(frozen=True, slots=True)
class IssuedKey:
    account: Account
    key_id: int
    key: str  # shown once, never stored
    label: str = ""
    scopes: frozenset[Scope] = EVERY_SCOPE
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class KeyInfo:
    key_id: int
    prefix: str
    created_at: datetime
    revoked_at: datetime | None
    label: str
    scopes: frozenset[Scope]  # as issued (``domain.granted`` says what they include)
    last_used_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class AccountSummary:
    account: Account
    active_keys: int
    groups: int


@dataclass(frozen=True, slots=True)
class GroupCreated:
    group: Group
    stored: list[str]
    repeats: list[RequestedNumber]


@dataclass(frozen=True, slots=True)
class NumbersAdded:
    group: Group
    written: list[str]
    repeats: list[RequestedNumber]
    new: int

    @property
    def inserted(self) -> int:
        return len(self.written)

    @property
    def updated(self) -> int:
        return self.inserted - self.new


@dataclass(frozen=True, slots=True)
class NumbersRemoved:
    group_id: int | None
    found: list[str]  # E.164 of each requested number that was present, request order
    missing: list[RequestedNumber]
    deleted: int  # distinct numbers removed


@dataclass(frozen=True, slots=True)
class ImportResult:
    group: Group
    created_group: bool
    added: int
    updated: int
    invalid: list[RejectedLine]  # skipped (only with skip_invalid)
    repeats: int  # lines repeating a number of an earlier line
    lines: int  # data lines read
    removed: int = 0  # entries not in the file, removed by a replace


@dataclass(frozen=True, slots=True)
class CheckResult:
    input: object
    number: str | None  # E.164, or None when the input is not a number
    matches: list[Match]
    error: str | None = None

    @property
    def blocked(self) -> bool:
        return bool(self.matches)


@dataclass(frozen=True, slots=True)
class BatchCheck:
    """A batch check's answers, one column per field, in input order (no object per input:
    batches run to 100,000 numbers)."""

    inputs: Sequence[object]
    numbers: list[str | None]  # E.164, None where the input is not a number
    group_ids: list[list[int]]  # the groups that block each number now
    withheld: set[int]  # positions of withheld caller IDs blocked by the account's rule
    keys: Int64s | None = None  # each number's E.164 digits as an integer; -1 where none
    tally: BatchTally | None = None  # the entries that matched, when asked for
    blocked: int = 0  # how many were blocked
    invalid: int = 0  # how many were not numbers


@dataclass(slots=True)  # not frozen: made at every call-time check, and frozen costs a µs
class CampaignCheck:
    """A campaign's answer to "may we call this number now?" (``docs/api.md``)."""

    input: object
    number: str | None  # E.164, or None when the input is not a number
    campaign_id: int
    campaign_name: str
    callable: bool
    reasons: list[Reason]
    next_callable_at: datetime | None = None  # when only the calling window stands in the way
    error: str | None = None

    @property
    def blocked(self) -> bool:
        """Whether a list blocks the number (as opposed to the window, or nothing)."""
        return any(r.code in BLOCKING for r in self.reasons)

    @property
    def matches(self) -> list[Match]:
        """The blocks that stand."""
        return [r.match for r in self.reasons if r.code in BLOCKING and r.match is not None]


BLOCKING = frozenset({ReasonCode.BLOCKED, ReasonCode.BLOCKED_BY_PREFIX, ReasonCode.WITHHELD_CALLER})


@dataclass(frozen=True, slots=True)
class CampaignBatch:
    """A batch of campaign checks, one column per field, in input order. Numbers nothing
    stands against share one empty reasons list. Without a campaign (a scrub's plain
    check with reasons), ``campaign_id`` is 0."""

    campaign_id: int
    campaign_name: str
    inputs: Sequence[object]
    numbers: list[str | None]
    callable: list[bool]
    reasons: list[list[BatchReason]]
    next_callable_at: list[datetime | None]
    withheld: set[int]
    group_names: Mapping[int, str]  # of the groups the reasons name

    @property
    def group_ids(self) -> list[list[int]]:
        """The groups whose blocks stand, per number (as a plain batch check names them)."""
        return [
            sorted({r.group_id for r in reasons if r.code in BLOCKING and r.group_id is not None})
            if reasons
            else []
            for reasons in self.reasons
        ]


@dataclass(frozen=True, slots=True)
class FeedItem:
    """A change (or a part of a big one) of the feed, and the token that resumes after it."""

    part: ChangePart
    token: str


@dataclass(frozen=True, slots=True)
class ChangesPage:
    """One answer of the change feed."""

    items: list[FeedItem]
    next: str  # the token to pass next time
    more: bool  # more changes are waiting: ask again with ``next`` now
    # The token was older than the change log's retention (or of a history the account no
    # longer has): no changes; start over from a full copy and ``next``.
    reset: bool = False


def page(items: list[Any], total: int, more: bool, key: Callable[[Any], int]) -> Page[Any]:
    """One page of a listing fetched with one row more than asked (``more``)."""
    return Page(items=items, total=total, next_after=key(items[-1]) if more and items else None)


@dataclass(frozen=True, slots=True)
class GroupExport:
    """A group's entries as one snapshot reads them, a block at a time."""

    group: Group
    version: int  # the account's data version in that snapshot
    at: datetime  # when the export began: an entry expired by then is "expired"
    blocks: Iterator[EntryBlock]
