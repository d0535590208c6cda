"""Exact tables of valid national numbers, derived once from libphonenumber's patterns.

libphonenumber decides validity with regular expressions per number type. For a given length
those expressions only ever look at a leading part of the number and then accept any digits
(``...\\d{5}``), so the set of valid numbers of one length is a union of integer intervals.
This module turns each pattern into an automaton over digits and walks it to find those
intervals exactly (no sampling). A number is then valid when it falls in an interval: a
binary search, for one number or, with numpy, for a whole batch at once.

Patterns using anything beyond literals, digit classes, alternation, groups and bounded
repeats are not compiled (``None``); callers then use libphonenumber itself.

Deriving a table takes about a tenth of a second (India, 10 digits), paid by every new
process: each is kept in the user's cache directory, named by the phonenumbers release it
came from, and read back by later processes (a CLI import, a restarted server). A cache that
cannot be read or written is simply not used.
"""

from __future__ import annotations

import bisect
import functools
import os

# The re module's own parser: patterns are read exactly as re reads them.
import re._constants as _c  # type: ignore[import-not-found]  # no stubs: private module
import re._parser as _parser  # type: ignore[import-not-found]  # no stubs: private module
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import phonenumbers

_DIGITS = frozenset(range(ord("0"), ord("9") + 1))
_MAX_STATES = 20_000


class Unsupported(ValueError):
    pass


class _Nfa:
    def __init__(self) -> None:
        self.moves: list[dict[int, set[int]]] = []
        self.empty: list[set[int]] = []

    def node(self) -> int:
        self.moves.append({})
        self.empty.append(set())
        if len(self.moves) > _MAX_STATES:
            raise Unsupported("pattern too large")
        return len(self.moves) - 1

    def digit_set(self, items: Iterable[tuple[Any, Any]]) -> frozenset[int]:
        chars: set[int] = set()
        negate = False
        for op, arg in items:
            if op is _c.LITERAL:
                chars.add(arg)
            elif op is _c.RANGE:
                chars.update(range(arg[0], arg[1] + 1))
            elif op is _c.CATEGORY and arg is _c.CATEGORY_DIGIT:
                chars.update(_DIGITS)
            elif op is _c.NEGATE:
                negate = True
            else:
                raise Unsupported(f"class item {op}")
        return frozenset(_DIGITS - chars) if negate else frozenset(chars & _DIGITS)

    def compile(self, sequence: Any, start: int) -> int:
        current = start
        for op, arg in sequence:
            current = self._item(op, arg, current)
        return current

    def _item(self, op: Any, arg: Any, start: int) -> int:
        if op is _c.LITERAL:
            return self._step(start, frozenset({arg}) & _DIGITS)
        if op is _c.IN:
            return self._step(start, self.digit_set(arg))
        if op is _c.SUBPATTERN:
            return self.compile(arg[-1], start)
        if op is _c.BRANCH:
            end = self.node()
            for branch in arg[1]:
                self.empty[self.compile(branch, start)].add(end)
            return end
        if op in (_c.MAX_REPEAT, _c.MIN_REPEAT):
            low, high, body = arg
            current = start
            for _ in range(low):
                current = self.compile(body, current)
            if high is _c.MAXREPEAT:
                loop_end = self.compile(body, current)
                self.empty[loop_end].add(current)
                return current
            end = self.node()
            self.empty[current].add(end)
            for _ in range(high - low):
                current = self.compile(body, current)
                self.empty[current].add(end)
            return end
        raise Unsupported(f"operator {op}")

    def _step(self, start: int, chars: frozenset[int]) -> int:
        end = self.node()
        for char in chars:
            self.moves[start].setdefault(char - ord("0"), set()).add(end)
        return end


@dataclass(frozen=True)
class _Automaton:
    """A pattern as a deterministic walk over digits, with memoised all/none answers."""

    nfa: _Nfa
    start: frozenset[int]
    accept: int

    @classmethod
    def of(cls, pattern: str) -> _Automaton:
        nfa = _Nfa()
        start = nfa.node()
        accept = nfa.compile(_parser.parse(pattern), start)
        automaton = cls(nfa, frozenset(), accept)
        return cls(nfa, automaton.closure({start}), accept)

    def closure(self, states: Iterable[int]) -> frozenset[int]:
        seen = set(states)
        stack = list(seen)
        while stack:
            for nxt in self.nfa.empty[stack.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
        return frozenset(seen)

    @functools.cache  # noqa: B019 (automata live as long as the process)
    def step(self, states: frozenset[int], digit: int) -> frozenset[int]:
        moved = {n for s in states for n in self.nfa.moves[s].get(digit, ())}
        return self.closure(moved) if moved else frozenset()

    @functools.cache  # noqa: B019
    def all_accept(self, states: frozenset[int], remaining: int) -> bool:
        if remaining == 0:
            return self.accept in states
        return bool(states) and all(
            self.all_accept(self.step(states, d), remaining - 1) for d in range(10)
        )

    @functools.cache  # noqa: B019
    def none_accept(self, states: frozenset[int], remaining: int) -> bool:
        if not states:
            return True
        if remaining == 0:
            return self.accept not in states
        return all(self.none_accept(self.step(states, d), remaining - 1) for d in range(10))


def _union(patterns: list[str]) -> str:
    return "|".join(f"(?:{p})" for p in patterns) if patterns else "(?!)"


def _intervals(general: _Automaton, union: _Automaton, length: int) -> list[tuple[int, int]]:
    """The integer intervals of ``length``-digit strings that both automata accept."""
    found: list[tuple[int, int]] = []

    def walk(g: frozenset[int], u: frozenset[int], value: int, depth: int) -> None:
        remaining = length - depth
        if general.none_accept(g, remaining) or union.none_accept(u, remaining):
            return
        if general.all_accept(g, remaining) and union.all_accept(u, remaining):
            scale = 10**remaining
            if found and found[-1][1] == value * scale:
                found[-1] = (found[-1][0], (value + 1) * scale)
            else:
                found.append((value * scale, (value + 1) * scale))
            return
        for digit in range(10):
            walk(general.step(g, digit), union.step(u, digit), value * 10 + digit, depth + 1)

    walk(general.start, union.start, 0, 0)
    return found


@dataclass(frozen=True)
class ValidTable:
    """Valid national numbers of one region and length, as sorted integer intervals."""

    starts: np.ndarray[Any, np.dtype[np.int64]]
    ends: np.ndarray[Any, np.dtype[np.int64]]

    @functools.cached_property
    def _lists(self) -> tuple[list[int], list[int]]:
        # For one number at a time, bisect on lists beats a numpy call's overhead.
        return self.starts.tolist(), self.ends.tolist()

    def contains(self, national: int) -> bool:
        starts, ends = self._lists
        position = bisect.bisect_right(starts, national) - 1
        return position >= 0 and national < ends[position]

    def any_between(self, low: int, high: int) -> bool:
        """Whether some number ``low <= n < high`` is in the table."""
        starts, ends = self._lists
        position = bisect.bisect_right(ends, low)  # the first interval that ends after low
        return position < len(starts) and starts[position] < high

    def contains_many(
        self, nationals: np.ndarray[Any, np.dtype[np.int64]]
    ) -> np.ndarray[Any, np.dtype[np.bool_]]:
        if not len(self.starts):
            return np.zeros(len(nationals), dtype=bool)
        position = np.searchsorted(self.starts, nationals, "right") - 1
        safe = np.maximum(position, 0)
        result: np.ndarray[Any, np.dtype[np.bool_]] = (position >= 0) & (
            nationals < self.ends[safe]
        )
        return result


def _descs(metadata: Any) -> list[Any]:
    kinds = (
        metadata.mobile,
        metadata.fixed_line,
        metadata.toll_free,
        metadata.premium_rate,
        metadata.shared_cost,
        metadata.personal_number,
        metadata.voip,
        metadata.pager,
        metadata.uan,
        metadata.voicemail,
    )
    return [d for d in kinds if d is not None and d.national_number_pattern is not None]


def _cache_file(region: str, length: int) -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    version = phonenumbers.__version__
    return Path(base, "callblock", f"valid-{version}-{region}-{length}.npy")


def _cached(region: str, length: int) -> ValidTable | None:
    try:
        spans = np.load(_cache_file(region, length), allow_pickle=False)
    except (OSError, ValueError, EOFError):
        return None
    if spans.dtype != np.int64 or spans.ndim != 2 or spans.shape[0] != 2:
        return None
    return ValidTable(np.ascontiguousarray(spans[0]), np.ascontiguousarray(spans[1]))


def _keep(region: str, length: int, table: ValidTable) -> None:
    target = _cache_file(region, length)
    written: Path | None = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        # Whole or absent: another process may be reading it, or writing the same file.
        with tempfile.NamedTemporaryFile(dir=target.parent, suffix=".tmp", delete=False) as out:
            written = Path(out.name)
            np.save(out, np.stack([table.starts, table.ends]), allow_pickle=False)
        os.replace(written, target)
    except OSError:
        if written is not None:
            written.unlink(missing_ok=True)


@functools.cache
def valid_table(region: str, length: int) -> ValidTable | None:
    """The table of valid ``length``-digit national numbers of ``region`` (no leading 0),
    or None when libphonenumber's patterns for it cannot be compiled here."""
    cached = _cached(region, length)
    if cached is not None:
        return cached
    table = derive_table(region, length)
    if table is not None and len(table.starts):
        _keep(region, length, table)
    return table


def derive_table(region: str, length: int) -> ValidTable | None:
    """``valid_table`` worked out from libphonenumber's patterns, without the cache."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if metadata is None or metadata.general_desc is None:
        return None
    general_desc = metadata.general_desc
    if general_desc.national_number_pattern is None:
        return None
    if general_desc.possible_length and length not in general_desc.possible_length:
        return ValidTable(np.empty(0, np.int64), np.empty(0, np.int64))
    types = [
        d.national_number_pattern
        for d in _descs(metadata)
        if not d.possible_length or length in d.possible_length
    ]
    try:
        general = _Automaton.of(general_desc.national_number_pattern)
        union = _Automaton.of(_union(types))
        spans = _intervals(general, union, length)
    except (Unsupported, RecursionError, OverflowError):
        return None
    # Numbers with a leading zero are left to libphonenumber (italian leading zeros).
    low = 10 ** (length - 1)
    spans = [(max(a, low), b) for a, b in spans if b > low]
    return ValidTable(
        np.fromiter((a for a, _ in spans), np.int64, len(spans)),
        np.fromiter((b for _, b in spans), np.int64, len(spans)),
    )


def _country_metadata(country_code: int) -> list[tuple[str, Any]]:
    """The regions of a country code and their metadata (``001`` for a non-geographic code)."""
    found = []
    for region in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(country_code, ()):
        if region == phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY:
            metadata = phonenumbers.PhoneMetadata.metadata_for_nongeo_region(country_code)
        else:
            metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
        if metadata is not None:
            found.append((region, metadata))
    return found


def _lengths(metadata: Any) -> list[int]:
    general = metadata.general_desc
    return [n for n in (general.possible_length if general is not None else ()) if n > 0]


@functools.cache
def longest_national(country_code: int) -> int | None:
    """The most digits a valid national number of ``country_code`` has (None: not known)."""
    lengths = [_lengths(metadata) for _, metadata in _country_metadata(country_code)]
    if not lengths or not all(lengths):
        return None
    return max(max(found) for found in lengths)


def no_valid_number_starts_with(country_code: int, national: str) -> bool:
    """Whether it is certain that no valid number of ``country_code`` has a national number
    that starts with the digits ``national``; False whenever the tables cannot tell (a
    leading 0, which the tables leave to libphonenumber; a pattern not compiled here)."""
    if not national.isascii() or not national.isdigit() or national[0] == "0":
        return False
    regions = _country_metadata(country_code)
    if not regions:
        return False
    prefix, digits = int(national), len(national)
    for region, metadata in regions:
        lengths = _lengths(metadata)
        if not lengths or region == phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY:
            return False
        for length in lengths:
            if length < digits:
                continue
            table = valid_table(region, length)
            scale = 10 ** (length - digits)
            if table is None or table.any_between(prefix * scale, (prefix + 1) * scale):
                return False
    return True
