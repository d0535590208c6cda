"""What the commands that take a target need of it, as one protocol: ``Operations``.

A target is the local database acting as an account (``local.Local``, over the service) or a
server's ``/v1`` API (``remote.Remote``, over the SDK). ``check``, ``group``, ``import``,
``export``, ``scrub``, ``stats`` and ``stale`` are each written once against ``Operations``;
``target.open_target`` is the one place that picks which.

The shapes follow the SDK's (``Client.check``, ``Client.groups``, ``Client.campaigns``), so
that what the SDK already offers is used as it is: ``Client.groups`` is a ``GroupOperations``
and ``Client.campaigns`` a ``CampaignOperations`` without any adapter. Both take ids; the
commands find what a user names (a name, or an id) through ``lookup``.

Errors: an operation raises a ``callblock.domain.DomainError`` (``GroupNotFound``,
``CampaignNotFound``, ``ImportRejected``, ``NothingToImport``, ...), the SDK's
``CallblockError``, ``NotANumber`` for a check of something that is not a phone number, or
``files.FileProblem`` (or ``OSError``, ``UnicodeDecodeError``, ``EOFError``) for a file that
cannot be read. ``target.failures`` turns each into one line on stderr.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import IO, Literal, Protocol, TypeAlias

from callblock.domain import ImportRejected, RejectedLine
from callblock.files import Layout, LineFormat, Row, Scrubbed
from callblock.rules import FILE_NAME_MAX

GroupDirection: TypeAlias = Literal["inbound", "outbound", "both"]
GroupKind: TypeAlias = Literal["block", "allow"]
GroupScope: TypeAlias = Literal["global", "attached"]
CallDirection: TypeAlias = Literal["inbound", "outbound"]
StatsBucket: TypeAlias = Literal["minute", "hour", "day"]
Reading: TypeAlias = Callable[[int], None]
"""Told how many bytes of the input file have been read (or sent) so far."""
Writing: TypeAlias = Callable[[int, int], None]
"""Told how many entries of how many an import has written so far."""
Columns: TypeAlias = Callable[[Layout], None]
"""Told the layout an import reads its file with (its header, number and expiry columns)."""


def recorded_file_name(file: Path) -> str | None:
    """The name an import records as its group's source: the file's base name, with any
    bytes that are not UTF-8 shown as U+FFFD, cut to ``FILE_NAME_MAX``."""
    name = file.name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return name[:FILE_NAME_MAX] or None


class NotANumber(Exception):
    """A check of an input that is not a phone number; the message says why."""


@dataclass(slots=True)
class PartlyListed(ImportRejected):
    """A refused import whose answer lists only the first of its invalid lines: a server's
    422 lists 10,000 (``docs/api.md``); ``total`` is how many there are."""

    total: int

    def __post_init__(self) -> None:
        Exception.__init__(self, f"{self.total} invalid lines")


class GroupView(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def direction(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def scope(self) -> str: ...
    @property
    def consent_overrides(self) -> bool: ...
    @property
    def active_count(self) -> int: ...
    @property
    def expired_count(self) -> int: ...
    @property
    def refreshed_at(self) -> datetime | None: ...
    @property
    def refreshed_from(self) -> str | None: ...


class MatchView(Protocol):
    @property
    def group_id(self) -> int | None: ...
    @property
    def group_name(self) -> str | None: ...
    @property
    def pattern(self) -> str: ...
    @property
    def expires_at(self) -> datetime | None: ...
    @property
    def rule(self) -> str: ...


class CheckView(Protocol):
    @property
    def number(self) -> str | None: ...
    @property
    def blocked(self) -> bool: ...
    @property
    def matches(self) -> Sequence[MatchView]: ...


class ReasonView(Protocol):
    """One reason of a campaign check (``docs/api.md``, "The campaign check")."""

    @property
    def code(self) -> str: ...
    @property
    def group_id(self) -> int | None: ...
    @property
    def group_name(self) -> str | None: ...
    @property
    def pattern(self) -> str | None: ...
    @property
    def allowed_by(self) -> MatchView | None: ...
    @property
    def time_zones(self) -> Sequence[str]: ...


class CampaignCheckView(Protocol):
    @property
    def number(self) -> str | None: ...
    @property
    def campaign_name(self) -> str: ...
    @property
    def callable(self) -> bool: ...
    @property
    def blocked(self) -> bool: ...
    @property
    def reasons(self) -> Sequence[ReasonView]: ...
    @property
    def next_callable_at(self) -> datetime | None: ...


class GroupOperations(Protocol):
    """The account's groups: the SDK's ``Client.groups`` as it is."""

    def list(self, name: str | None = None, page_size: int = 100) -> Iterator[GroupView]: ...

    def create(
        self,
        name: str,
        description: str = "",
        direction: GroupDirection = "both",
        kind: GroupKind = "block",
        scope: GroupScope = "global",
        consent_overrides: bool = False,
    ) -> GroupView: ...

    def get(self, group_id: int) -> GroupView: ...

    def delete(self, group_id: int) -> None: ...


@dataclass(frozen=True, slots=True)
class GroupRole:
    """What a group is for: its kind, its scope and whether consent overrides its blocks."""

    kind: GroupKind = "block"
    scope: GroupScope = "global"
    consent_overrides: bool = False


class WindowView(Protocol):
    @property
    def days(self) -> Sequence[str]: ...
    @property
    def start(self) -> str: ...
    @property
    def end(self) -> str: ...


class AttachedGroupView(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def scope(self) -> str: ...
    @property
    def consent_overrides(self) -> bool: ...


class CampaignView(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def calling_window(self) -> WindowView | None: ...
    @property
    def block_groups(self) -> Sequence[AttachedGroupView]: ...
    @property
    def allow_groups(self) -> Sequence[AttachedGroupView]: ...


class CampaignOperations(Protocol):
    """The account's campaigns: the SDK's ``Client.campaigns`` as it is. A calling window
    travels in its JSON form (``{"days": [...], "start": "HH:MM", "end": "HH:MM"}``)."""

    def list(self) -> Iterator[CampaignView]: ...

    def create(
        self,
        name: str,
        description: str = "",
        calling_window: Mapping[str, object] | None = None,
        group_ids: Sequence[int] = (),
    ) -> CampaignView: ...

    def get(self, campaign_id: int) -> CampaignView: ...

    def update(
        self, campaign_id: int, *, calling_window: Mapping[str, object] | None
    ) -> CampaignView:
        """Set the calling window, or remove it (None)."""
        ...

    def attach(self, campaign_id: int, group_ids: Sequence[int]) -> CampaignView: ...

    def detach(self, campaign_id: int, group_id: int) -> CampaignView: ...

    def delete(self, campaign_id: int) -> None: ...


class StatsPointView(Protocol):
    @property
    def start(self) -> datetime: ...
    @property
    def checks(self) -> int: ...
    @property
    def blocked(self) -> int: ...
    @property
    def invalid(self) -> int: ...
    @property
    def matched(self) -> int: ...


class GroupMatchesView(Protocol):
    @property
    def group_id(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def matched(self) -> int: ...


class TopEntryView(Protocol):
    @property
    def group_id(self) -> int: ...
    @property
    def group_name(self) -> str: ...
    @property
    def number(self) -> str: ...
    @property
    def international(self) -> str: ...
    @property
    def hits(self) -> int: ...


class StatsView(Protocol):
    """Checks and blocked calls over time (``docs/api.md``, "Insights")."""

    @property
    def bucket(self) -> str: ...
    @property
    def start(self) -> datetime: ...
    @property
    def end(self) -> datetime: ...
    @property
    def checks(self) -> int: ...
    @property
    def blocked(self) -> int: ...
    @property
    def series(self) -> Sequence[StatsPointView]: ...
    @property
    def by_group(self) -> Sequence[GroupMatchesView]: ...
    @property
    def top_entries(self) -> Sequence[TopEntryView]: ...


class StaleEntryView(Protocol):
    @property
    def number(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def expires_at(self) -> datetime | None: ...
    @property
    def note(self) -> str | None: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def last_matched_on(self) -> date | None: ...


ImportMode = Literal["add", "replace", "changes"]


@dataclass(frozen=True, slots=True)
class ImportOptions:
    column: str | None  # a header name or a 1-based position; None: found from the file
    expiry_column: str | None
    skip_invalid: bool
    new_group: GroupRole = GroupRole()  # what a group the import creates is
    mode: ImportMode = "add"  # "replace": the group becomes the file; "changes": a change list
    max_removal: float = 0.2  # the share of the group a replace may remove (1: any)
    op_column: str | None = None  # a change list's operation column; None: found from the file
    line_format: LineFormat = LineFormat.AUTO  # how the lines are read (files.LineFormat)
    note: str | None = None  # set on the file's entries (a change list's adds); None: kept


@dataclass(frozen=True, slots=True)
class Imported:
    group_id: int
    group_name: str
    created_group: bool
    added: int
    updated: int
    repeats: int
    invalid: Sequence[RejectedLine]  # skipped (only with skip_invalid)
    headers: Sequence[Row]  # lines read as a header, not imported
    lines: int | None  # lines read, when the target says
    removed: int = 0  # entries a replace or a change list removed


@dataclass(frozen=True, slots=True)
class Scrubbing:
    """A calling list being scrubbed: its layout (None: the file has no rows) and its rows in
    chunks, in input order, each row with its status and reason."""

    layout: Layout | None
    parts: Iterator[Scrubbed]


class Operations(Protocol):
    @property
    def groups(self) -> GroupOperations: ...

    @property
    def campaigns(self) -> CampaignOperations: ...

    def check(self, number: str, direction: CallDirection | None = None) -> CheckView:
        """Is ``number`` blocked now, and by what; ``NotANumber`` if it is not a number."""
        ...

    def check_for_campaign(
        self, number: str, direction: CallDirection | None, campaign_id: int
    ) -> CampaignCheckView:
        """May the campaign call ``number`` now, and why; ``NotANumber`` if it is not a
        number."""
        ...

    def import_file(
        self,
        group: str,
        file: Path,
        options: ImportOptions,
        reading: Reading,
        writing: Writing,
        columns: Columns,
    ) -> Imported:
        """Import ``file`` into the group named ``group`` (created if need be), all or
        nothing: ``ImportRejected`` (a ``PartlyListed`` when the answer lists only some of
        the lines) or ``NothingToImport`` leave no trace, not even the group. ``columns`` is
        told the layout read, when the target knows it, before any refusal. The group
        records the import as its refresh, from the file's base name
        (``recorded_file_name``)."""
        ...

    def export_group(self, group: str, out: IO[str]) -> int:
        """Write the named group's entries to ``out`` as CSV, header first; the entry count."""
        ...

    def purge_expired(self, group_id: int) -> int:
        """Remove every expired entry of the group, in one change; how many went."""
        ...

    def scrub_file(
        self,
        file: Path,
        column: str | None,
        direction: CallDirection,
        reading: Reading,
        campaign_id: int | None = None,
    ) -> AbstractContextManager[Scrubbing]:
        """The calling list in ``file``, scrubbed for calls in ``direction``: for the
        campaign, or against the account's global block groups when None."""
        ...

    def stats(
        self,
        bucket: StatsBucket,
        start: datetime | None,
        end: datetime | None,
        group_id: int | None,
        campaign_id: int | None,
    ) -> StatsView:
        """The account's checks per ``bucket`` from ``start`` to ``end`` (None: the last 60
        buckets up to now), of one campaign's checks or all; with ``group_id``, its matches.
        A range the stats cannot answer raises ``InvalidInput`` (local) or the SDK's
        ``ValidationError``, naming ``from`` or ``to``."""
        ...

    def stale_entries(self, group_id: int, days: int) -> Iterator[StaleEntryView]:
        """The group's entries no check matched in the last ``days`` UTC days (and in the
        group all that time), in the group's order."""
        ...

    def stale_csv(self, group_id: int, days: int, out: IO[str]) -> int:
        """Write the same entries to ``out`` as the API's CSV file
        (``number,kind,status,expires_at,note,created_at,last_matched_on``); how many."""
        ...
