"""What the commands that take a target need of it, as one protocol: ``Operations``.

A target is the local database acting as an account (``local.Local``, over the service) or a
server's ``/v1`` API (``remote.Remote``, over the SDK). ``check``, ``group``, ``import``,
``export`` and ``scrub`` are each written once against ``Operations``; ``target.open_target`` is
the one place that picks which.

The shapes follow the SDK's (``Client.check``, ``Client.groups``), so that what the SDK already
offers is used as it is: ``Client.groups`` is a ``GroupOperations`` without any adapter.

Errors: an operation raises a ``callblock.domain.DomainError`` (``GroupNotFound``,
``ImportRejected``, ``NothingToImport``, ...), the SDK's ``CallblockError``, ``NotANumber`` for
a check of something that is not a phone number, or ``files.FileProblem`` (or ``OSError``,
``UnicodeDecodeError``, ``EOFError``) for a file that cannot be read. ``target.failures`` turns
each into one line on stderr.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Literal, Protocol, TypeAlias

from callblock.domain import RejectedLine
from callblock.files import Layout, Row, Scrubbed

GroupDirection: TypeAlias = Literal["inbound", "outbound", "both"]
CallDirection: TypeAlias = Literal["inbound", "outbound"]
Reading: TypeAlias = Callable[[int], None]
"""Told how many bytes of the input file have been read (or sent) so far."""
Writing: TypeAlias = Callable[[int, int], None]
"""Told how many entries of how many an import has written so far."""


class NotANumber(Exception):
    """A check of an input that is not a phone number; the message says why."""


class GroupView(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def direction(self) -> str: ...
    @property
    def active_count(self) -> int: ...
    @property
    def expired_count(self) -> int: ...


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


class GroupOperations(Protocol):
    """The account's groups: the SDK's ``Client.groups`` as it is."""

    def list(self, name: str | None = None, page_size: int = 100) -> Iterator[GroupView]: ...

    def create(
        self, name: str, description: str = "", direction: GroupDirection = "both"
    ) -> GroupView: ...

    def delete(self, group_id: int) -> None: ...


@dataclass(frozen=True, slots=True)
class ImportOptions:
    column: str | None  # a header name or a 1-based position; None: found from the file
    expiry_column: str | None
    skip_invalid: bool


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


@dataclass(frozen=True, slots=True)
class Scrubbing:
    """A calling list being scrubbed: its layout (None: the file has no rows) and its rows in
    chunks, in input order, each row with its status and reason."""

    layout: Layout | None
    parts: Iterator[Scrubbed]


class Operations(Protocol):
    @property
    def groups(self) -> GroupOperations: ...

    def check(self, number: str, direction: CallDirection | None = None) -> CheckView:
        """Is ``number`` blocked now, and by what; ``NotANumber`` if it is not a number."""
        ...

    def import_file(
        self, group: str, file: Path, options: ImportOptions, reading: Reading, writing: Writing
    ) -> Imported:
        """Import ``file`` into the group named ``group`` (created if need be), all or
        nothing: ``ImportRejected`` or ``NothingToImport`` leave no trace, not even the group."""
        ...

    def export_group(self, group: str, out: IO[str]) -> int:
        """Write the named group's entries to ``out`` as CSV, header first; the entry count."""
        ...

    def scrub_file(
        self, file: Path, column: str | None, direction: CallDirection, reading: Reading
    ) -> AbstractContextManager[Scrubbing]:
        """The calling list in ``file``, scrubbed for calls in ``direction``."""
        ...
