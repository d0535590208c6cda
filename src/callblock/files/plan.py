"""What an import will write: its lines read, checked and reduced to distinct stored keys.

Pure work on the lines, before any transaction opens: an import with invalid lines is refused
(or those lines skipped) without touching the store, and the rows that do get written arrive
sorted by key, which is the entry table's order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from callblock.domain import LOCAL_TIME, NOT_A_NUMBER, RFC3339, RejectedLine
from callblock.numbers import (
    InvalidNumber,
    is_pattern,
    normalise,
    normalise_keys,
    normalise_prefix,
    pattern_key,
)
from callblock.timestamps import micros

_SHOWN = 100  # characters of a rejected line's input shown back
Keys = np.ndarray[Any, np.dtype[np.int64]]


@dataclass(frozen=True, slots=True)
class ImportLines:
    """The lines of a number list as columns: columns are what the fast paths work on."""

    lines: Sequence[int]  # the file's line number of each row
    numbers: list[str]  # the number cell of each row
    expiries: list[str] | None  # the expiry cell of each row; None without an expiry column
    ops: list[str] | None = None  # a change list's add/delete cell of each row
    # The line as the file has it, where a format rewrote its number (``+1`` and the area
    # code's pair of cells): what a refusal shows. None: the number cells are the lines'.
    inputs: list[str] | None = None

    def shown(self, position: int) -> str:
        return _shown((self.numbers if self.inputs is None else self.inputs)[position])

    def __len__(self) -> int:
        return len(self.numbers)


@dataclass(frozen=True, slots=True)
class ImportPlan:
    keys: np.ndarray[
        Any, np.dtype[np.int64]
    ]  # distinct stored keys (numbers.pattern_key), ascending
    # Expiry of each key in POSIX microseconds (None: none); None when no line has an expiry.
    expiries: list[int | None] | None
    invalid: list[RejectedLine]
    repeats: int  # valid lines whose number an earlier line already had
    lines: int  # data lines read


_NO_EXPIRY = np.iinfo(np.int64).min  # in the arrays: a line without expiry


def plan_import(
    blocks: Iterable[ImportLines], region: str, timezone: str, now: datetime
) -> ImportPlan:
    """Read every line, block by block; the first line of a number decides its expiry.

    Only arrays are kept from one block to the next (8 bytes a line for the key, 8 for the
    expiry), so memory follows the number of lines, not their text.
    """
    key_parts: list[Keys] = []
    expiry_parts: list[Keys] = []
    invalid: list[RejectedLine] = []
    expiry_texts: dict[str, tuple[int | None, str | None]] = {}
    dated = False
    lines = 0
    for block in blocks:
        lines += len(block)
        keys, valid, problems = _block_keys(block.numbers, region)
        stamps = np.full(len(block), _NO_EXPIRY, np.int64)
        if block.expiries is not None and any(block.expiries):
            dated = True
            for position, raw in enumerate(block.expiries):
                found = expiry_texts.get(raw)
                if found is None:
                    instant, problem = import_expiry(raw, timezone, now)
                    stamp = None if instant is None else micros(instant)
                    found = expiry_texts[raw] = (stamp, problem)
                if found[1] is not None:
                    problems.setdefault(position, found[1])
                elif found[0] is not None:
                    stamps[position] = found[0]
        valid[list(problems)] = False
        invalid += [
            RejectedLine(block.lines[p], block.shown(p), reason)
            for p, reason in sorted(problems.items())
        ]
        key_parts.append(keys[valid])
        expiry_parts.append(stamps[valid])
    all_keys = np.concatenate(key_parts) if key_parts else np.empty(0, np.int64)
    distinct, first = np.unique(all_keys, return_index=True)
    expiries = None
    if dated:
        chosen = np.concatenate(expiry_parts)[first].tolist()
        expiries = [None if stamp == _NO_EXPIRY else stamp for stamp in chosen]
    return ImportPlan(distinct, expiries, invalid, len(all_keys) - len(distinct), lines)


def _block_keys(
    numbers: Sequence[str], region: str
) -> tuple[
    np.ndarray[Any, np.dtype[np.int64]], np.ndarray[Any, np.dtype[np.bool_]], dict[int, str]
]:
    """The stored key of each number of a block, which are valid, and why the others are not."""
    keys = normalise_keys(numbers, region)
    valid = keys >= 0
    problems: dict[int, str] = {}  # position -> reason
    for position in np.flatnonzero(~valid).tolist():
        pattern, problem = _pattern(numbers[position], region)
        if pattern is None:
            problems[position] = problem
        else:
            keys[position] = pattern_key(pattern)
            valid[position] = True
    return keys, valid, problems


def _pattern(raw: str, region: str) -> tuple[str | None, str]:
    """The stored pattern of a number or prefix the fast path did not take, or why not."""
    try:
        if is_pattern(raw):
            return normalise_prefix(raw, region), ""
        return normalise(raw, region), ""
    except InvalidNumber as exc:
        if not is_pattern(raw):
            return None, NOT_A_NUMBER
        return None, "not a valid prefix" + ("" if exc.reason is None else f": {exc.reason}")


def import_expiry(raw: str, timezone: str, now: datetime) -> tuple[datetime | None, str | None]:
    """An import line's expiry: empty for none, RFC 3339, or local ``YYYY-MM-DD HH:MM:SS``."""
    text = raw.strip()
    if not text:
        return None, None
    local = LOCAL_TIME.fullmatch(text) is not None
    if not local and RFC3339.fullmatch(text) is None:
        return None, "expiry is not RFC 3339 nor YYYY-MM-DD HH:MM:SS"
    try:
        instant = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        if local:
            instant = instant.replace(tzinfo=ZoneInfo(timezone))
        instant = instant.astimezone(UTC)
    except (ValueError, OverflowError):
        return None, "expiry is not a real date and time"
    if instant <= now:
        return None, "expiry is not in the future"
    return instant, None


def _shown(raw: str) -> str:
    return raw if len(raw) <= _SHOWN else raw[:_SHOWN] + "..."


# A change list's operations, compared case-insensitively once trimmed (docs/api.md).
ADD_OPS = frozenset({"a", "add", "added", "+"})
DELETE_OPS = frozenset({"d", "del", "delete", "deleted", "-", "r", "remove", "removed"})
OP_RULE = "not an operation: add with A, add or +; delete with D, delete or -"


@dataclass(frozen=True, slots=True)
class ChangePlan:
    """A change list read whole: what it adds and deletes once every line is applied in the
    file's order (a number's last line decides), and the lines that cannot be applied."""

    adds: np.ndarray[Any, np.dtype[np.int64]]  # distinct stored keys, ascending
    deletes: np.ndarray[Any, np.dtype[np.int64]]  # likewise; none of them in ``adds``
    invalid: list[RejectedLine]
    repeats: int  # valid lines whose number an earlier line already had
    lines: int  # data lines read


def plan_changes(blocks: Iterable[ImportLines], region: str) -> ChangePlan:
    """Read every line of a change list, block by block (only arrays kept between blocks)."""
    key_parts: list[Keys] = []
    sign_parts: list[np.ndarray[Any, np.dtype[np.int8]]] = []
    invalid: list[RejectedLine] = []
    lines = 0
    for block in blocks:
        assert block.ops is not None, "a change list's lines carry their operations"
        lines += len(block)
        keys, valid, problems = _block_keys(block.numbers, region)
        signs = np.zeros(len(block), np.int8)
        for position, raw in enumerate(block.ops):
            op = raw.strip().lower()
            if op in ADD_OPS:
                signs[position] = 1
            elif op in DELETE_OPS:
                signs[position] = -1
            else:
                problems.setdefault(position, OP_RULE)
        valid[list(problems)] = False
        invalid += [
            RejectedLine(block.lines[p], block.shown(p), reason)
            for p, reason in sorted(problems.items())
        ]
        key_parts.append(keys[valid])
        sign_parts.append(signs[valid])
    keys = np.concatenate(key_parts) if key_parts else np.empty(0, np.int64)
    signs = np.concatenate(sign_parts) if sign_parts else np.empty(0, np.int8)
    # The last line of each number decides: the first of the lines read backwards.
    distinct, last_from_end = np.unique(keys[::-1], return_index=True)
    decided = signs[::-1][last_from_end]
    return ChangePlan(
        distinct[decided > 0], distinct[decided < 0], invalid, len(keys) - len(distinct), lines
    )
