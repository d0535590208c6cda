"""Calling hours: when a campaign may dial a number, judged in the callee's local time.

A campaign's ``CallingWindow`` is a set of days and a local time range (``Mon-Sat
09:00-21:00``, possibly crossing midnight). A number is inside the window when it is inside in
EVERY time zone libphonenumber gives the number (a UK mobile: London, Jersey, Guernsey, Isle of
Man; an Australian mobile: eight zones); a number it gives no zone (``Etc/Unknown``) is judged
in the account's zone, the *fallback*. ``zones_of`` is that rule, read directly.

``WindowJudge`` answers it fast. The slow part is libphonenumber's lookup (parse, number
type, prefix table: some 10-20 µs); the judge pays it only where the answer depends on it:

- Inside/outside is the same through a UTC minute (window bounds are whole local minutes,
  zone offsets and their changes whole minutes: checked, not assumed), and so is the next
  opening when outside. Answers are kept per (zone set, minute).
- The zones a valid number can get are few and known from its first digits: those of each
  entry of libphonenumber's prefix table under its country code, or its country's (a
  non-geographic number: toll-free, a mobile where mobiles have no area), or none. Where
  every possible zone set of the COUNTRY gives the same answer this minute (India, most of
  the world: one zone), that answers without further work. Otherwise the number's longest
  prefix in the table narrows it to that entry's zones, plus the country's where a
  non-geographic number can start with that prefix (found from libphonenumber's patterns,
  erring towards "can"); where those agree, that answers. Only the rest (a Jamaican mobile,
  say, whose country-level zones run from Guam to Bermuda) is looked up.

The judge takes numbers as ``callblock.numbers.normalise`` returns them: valid E.164 numbers.
For those its answers are exactly ``zones_of`` plus ``CallingWindow.open_at`` plus
``next_open``. A string that is not a valid number is never refused, but where a shortcut
answers it is judged in the zones of its prefix, not (as ``zones_of`` would) in the fallback.

Time zones are read through ``zoneinfo`` from the system's tz database; no I/O of its own.
"""

from __future__ import annotations

import bisect
import functools
import math
import re

# The re module's own parser: libphonenumber's patterns read exactly as re reads them.
import re._constants as _c  # type: ignore[import-not-found]  # no stubs: private module
import re._parser as _parser  # type: ignore[import-not-found]  # no stubs: private module
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import phonenumbers
from phonenumbers.timezone import UNKNOWN_TIMEZONE, time_zones_for_number
from phonenumbers.tzdata import TIMEZONE_DATA, TIMEZONE_LONGEST_PREFIX

from callblock.domain import FieldProblem, ProblemCode

__all__ = [
    "DAY_NAMES",
    "CallingWindow",
    "Judgement",
    "WindowJudge",
    "clean_window",
    "days_from_text",
    "next_open",
    "window_from_text",
    "zones_of",
]

DAY_NAMES: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # index = weekday()
_DAY_LIST: Final = "mon, tue, wed, thu, fri, sat or sun"
_MINUTES_A_DAY: Final = 1440
_DAY: Final = 86_400
_WEEK: Final = 7 * _DAY
# 1970-01-01, day 0 of POSIX time, was a Thursday.
_EPOCH_WEEKDAY: Final = 3


# --- the window --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CallingWindow:
    """Days of the week and a local time range, ``start`` inclusive, ``end`` exclusive, in
    minutes since local midnight. ``end < start`` crosses midnight: the window then belongs
    to the day it starts on (``Fri 21:00-02:00`` is open until Saturday 02:00)."""

    days: frozenset[int]  # 0 = Monday
    start: int  # 0..1439
    end: int  # 1..1440 (1440 = "24:00"); end < start crosses midnight; never equal to start

    def __post_init__(self) -> None:
        if not isinstance(self.days, frozenset) or not self.days <= frozenset(range(7)):
            raise ValueError(f"days must be a frozenset of weekdays 0..6, not {self.days!r}")
        if not self.days:
            raise ValueError("a calling window needs at least one day")
        if not 0 <= self.start < _MINUTES_A_DAY or not 0 < self.end <= _MINUTES_A_DAY:
            raise ValueError(f"start {self.start} or end {self.end} out of range")
        if self.start == self.end:
            raise ValueError("a calling window's start and end must differ")

    @property
    def crosses_midnight(self) -> bool:
        return self.end < self.start

    def open_at(self, local: datetime) -> bool:
        """Whether a local wall time (an aware datetime in the callee's zone) is inside."""
        weekday = local.weekday()
        minute = local.hour * 60 + local.minute
        if not self.crosses_midnight:
            return weekday in self.days and self.start <= minute < self.end
        return (weekday in self.days and minute >= self.start) or (
            (weekday - 1) % 7 in self.days and minute < self.end
        )

    def to_wire(self) -> dict[str, object]:
        return {
            "days": [DAY_NAMES[day] for day in sorted(self.days)],
            "start": _clock(self.start),
            "end": _clock(self.end),
        }

    def describe(self) -> str:
        """``Mon-Sat 09:00-21:00``, ``Sat-Mon 10:00-14:00``, ``every day 21:00-02:00``."""
        return f"{_day_ranges(self.days)} {_clock(self.start)}-{_clock(self.end)}"


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _day_ranges(days: frozenset[int]) -> str:
    if len(days) == 7:
        return "every day"
    runs = []
    for first in range(7):  # each run of consecutive days (Sat-Mon wraps) from its first day
        if first in days and (first - 1) % 7 not in days:
            last = first
            while (last + 1) % 7 in days:
                last = (last + 1) % 7
            name = DAY_NAMES[first].capitalize()
            runs.append(name if last == first else f"{name}-{DAY_NAMES[last].capitalize()}")
    return ", ".join(runs)


_TIME_OF_DAY = re.compile(r"([0-9]{2}):([0-9]{2})")
_START_RULE: Final = "a time of day as HH:MM, from 00:00 to 23:59"
_END_RULE: Final = (
    "a time of day as HH:MM, from 00:00 to 24:00 (as an end, 00:00 and 24:00 both mean "
    "midnight at the end of the day)"
)
_SAME_RULE: Final = (
    "the window's end is its start: a window must have a length (00:00 to 24:00 is the whole day)"
)
_DAYS_RULE: Final = f"a list of days, at least one, each once: {_DAY_LIST}"


def _time_of_day(raw: object, *, end: bool) -> int | None:
    """Minutes since midnight of ``HH:MM`` (an end may be ``24:00``: 1440), or None."""
    if not isinstance(raw, str):
        return None
    match = _TIME_OF_DAY.fullmatch(raw)
    if match is None:
        return None
    hours, minutes = int(match[1]), int(match[2])
    if end and (hours, minutes) == (24, 0):
        return _MINUTES_A_DAY
    return hours * 60 + minutes if hours < 24 and minutes < 60 else None


def _window(days: frozenset[int], start: int, end: int) -> CallingWindow:
    """The window of parsed parts (``end`` 0, midnight, is the end of the day: 1440)."""
    return CallingWindow(days, start, end or _MINUTES_A_DAY)


def clean_window(
    raw: object, problems: list[FieldProblem], field: str = "calling_window"
) -> CallingWindow | None:
    """The window of a wire dict ``{"days": ["mon", ...], "start": "HH:MM", "end": "HH:MM"}``,
    or None after recording a problem for every invalid part (and for every unknown key).

    Day names are case-insensitive; ``end`` may be ``24:00`` (``00:00`` as an end means the
    same); ``start == end`` is refused (empty or the whole day? ``00:00``-``24:00`` says the
    latter)."""
    if not isinstance(raw, Mapping):
        problems.append(
            FieldProblem(
                field,
                ProblemCode.INVALID,
                raw,
                'a calling window is an object: {"days": ["mon", ...], "start": "HH:MM", '
                '"end": "HH:MM"}',
            )
        )
        return None
    found: list[FieldProblem] = []
    for key in raw:
        if key not in ("days", "start", "end"):
            found.append(
                FieldProblem(
                    f"{field}.{key}",
                    ProblemCode.INVALID,
                    raw[key],
                    "not a field of a calling window, which has days, start and end only",
                )
            )
    days = _clean_days(raw.get("days"), "days" in raw, found, f"{field}.days")
    start = _clean_time(raw, "start", found, field)
    end = _clean_time(raw, "end", found, field)
    if start is not None and end is not None and start == end:
        found.append(FieldProblem(f"{field}.end", ProblemCode.INVALID, raw["end"], _SAME_RULE))
    if found or days is None or start is None or end is None:
        problems.extend(found)
        return None
    return _window(days, start, end)


def _clean_days(
    raw: object, present: bool, problems: list[FieldProblem], field: str
) -> frozenset[int] | None:
    if not present:
        problems.append(FieldProblem(field, ProblemCode.INVALID, None, f"required: {_DAYS_RULE}"))
        return None
    if not isinstance(raw, list):
        problems.append(FieldProblem(field, ProblemCode.INVALID, raw, _DAYS_RULE))
        return None
    if not raw:
        problems.append(FieldProblem(field, ProblemCode.INVALID, raw, _DAYS_RULE))
        return None
    days: set[int] = set()
    valid = True
    for i, item in enumerate(raw):
        name = item.lower() if isinstance(item, str) else None
        if name not in DAY_NAMES:
            problems.append(
                FieldProblem(
                    f"{field}.{i}", ProblemCode.INVALID, item, f"not a day: use {_DAY_LIST}"
                )
            )
            valid = False
        elif DAY_NAMES.index(name) in days:
            problems.append(
                FieldProblem(
                    f"{field}.{i}", ProblemCode.INVALID, item, "listed twice: each day once"
                )
            )
            valid = False
        else:
            days.add(DAY_NAMES.index(name))
    return frozenset(days) if valid else None


def _clean_time(
    raw: Mapping[Any, object], key: str, problems: list[FieldProblem], field: str
) -> int | None:
    rule = _END_RULE if key == "end" else _START_RULE
    if key not in raw:
        problems.append(
            FieldProblem(f"{field}.{key}", ProblemCode.INVALID, None, f"required: {rule}")
        )
        return None
    minutes = _time_of_day(raw[key], end=key == "end")
    if minutes is None:
        problems.append(FieldProblem(f"{field}.{key}", ProblemCode.INVALID, raw[key], rule))
    return minutes


def days_from_text(text: str) -> frozenset[int]:
    """The days of a command-line form: ``mon-sat``, ``mon,wed,fri``, ``sat-mon`` (a range
    wraps past Sunday), ``mon-wed,fri``, ``all`` or ``every``; case-insensitive. ValueError
    saying what is accepted otherwise (a day given twice too)."""
    usage = (
        f"days are {_DAY_LIST}, as a list (mon,wed,fri), a range (mon-fri; sat-mon wraps), "
        "both (mon-wed,fri), or all"
    )
    if text.strip().lower() in ("all", "every"):
        return frozenset(range(7))
    days: set[int] = set()
    for part in text.split(","):
        ends = [_day_named(name, text, usage) for name in part.split("-")]
        if len(ends) > 2:
            raise ValueError(f"{part.strip()!r} in {text!r} is not a day or a range: {usage}")
        first, last = ends[0], ends[-1]
        for day in (first + step for step in range((last - first) % 7 + 1)):
            if day % 7 in days:
                raise ValueError(f"{DAY_NAMES[day % 7]} is given twice in {text!r}: {usage}")
            days.add(day % 7)
    return frozenset(days)


def _day_named(name: str, text: str, usage: str) -> int:
    day = name.strip().lower()
    if day not in DAY_NAMES:
        raise ValueError(f"{name.strip()!r} in {text!r} is not a day: {usage}")
    return DAY_NAMES.index(day)


def window_from_text(days: str, hours: str) -> CallingWindow:
    """The window of the command-line forms ``days_from_text(days)`` and ``HH:MM-HH:MM``
    (``21:00-02:00`` crosses midnight; ``09:00-24:00`` ends at midnight). ValueError saying
    what is wrong and what is accepted otherwise."""
    parsed_days = days_from_text(days)
    parts = hours.strip().split("-")
    if len(parts) != 2:
        raise ValueError(f"hours {hours!r} are not a range HH:MM-HH:MM, such as 09:00-21:00")
    start = _time_of_day(parts[0].strip(), end=False)
    if start is None:
        raise ValueError(f"start {parts[0].strip()!r} in {hours!r} is not {_START_RULE}")
    end = _time_of_day(parts[1].strip(), end=True)
    if end is None:
        raise ValueError(f"end {parts[1].strip()!r} in {hours!r} is not {_END_RULE}")
    if start == end:
        raise ValueError(f"hours {hours!r}: {_SAME_RULE}")
    return _window(parsed_days, start, end)


# --- the zones of a number -----------------------------------------------------------------


def zones_of(e164: str, fallback: str) -> tuple[str, ...]:
    """libphonenumber's time zones of the number, ``Etc/Unknown`` (no zone known) replaced by
    ``fallback``; sorted, each once. A string it cannot parse has no zone either."""
    return _resolved(_zones_found(e164), fallback)


def _zones_found(e164: str) -> tuple[str, ...]:
    try:
        number = phonenumbers.parse(e164)
    except phonenumbers.NumberParseException:
        return _UNKNOWN
    return tuple(time_zones_for_number(number))


def _resolved(zones: Iterable[str], fallback: str) -> tuple[str, ...]:
    return tuple(sorted({fallback if zone == UNKNOWN_TIMEZONE else zone for zone in zones}))


_COUNTRY_CODES: Final = frozenset(str(code) for code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE)
_UNKNOWN: Final = (UNKNOWN_TIMEZONE,)


def _code_of(digits: str) -> str | None:
    """The country calling code a number's digits start with (codes are prefix-free)."""
    for length in (1, 2, 3):
        if digits[:length] in _COUNTRY_CODES:
            return digits[:length]
    return None


@functools.cache
def _keys_by_code() -> dict[str, frozenset[str]]:
    """The prefix table's keys a number of each country code can be looked up by: those
    starting with the code (and, were there any, those the code starts with)."""
    found: dict[str, set[str]] = {code: set() for code in _COUNTRY_CODES}
    for key in TIMEZONE_DATA:
        for code in _COUNTRY_CODES:
            if key.startswith(code) or code.startswith(key):
                found[code].add(key)
    return {code: frozenset(keys) for code, keys in found.items()}


@dataclass(frozen=True, slots=True)
class _Country:
    """What the zones of one country code's numbers can be, from libphonenumber's data."""

    code: str
    keys: frozenset[str]
    key_lengths: tuple[int, ...]  # longest first, as libphonenumber tries them
    # Every zone list a valid number of the code can get: each key's, the country level's,
    # none (Etc/Unknown) where a number can miss every key.
    possible: tuple[tuple[str, ...], ...]
    country_level: tuple[str, ...]  # a non-geographic number's zones
    # The national prefix parsing may strip (``1`` of +1, ``0`` of most codes). A number whose
    # national part starts with it may parse to another number than its digits say.
    national_prefix: re.Pattern[str] | None

    def key_of(self, digits: str) -> str:
        """The longest key the digits start with ("" for none), as libphonenumber finds it."""
        for length in self.key_lengths:
            if digits[:length] in self.keys:
                return digits[:length]
        return ""


@functools.cache
def _country(code: str) -> _Country:
    keys = _keys_by_code()[code]
    country_level = _country_level(code)
    possible = {TIMEZONE_DATA[key] for key in keys} | {country_level}
    if not any(code.startswith(key) for key in keys):
        possible.add(_UNKNOWN)
    metadata = phonenumbers.PhoneMetadata.metadata_for_region_or_calling_code(
        int(code), phonenumbers.region_code_for_country_code(int(code))
    )
    prefix = metadata.national_prefix_for_parsing if metadata is not None else None
    return _Country(
        code=code,
        keys=keys,
        key_lengths=tuple(sorted({len(key) for key in keys}, reverse=True)),
        possible=tuple(sorted(possible)),
        country_level=country_level,
        national_prefix=re.compile(prefix) if prefix else None,
    )


def _country_level(code: str) -> tuple[str, ...]:
    """libphonenumber's zones of a non-geographic number of the code (its own loop, as is)."""
    for prefix_length in range(TIMEZONE_LONGEST_PREFIX, 0, -1):
        prefix = code[: 1 + prefix_length]
        if prefix in TIMEZONE_DATA:
            return TIMEZONE_DATA[prefix]
    return _UNKNOWN


@dataclass(frozen=True, slots=True)
class _Prefix:
    """What the zones of the valid numbers under one key of the prefix table can be."""

    possible: tuple[tuple[str, ...], ...]
    # Whether a number under the key must be checked against the national prefix (False when
    # no number starting with the key's digits can start with it).
    prefix_check: bool


@functools.cache
def _prefix(code: str, key: str) -> _Prefix:
    country = _country(code)
    national = key[len(code) :]  # "" when no key (or a key shorter than the code) applies
    possible = {TIMEZONE_DATA[key] if key else _UNKNOWN}
    if _non_geographic_may_start_with(code, national):
        possible.add(country.country_level)
    pattern = country.national_prefix
    return _Prefix(
        possible=tuple(sorted(possible)),
        prefix_check=pattern is not None and _may_match_from_start(pattern, national),
    )


# libphonenumber's number types that are not geographic: their numbers get the zones of the
# whole country. A mobile is one too, except in the countries where mobiles have areas.
_NON_GEOGRAPHIC_KINDS: Final = (
    "premium_rate",
    "toll_free",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
)


def _non_geographic_may_start_with(code: str, national: str) -> bool:
    """Whether a valid non-geographic number of the code may start with these national
    digits; True whenever the patterns cannot rule it out."""
    country_code = int(code)
    mobile_geographic = phonenumbers.is_number_type_geographical(
        phonenumbers.PhoneNumberType.MOBILE, country_code
    )
    for region in phonenumbers.COUNTRY_CODE_TO_REGION_CODE[country_code]:
        metadata = phonenumbers.PhoneMetadata.metadata_for_region_or_calling_code(
            country_code, region
        )
        if metadata is None:
            return True
        descs = [getattr(metadata, kind) for kind in _NON_GEOGRAPHIC_KINDS]
        # A number is of type MOBILE only where mobile and fixed-line patterns differ.
        if not mobile_geographic and not metadata.same_mobile_and_fixed_line_pattern:
            descs.append(metadata.mobile)
        for desc in descs:
            if desc is None or not desc.national_number_pattern:
                continue  # libphonenumber matches nothing against no pattern
            lengths = desc.possible_length
            if lengths and max(lengths) < len(national):
                continue
            if _may_start_with(desc.national_number_pattern, national):
                return True
    return False


def _may_match_from_start(pattern: re.Pattern[str], national: str) -> bool:
    """Whether ``pattern.match`` may succeed on some string starting with ``national``."""
    tree = _parsed(pattern.pattern)
    if tree is None or _has_assertions(tree):
        return True
    return pattern.match(national) is not None or _may_start_with(pattern.pattern, national)


def _may_start_with(pattern: str, digits: str) -> bool:
    """Whether the pattern may match a string that starts with ``digits``: an
    over-approximation (lookarounds pass, unknown constructs may consume anything)."""
    tree = _parsed(pattern)
    return tree is None or len(digits) in _reach(tree, frozenset({0}), digits)


@functools.cache
def _parsed(pattern: str) -> Any:
    try:
        return list(_parser.parse(pattern))
    except re.error:
        return None


def _has_assertions(items: Any) -> bool:
    for op, arg in items:
        if op in (_c.ASSERT, _c.ASSERT_NOT, _c.AT):
            return True
        if op is _c.SUBPATTERN and _has_assertions(arg[-1]):
            return True
        if op is _c.BRANCH and any(_has_assertions(branch) for branch in arg[1]):
            return True
        if op in _REPEATS and _has_assertions(arg[2]):
            return True
    return False


_REPEATS: Final = (_c.MAX_REPEAT, _c.MIN_REPEAT, _c.POSSESSIVE_REPEAT)


def _reach(items: Any, positions: frozenset[int], digits: str) -> frozenset[int]:
    """The positions in ``digits`` a path through ``items`` can reach from ``positions``;
    ``len(digits)`` once reached stays (the path may go on past the digits)."""
    for op, arg in items:
        if not positions:
            break
        positions = _reach_one(op, arg, positions, digits)
    return positions


def _reach_one(op: Any, arg: Any, positions: frozenset[int], digits: str) -> frozenset[int]:
    end = len(digits)
    if op in (_c.LITERAL, _c.NOT_LITERAL, _c.IN, _c.ANY):
        accepts = _accepts(op, arg)
        stepped = {p + 1 for p in positions if p < end and accepts(digits[p])}
        return frozenset(stepped | (positions & {end}))
    if op in (_c.SUBPATTERN, _c.ATOMIC_GROUP):
        return _reach(arg[-1] if op is _c.SUBPATTERN else arg, positions, digits)
    if op is _c.BRANCH:
        return frozenset().union(*(_reach(branch, positions, digits) for branch in arg[1]))
    if op in _REPEATS:
        low, high, body = arg
        reached = positions if low == 0 else frozenset()
        current, count = positions, 0
        while current and count < high:
            current, count = _reach(body, current, digits), count + 1
            if count >= low:
                if current <= reached:
                    break
                reached |= current
        return reached
    if op in (_c.AT, _c.ASSERT, _c.ASSERT_NOT):
        return positions
    return frozenset(range(min(positions), end + 1))  # anything else may consume anything


def _accepts(op: Any, arg: Any) -> Callable[[str], bool]:
    if op is _c.LITERAL:
        return lambda char: ord(char) == arg
    if op is _c.NOT_LITERAL:
        return lambda char: ord(char) != arg
    if op is _c.ANY:
        return lambda char: True
    accepted: set[int] = set()
    negate = False
    for item, value in arg:
        if item is _c.LITERAL:
            accepted.add(value)
        elif item is _c.RANGE:
            accepted.update(range(value[0], value[1] + 1))
        elif item is _c.CATEGORY and value is _c.CATEGORY_DIGIT:
            accepted.update(range(ord("0"), ord("9") + 1))
        elif item is _c.NEGATE:
            negate = True
        else:
            return lambda char: True  # not read here: it may accept anything
    return lambda char: (ord(char) in accepted) != negate


# --- zones' open times ---------------------------------------------------------------------

# How often a zone's offset is sampled to find its changes (each then found to the second).
# No zone changes its offset twice within this time.
_SAMPLE: Final = 900
# The days of open intervals kept from the UTC day of an instant: enough for any answer
# within a week of it.
_SPAN_DAYS: Final = 9


@functools.lru_cache(maxsize=1024)
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"{name!r} is not a known IANA time zone") from exc


def _offset(zone: ZoneInfo, ts: int) -> int:
    offset = datetime.fromtimestamp(ts, zone).utcoffset()
    assert offset is not None  # a ZoneInfo always has one
    return int(offset.total_seconds())


@functools.lru_cache(maxsize=8192)
def _stretches(zone_name: str, day: int) -> tuple[tuple[int, int, int], ...]:
    """The UTC day's stretches of one offset: (from, to, offset), POSIX seconds."""
    zone = _zone(zone_name)
    start, end = day * _DAY, (day + 1) * _DAY
    found = []
    offset = _offset(zone, start)
    since = low = start
    while low < end:
        high = min(low + _SAMPLE, end)
        if _offset(zone, high) == offset:
            low = high
            continue
        while high - low > 1:  # the first second of the new offset
            middle = (low + high) // 2
            if _offset(zone, middle) == offset:
                low = middle
            else:
                high = middle
        if high < end:
            found.append((since, high, offset))
            since, offset = high, _offset(zone, high)
        low = high
    found.append((since, end, offset))
    return tuple(found)


@dataclass(frozen=True, slots=True)
class _OpenTimes:
    """A zone's open intervals ``[starts[i], ends[i])`` (POSIX seconds), sorted, apart."""

    starts: list[int]
    ends: list[int]
    minute_bounds: bool  # every bound a whole UTC minute: the state holds through each minute

    def open_at(self, ts: int) -> bool:
        i = bisect.bisect_right(self.starts, ts) - 1
        return i >= 0 and ts < self.ends[i]


@functools.lru_cache(maxsize=8192)
def _open_on(window: CallingWindow, zone: str, day: int) -> tuple[tuple[int, int], ...]:
    """The window's open intervals in the zone during one UTC day."""
    found = []
    length = (window.end - window.start) % _MINUTES_A_DAY * 60 or _DAY
    for since, until, offset in _stretches(zone, day):
        # Local days that may have a window overlapping this stretch (from the day before:
        # its window may cross midnight).
        for local_day in range((since + offset) // _DAY - 1, (until + offset - 1) // _DAY + 1):
            if (local_day + _EPOCH_WEEKDAY) % 7 not in window.days:
                continue
            opens = local_day * _DAY + window.start * 60 - offset
            low, high = max(opens, since), min(opens + length, until)
            if low < high:
                found.append((low, high))
    return tuple(sorted(found))


@functools.lru_cache(maxsize=4096)
def _open_times(window: CallingWindow, zone: str, day: int) -> _OpenTimes:
    """The window's open intervals in the zone from UTC ``day`` on, ``_SPAN_DAYS`` days."""
    starts: list[int] = []
    ends: list[int] = []
    for each in range(day, day + _SPAN_DAYS):
        for low, high in _open_on(window, zone, each):
            if ends and low <= ends[-1]:  # touching (a day's end, a change of offset): merge
                ends[-1] = max(ends[-1], high)
            else:
                starts.append(low)
                ends.append(high)
    bounds = all(ts % 60 == 0 for ts in starts + ends)
    return _OpenTimes(starts, ends, bounds)


def _first_open(times: Sequence[_OpenTimes], ts: int, limit: float) -> int | None:
    """The first second ``>= ts`` and ``<= limit`` at which every zone is open, or None."""
    while ts <= limit:
        for zone in times:
            i = bisect.bisect_right(zone.starts, ts) - 1
            if i >= 0 and ts < zone.ends[i]:
                continue
            if i + 1 == len(zone.starts):
                return None
            ts = zone.starts[i + 1]  # not every zone is open before this one opens again
            break
        else:
            return ts
    return None


def _timestamp(now: datetime) -> float:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"{now!r} has no time zone: an instant must be an aware datetime")
    return now.timestamp()


def _utc(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def next_open(window: CallingWindow, zones: Sequence[str], now: datetime) -> datetime | None:
    """The earliest instant ``>= now`` at which every zone is inside the window, in UTC:
    ``now`` itself when it is, else a whole second; None when none comes within 7 days.

    Exact across offset changes: a window opening in the hour skipped in spring opens when
    the clocks go forward; one opening in the hour repeated in autumn opens the first time."""
    if not zones:
        raise ValueError("next_open needs at least one zone")
    inside, opens = _inside_and_next(window, zones, _timestamp(now))
    if inside:
        return now.astimezone(UTC)
    return None if opens is None else _utc(opens)


def _inside_and_next(
    window: CallingWindow, zones: Sequence[str], ts: float
) -> tuple[bool, int | None]:
    """Whether every zone is inside at ``ts``; if not, the first second within a week at
    which every one is. Bounds are whole seconds: the state holds through each second."""
    day = math.floor(ts) // _DAY
    times = [_open_times(window, zone, day) for zone in zones]
    if all(zone.open_at(math.floor(ts)) for zone in times):
        return True, None
    return False, _first_open(times, math.ceil(ts), ts + _WEEK)


# --- the judge -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Judgement:
    """Whether a number may be called now, and if not, from when.

    ``zones`` are the zones judged: the number's own (``zones_of``) when it was looked up or
    its prefix tells them; where a shortcut answered for every number of its country or
    prefix, every zone such a number can have (all of which give this answer)."""

    inside: bool
    zones: tuple[str, ...]
    # When not inside: the earliest instant >= now (UTC, whole seconds) at which every zone
    # is inside. None when inside, or when none comes within 7 days.
    next_open: datetime | None


@dataclass(frozen=True, slots=True)
class _Answer:
    """A zone set's answer through one minute."""

    inside: bool
    # When outside: the first open second, if within a week of the minute's start. Bounds are
    # whole minutes here, so that is "within a week" of every instant of the minute.
    opens: int | None


class _Route:
    """A number's way to its answer when its first digits do not settle it this minute."""

    def judge(self, minute: _Minute, e164: str, ts: float) -> Judgement:
        raise NotImplementedError


class _LookUp(_Route):
    def judge(self, minute: _Minute, e164: str, ts: float) -> Judgement:
        known = minute.known
        found = known.looked_up.get(e164)
        if found is None:
            found = _zones_found(e164)
            if len(known.looked_up) >= _LOOKUPS_KEPT:
                known.looked_up.clear()
            known.looked_up[e164] = found
        return minute.exact(minute.resolve(found), ts)


_LOOK_UP: Final = _LookUp()


@dataclass(frozen=True, slots=True)
class _ByPrefix(_Route):
    country: _Country

    def judge(self, minute: _Minute, e164: str, ts: float) -> Judgement:
        key = self.country.key_of(e164[1:])
        route = key if key.startswith(self.country.code) else f"{self.country.code}|{key}"
        found = minute.prefixes.get(route)
        if found is None:
            found = minute.prefixes[route] = minute.by_prefix(self.country, key)
        return found if type(found) is Judgement else found.judge(minute, e164, ts)  # type: ignore[union-attr]


@dataclass(frozen=True, slots=True)
class _PrefixChecked(_Route):
    """The answer of a prefix, for numbers that do not start with the national prefix."""

    country: _Country
    answer: Judgement | _Route

    def judge(self, minute: _Minute, e164: str, ts: float) -> Judgement:
        pattern = self.country.national_prefix
        assert pattern is not None
        if pattern.match(e164[1 + len(self.country.code) :]):
            return _LOOK_UP.judge(minute, e164, ts)
        answer = self.answer
        return answer if type(answer) is Judgement else answer.judge(minute, e164, ts)  # type: ignore[union-attr]


# The numbers whose zones a judge keeps once looked up (a campaign judges its numbers again
# at each attempt); past this many it starts afresh.
_LOOKUPS_KEPT: Final = 100_000


class _Known:
    """What a judge keeps from minute to minute."""

    __slots__ = ("fallback", "looked_up", "resolved", "window")

    def __init__(self, window: CallingWindow, fallback: str) -> None:
        self.window = window
        self.fallback = fallback
        # Zone lists as libphonenumber gives them -> with the fallback put in, sorted.
        self.resolved: dict[tuple[str, ...], tuple[str, ...]] = {}
        self.looked_up: dict[str, tuple[str, ...]] = {}  # number -> libphonenumber's zones


class _Minute:
    """A judge's answers through one UTC minute (a new minute starts afresh: a thread
    holding the old one finishes with answers that were right for it)."""

    __slots__ = ("answers", "day", "heads", "known", "prefixes", "start", "verdicts", "window")

    def __init__(self, known: _Known, ts: float) -> None:
        self.known = known
        self.window = known.window
        self.start = math.floor(ts) // 60 * 60
        self.day = self.start // _DAY
        self.heads: dict[str, Judgement | _Route] = {}
        self.prefixes: dict[str, Judgement | _Route] = {}
        self.answers: dict[tuple[str, ...], _Answer | None] = {}
        self.verdicts: dict[tuple[str, ...], Judgement] = {}  # of numbers looked up

    def judge(self, e164: str, ts: float) -> Judgement:
        head = e164[:4]
        found = self.heads.get(head)
        if found is None:
            found = self.heads[head] = self.by_head(head)
        return found if type(found) is Judgement else found.judge(self, e164, ts)  # type: ignore[union-attr]

    def by_head(self, head: str) -> Judgement | _Route:
        digits = head[1:]
        if head[:1] != "+" or not (digits.isascii() and digits.isdigit()):
            return _LOOK_UP
        code = _code_of(digits)
        if code is None:
            return _LOOK_UP
        country = _country(code)
        return self.agreed(country.possible) or _ByPrefix(country)

    def by_prefix(self, country: _Country, key: str) -> Judgement | _Route:
        prefix = _prefix(country.code, key)
        answer = self.agreed(prefix.possible) or _LOOK_UP
        return _PrefixChecked(country, answer) if prefix.prefix_check else answer

    def agreed(self, possible: Iterable[tuple[str, ...]]) -> Judgement | None:
        """The answer every one of these zone lists gives this minute, or None."""
        sets = {self.resolve(zones) for zones in possible}
        answers = {self.answer(zones) for zones in sets}
        if len(answers) != 1 or None in answers:
            return None
        (answer,) = answers
        assert answer is not None
        union = tuple(sorted({zone for zones in sets for zone in zones}))
        return self.verdict(union, answer)

    def resolve(self, zones: tuple[str, ...]) -> tuple[str, ...]:
        found = self.known.resolved.get(zones)
        if found is None:
            found = self.known.resolved[zones] = _resolved(zones, self.known.fallback)
        return found

    def answer(self, zones: tuple[str, ...]) -> _Answer | None:
        """The zone set's answer through this minute; None if it may change within it."""
        try:
            return self.answers[zones]
        except KeyError:
            pass
        times = [_open_times(self.window, zone, self.day) for zone in zones]
        found: _Answer | None = None
        if all(zone.minute_bounds for zone in times):
            if all(zone.open_at(self.start) for zone in times):
                found = _Answer(True, None)
            else:
                found = _Answer(False, _first_open(times, self.start, self.start + _WEEK))
        self.answers[zones] = found
        return found

    def verdict(self, zones: tuple[str, ...], answer: _Answer) -> Judgement:
        if answer.inside:
            return Judgement(True, zones, None)
        return Judgement(False, zones, None if answer.opens is None else _utc(answer.opens))

    def exact(self, zones: tuple[str, ...], ts: float) -> Judgement:
        found = self.verdicts.get(zones)
        if found is not None:
            return found
        answer = self.answer(zones)
        if answer is None:  # a bound within the minute: judged at the second
            inside, opens = _inside_and_next(self.window, zones, ts)
            return Judgement(inside, zones, None if opens is None else _utc(opens))
        found = self.verdicts[zones] = self.verdict(zones, answer)
        return found


class WindowJudge:
    """Judges numbers against one calling window for one account (``fallback``: the zone of
    numbers libphonenumber knows none for). Keeps answers for the minute being judged; safe
    to share between threads. See the module's notes for what it takes and how it is fast."""

    __slots__ = ("_known", "_minute", "fallback", "window")

    def __init__(self, window: CallingWindow, fallback: str) -> None:
        _zone(fallback)  # ValueError now rather than at the first number
        self.window = window
        self.fallback = fallback
        self._known = _Known(window, fallback)
        self._minute = _Minute(self._known, 0.0)

    def _minute_of(self, now: datetime) -> tuple[_Minute, float]:
        ts = _timestamp(now)
        minute = self._minute
        if not minute.start <= ts < minute.start + 60:
            minute = self._minute = _Minute(self._known, ts)
        return minute, ts

    def judge(self, e164: str, now: datetime) -> Judgement:
        """The judgement of one E.164 number at ``now`` (an aware datetime)."""
        minute, ts = self._minute_of(now)
        return minute.judge(e164, ts)

    def judge_many(self, numbers: Sequence[str | None], now: datetime) -> list[Judgement | None]:
        """``judge`` of each number at one instant, in order; None for None (a number that
        did not normalise). Numbers with the same answer share one Judgement object."""
        minute, ts = self._minute_of(now)
        heads = minute.heads
        found: list[Judgement | None] = []
        add = found.append
        for number in numbers:
            if number is None:
                add(None)
                continue
            answer = heads.get(number[:4])
            if answer is None:
                answer = heads[number[:4]] = minute.by_head(number[:4])
            add(answer if type(answer) is Judgement else answer.judge(minute, number, ts))  # type: ignore[union-attr]
        return found


# 10**0 .. 10**18: a positive int64's digit count is where it falls among them.
_POWERS: Final = np.array([10**n for n in range(19)], dtype=np.int64)


@dataclass(frozen=True, slots=True)
class Outside:
    """The numbers of a batch found outside the window with one same judgement."""

    judgement: Judgement
    positions: np.ndarray[Any, np.dtype[np.intp]]


def judge_keys(
    judge: WindowJudge,
    numbers: Sequence[str | None],
    keys: np.ndarray[Any, np.dtype[np.int64]],
    wanted: np.ndarray[Any, np.dtype[np.bool_]],
    now: datetime,
) -> list[Outside]:
    """``judge.judge_many`` of a batch in columns: the numbers at the ``wanted`` positions
    (``keys``: their E.164 digits as integers), grouped by their judgement, of those outside
    the window only. A number's first three digits decide it for most of the world
    (``_Minute.by_head``), so the batch is judged once per distinct three digits with array
    operations, and one by one only where they do not decide."""
    minute, ts = judge._minute_of(now)
    positions = np.flatnonzero(wanted)
    if not len(positions):
        return []
    chosen = keys[positions]
    digits = np.searchsorted(_POWERS, chosen, side="right")
    heads, inverse = np.unique(chosen // _POWERS[np.maximum(digits - 3, 0)], return_inverse=True)
    # The positions of each head, together: sorted by head once, not searched per head.
    order = positions[np.argsort(inverse, kind="stable")]
    ends = np.cumsum(np.bincount(inverse, minlength=len(heads)))
    starts = np.concatenate([[0], ends[:-1]])
    outside: dict[int, tuple[Judgement, list[np.ndarray[Any, np.dtype[np.intp]]]]] = {}
    for at, head in enumerate(heads.tolist()):
        of_head = order[starts[at] : ends[at]]
        text = f"+{head}"
        answer = minute.heads.get(text)
        if answer is None:
            answer = minute.heads[text] = minute.by_head(text)
        if type(answer) is Judgement:
            if not answer.inside:
                found = outside.setdefault(id(answer), (answer, []))
                found[1].append(of_head)
            continue
        for position in of_head.tolist():
            number = numbers[position]
            assert number is not None  # wanted positions hold numbers
            judged = answer.judge(minute, number, ts)  # type: ignore[union-attr]
            if not judged.inside:
                found = outside.setdefault(id(judged), (judged, []))
                found[1].append(np.array([position], dtype=np.intp))
    return [Outside(j, np.concatenate(parts)) for j, parts in outside.values()]


def window_from_wire(raw: object) -> CallingWindow:
    """A window as this service stored it (``CallingWindow.to_wire``): trusted, so a window
    that does not read back is a bug, raised as ValueError."""
    problems: list[FieldProblem] = []
    window = clean_window(raw, problems)
    if window is None:
        raise ValueError(f"a stored calling window does not read back: {raw!r}")
    return window
