"""Scrubbing a calling list: its rows in chunks, each row checked and given a status.

The check itself is the caller's (``BatchChecker``): this layer sits below the service and
knows only the shape of a batch check's answer.
"""

from __future__ import annotations

import enum
import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import IO, Protocol

from callblock.domain import (
    NOT_A_NUMBER,
    WITHHELD_BLOCKED,
    Actor,
    BatchReason,
    CampaignRef,
    Direction,
    ReasonCode,
)
from callblock.files.layout import Layout, layout
from callblock.files.reading import Row, sniffed, value_rows_after

SCRUB_CHUNK = 50_000


class CheckedBatch(Protocol):
    """A batch check's answers with their reasons, one column per field, in input order."""

    @property
    def numbers(self) -> Sequence[str | None]: ...  # E.164, None where not a number

    @property
    def callable(self) -> Sequence[bool]: ...

    @property
    def reasons(self) -> Sequence[Sequence[BatchReason]]: ...

    @property
    def next_callable_at(self) -> Sequence[datetime | None]: ...

    @property
    def group_names(self) -> Mapping[int, str]: ...


class BatchChecker(Protocol):
    """What a scrub needs of the service: the batch check with reasons (of a campaign, or
    of the account's global block groups when there is none)."""

    def check_many_for_campaign(
        self,
        actor: Actor,
        inputs: Sequence[object],
        direction: Direction | None,
        campaign: CampaignRef | None,
    ) -> CheckedBatch: ...


def scrub_input(
    text: IO[str], region: str, column: str | None
) -> tuple[Layout | None, Iterator[list[str]]]:
    """A calling list's layout (from its first row) and all its data rows."""
    sample, dialect = sniffed(text)
    rows = value_rows_after(sample, text, dialect)
    first = next(rows, None)
    if first is None:
        return None, iter(())
    second = next(rows, None)
    found = layout(Row(1, first), region, column, None, None if second is None else Row(2, second))
    found = replace(found, delimiter=dialect.delimiter)

    def data() -> Iterator[list[str]]:
        if found.header is None:
            yield first
        if second is not None:
            yield second
        yield from rows

    return found, data()


class Status(enum.StrEnum):
    """A scrubbed row's status."""

    CALLABLE = "callable"
    BLOCKED = "blocked"
    INVALID = "invalid"
    NOT_CALLABLE_NOW = "not_callable_now"  # only the campaign's calling window is in the way


@dataclass(frozen=True, slots=True)
class Scrubbed:
    """One chunk of a scrubbed list: its rows, and each row's status, reason (words),
    reason codes (``domain.ReasonCode`` values joined by ``;``) and, for a row outside the
    calling window, when it may be called (RFC 3339, else empty)."""

    rows: list[list[str]]
    statuses: list[str]
    reasons: list[str]
    codes: list[str]
    next_callable: list[str]


# The columns a scrubbed row gains, in order.
SCRUB_COLUMNS = ("status", "reason", "reason_code", "next_callable_at")


def scrub_chunks(
    checker: BatchChecker,
    actor: Actor,
    rows: Iterator[list[str]],
    found: Layout,
    direction: Direction | None,
    campaign: CampaignRef | None = None,
) -> Iterator[Scrubbed]:
    """The rows in chunks, in input order, each with its status and reason."""
    texts: dict[tuple[BatchReason, ...], str] = {}  # one text per set of reasons
    while chunk := list(itertools.islice(rows, SCRUB_CHUNK)):
        numbers = [values[found.number] if found.number < len(values) else "" for values in chunk]
        checked = checker.check_many_for_campaign(actor, numbers, direction, campaign)
        yield _scrubbed(chunk, checked, texts)


def _scrubbed(
    chunk: list[list[str]], checked: CheckedBatch, texts: dict[tuple[BatchReason, ...], str]
) -> Scrubbed:
    statuses: list[str] = []
    reasons: list[str] = []
    codes: list[str] = []
    next_callable: list[str] = []
    for number, callable_, why, next_at in zip(
        checked.numbers, checked.callable, checked.reasons, checked.next_callable_at, strict=True
    ):
        if not why:
            invalid = number is None
            statuses.append(Status.INVALID if invalid else Status.CALLABLE)
            reasons.append(NOT_A_NUMBER if invalid else "")
            codes.append("")
            next_callable.append("")
            continue
        key = tuple(why)
        text = texts.get(key)
        if text is None:
            names = checked.group_names
            text = texts[key] = "; ".join(reason_text(r, names) for r in why)
        if callable_:
            statuses.append(Status.CALLABLE)
        elif next_at is not None or all(
            r.code is ReasonCode.OUTSIDE_CALLING_HOURS
            or r.code is ReasonCode.CONSENT_OVERRIDES_BLOCK
            for r in why
        ):
            statuses.append(Status.NOT_CALLABLE_NOW)
        else:
            statuses.append(Status.BLOCKED)
        reasons.append(text)
        codes.append(";".join(dict.fromkeys(r.code.value for r in why)))
        next_callable.append("" if next_at is None else instant_text(next_at))
    return Scrubbed(chunk, statuses, reasons, codes, next_callable)


def instant_text(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def reason_text(reason: BatchReason, names: Mapping[int, str]) -> str:
    """A reason in words, for a person reading a scrubbed list."""

    def group(group_id: int | None) -> str:
        return f"group {group_id} ({names.get(group_id or 0, '?')})"

    if reason.code is ReasonCode.WITHHELD_CALLER:
        return WITHHELD_BLOCKED
    if reason.code is ReasonCode.OUTSIDE_CALLING_HOURS:
        return "outside calling hours in " + ", ".join(reason.zones)
    if reason.code is ReasonCode.CONSENT_OVERRIDES_BLOCK:
        return f"consent in {group(reason.allowed_by_group_id)} overrides {group(reason.group_id)}"
    if reason.code is ReasonCode.BLOCKED_BY_PREFIX:
        return f"blocked by {group(reason.group_id)}, prefix {reason.pattern}"
    return f"blocked by {group(reason.group_id)}"
