"""Scrubbing a calling list: its rows in chunks, each row checked and given a status.

The check itself is the caller's (``BatchChecker``): this layer sits below the service and
knows only the shape of a batch check's answer.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence, Set
from dataclasses import dataclass, replace
from typing import IO, Protocol

from callblock.domain import NOT_A_NUMBER, WITHHELD_BLOCKED, Actor, Direction
from callblock.files.layout import Layout, layout
from callblock.files.reading import Row, sniffed, value_rows_after

SCRUB_CHUNK = 50_000


class CheckedBatch(Protocol):
    """A batch check's answers, one column per field, in input order."""

    @property
    def numbers(self) -> Sequence[str | None]: ...  # E.164, None where not a number

    @property
    def group_ids(self) -> Sequence[Sequence[int]]: ...  # the blocking groups of each

    @property
    def withheld(self) -> Set[int]: ...  # positions blocked as withheld caller IDs


class BatchChecker(Protocol):
    """What a scrub needs of the service: the account's group names and the batch check."""

    def group_names(self, actor: Actor) -> Mapping[int, str]: ...

    def check_many(
        self, actor: Actor, inputs: Sequence[object], direction: Direction | None
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


@dataclass(frozen=True, slots=True)
class Scrubbed:
    """One chunk of a scrubbed list: its rows, and each row's status and reason."""

    rows: list[list[str]]
    statuses: list[str]  # callable, blocked, invalid
    reasons: list[str]


def scrub_chunks(
    checker: BatchChecker,
    actor: Actor,
    rows: Iterator[list[str]],
    found: Layout,
    direction: Direction | None,
) -> Iterator[Scrubbed]:
    """The rows in chunks, in input order, each with its status and reason."""
    names = checker.group_names(actor)
    reasons: dict[tuple[int, ...], str] = {}  # one text per set of blocking groups
    while chunk := list(itertools.islice(rows, SCRUB_CHUNK)):
        yield _scrub(checker, actor, chunk, found.number, direction, names, reasons)


def _scrub(
    checker: BatchChecker,
    actor: Actor,
    chunk: list[list[str]],
    column: int,
    direction: Direction | None,
    names: Mapping[int, str],
    texts: dict[tuple[int, ...], str],
) -> Scrubbed:
    numbers = [values[column] if column < len(values) else "" for values in chunk]
    checked = checker.check_many(actor, numbers, direction)
    statuses: list[str] = []
    reasons: list[str] = []
    for position, (groups, number) in enumerate(
        zip(checked.group_ids, checked.numbers, strict=True)
    ):
        if groups:
            statuses.append("blocked")
            key = tuple(groups)
            text = texts.get(key)
            if text is None:
                blockers = (f"group {g} ({names.get(g, '?')})" for g in groups)
                text = texts[key] = "blocked by " + ", ".join(blockers)
            reasons.append(text)
        elif position in checked.withheld:
            statuses.append("blocked")
            reasons.append(WITHHELD_BLOCKED)
        elif number is None:
            statuses.append("invalid")
            reasons.append(NOT_A_NUMBER)
        else:
            statuses.append("callable")
            reasons.append("")
    return Scrubbed(chunk, statuses, reasons)
