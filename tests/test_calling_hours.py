"""Calling windows: parsing and wire form, local-time judgement across daylight-saving
changes, numbers with several zones or none, next_open against a minute-by-minute scan, and
the fast judge against the slow exact reading of the rules."""

from __future__ import annotations

import functools
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from phonenumbers.tzdata import TIMEZONE_DATA

from callblock import calling_hours
from callblock.calling_hours import (
    DAY_NAMES,
    CallingWindow,
    Judgement,
    WindowJudge,
    clean_window,
    days_from_text,
    judge_keys,
    next_open,
    window_from_text,
    zones_of,
)
from callblock.domain import FieldProblem, ProblemCode

NEW_YORK = "+12015550123"  # America/New_York
LOS_ANGELES = "+14155552671"  # America/Los_Angeles
LONDON = "+442079460958"  # Europe/London
UK_MOBILE = "+447400123456"  # London, Jersey, Guernsey, Isle of Man
AUSTRALIAN_MOBILE = "+61412345678"  # eight zones, Cocos (+06:30) to Lord Howe (+11:00)
FREEPHONE = "+80012345678"  # international freephone: no zone at all
INDIA = "+919876543210"

EVERY_DAY_9_TO_21 = CallingWindow(frozenset(range(7)), 9 * 60, 21 * 60)
MON_SAT_9_TO_21 = CallingWindow(frozenset(range(6)), 9 * 60, 21 * 60)
FRIDAY_21_TO_02 = CallingWindow(frozenset({4}), 21 * 60, 2 * 60)


def at(*fields: int) -> datetime:
    return datetime(*fields, tzinfo=UTC)  # type: ignore[misc]


def local(zone: str, *fields: int) -> datetime:
    return datetime(*fields, tzinfo=ZoneInfo(zone))  # type: ignore[misc]


# --- the window and its forms ---------------------------------------------------------------


def test_a_same_day_window_is_open_from_start_to_just_before_end() -> None:
    zone = "Europe/London"
    assert not MON_SAT_9_TO_21.open_at(local(zone, 2026, 1, 12, 8, 59))  # a Monday
    assert MON_SAT_9_TO_21.open_at(local(zone, 2026, 1, 12, 9, 0))
    assert MON_SAT_9_TO_21.open_at(local(zone, 2026, 1, 12, 20, 59, 59))
    assert not MON_SAT_9_TO_21.open_at(local(zone, 2026, 1, 12, 21, 0))
    assert not MON_SAT_9_TO_21.open_at(local(zone, 2026, 1, 18, 12, 0))  # a Sunday


def test_a_window_crossing_midnight_belongs_to_the_day_it_starts_on() -> None:
    zone = "Europe/London"
    # 2026-01-09 is a Friday.
    assert FRIDAY_21_TO_02.open_at(local(zone, 2026, 1, 9, 21, 30))
    assert FRIDAY_21_TO_02.open_at(local(zone, 2026, 1, 10, 1, 30))  # Saturday, Friday's window
    assert FRIDAY_21_TO_02.open_at(local(zone, 2026, 1, 10, 1, 59))
    assert not FRIDAY_21_TO_02.open_at(local(zone, 2026, 1, 10, 2, 0))
    assert not FRIDAY_21_TO_02.open_at(local(zone, 2026, 1, 10, 21, 30))  # Saturday not in days
    assert not FRIDAY_21_TO_02.open_at(local(zone, 2026, 1, 9, 20, 59))
    assert not FRIDAY_21_TO_02.open_at(local(zone, 2026, 1, 9, 1, 30))  # Thursday's: not in days


def test_a_number_is_judged_by_a_window_crossing_midnight() -> None:
    judge = WindowJudge(FRIDAY_21_TO_02, "Asia/Kolkata")  # London is on UTC in January
    saturday_early = judge.judge(LONDON, at(2026, 1, 10, 1, 30))
    assert (saturday_early.inside, saturday_early.next_open) == (True, None)
    saturday_late = judge.judge(LONDON, at(2026, 1, 10, 21, 30))
    assert (saturday_late.inside, saturday_late.next_open) == (False, at(2026, 1, 16, 21, 0))
    friday_and_saturday = CallingWindow(frozenset({4, 5}), 21 * 60, 2 * 60)
    sunday_early = at(2026, 1, 11, 1, 30)  # Saturday's window
    assert WindowJudge(friday_and_saturday, "UTC").judge(LONDON, sunday_early).inside


@pytest.mark.parametrize(
    ("raw", "problems"),
    [
        ("mon-sat 9-21", [("calling_window", "is an object")]),
        (
            {},
            [
                ("calling_window.days", "required"),
                ("calling_window.start", "required"),
                ("calling_window.end", "required"),
            ],
        ),
        (
            {"days": [], "start": "09:00", "end": "21:00"},
            [("calling_window.days", "at least one")],
        ),
        (
            {"days": "mon", "start": "09:00", "end": "21:00"},
            [("calling_window.days", "a list of days")],
        ),
        (
            {"days": ["mon", "funday", 3], "start": "09:00", "end": "21:00"},
            [
                ("calling_window.days.1", "not a day: use mon, tue"),
                ("calling_window.days.2", "not a day: use mon, tue"),
            ],
        ),
        (
            {"days": ["mon", "MON"], "start": "09:00", "end": "21:00"},
            [("calling_window.days.1", "listed twice")],
        ),
        (
            {"days": ["mon"], "start": "9:00", "end": "21:00"},
            [("calling_window.start", "HH:MM, from 00:00 to 23:59")],
        ),
        (
            {"days": ["mon"], "start": "24:00", "end": "21:00"},
            [("calling_window.start", "HH:MM, from 00:00 to 23:59")],
        ),
        (
            {"days": ["mon"], "start": "12:60", "end": "21:00"},
            [("calling_window.start", "HH:MM, from 00:00 to 23:59")],
        ),
        (
            {"days": ["mon"], "start": 540, "end": "21:00"},
            [("calling_window.start", "HH:MM, from 00:00 to 23:59")],
        ),
        (
            {"days": ["mon"], "start": "09:00", "end": "24:01"},
            [("calling_window.end", "HH:MM, from 00:00 to 24:00")],
        ),
        (
            {"days": ["mon"], "start": "09:00", "end": " 21:00"},
            [("calling_window.end", "HH:MM, from 00:00 to 24:00")],
        ),
        (
            {"days": ["mon"], "start": "09:00", "end": "09:00"},
            [("calling_window.end", "end is its start")],
        ),
        (
            {"days": ["mon"], "start": "00:00", "end": "00:00"},
            [("calling_window.end", "end is its start")],
        ),
        (
            {"days": ["mon"], "start": "09:00", "end": "21:00", "zone": "UTC"},
            [("calling_window.zone", "days, start and end only")],
        ),
        (
            {"days": ["someday"], "start": "9", "end": "21:00", "x": 1},
            [
                ("calling_window.x", "not a field"),
                ("calling_window.days.0", "not a day"),
                ("calling_window.start", "HH:MM"),
            ],
        ),
    ],
)
def test_clean_window_records_a_problem_for_every_invalid_part(
    raw: object, problems: list[tuple[str, str]]
) -> None:
    found: list[FieldProblem] = []
    assert clean_window(raw, found) is None
    assert [p.field for p in found] == [field for field, _ in problems]
    for problem, (_, detail) in zip(found, problems, strict=True):
        assert problem.code is ProblemCode.INVALID
        assert detail in problem.detail


def test_clean_window_names_fields_under_the_field_it_is_given() -> None:
    found: list[FieldProblem] = []
    assert clean_window({"days": ["mon"], "start": "x", "end": "21:00"}, found, "window") is None
    assert [(p.field, p.value) for p in found] == [("window.start", "x")]


@pytest.mark.parametrize(
    ("raw", "window"),
    [
        (
            {"days": ["mon", "tue"], "start": "09:00", "end": "21:00"},
            CallingWindow(frozenset({0, 1}), 540, 1260),
        ),
        (
            {"days": ["SAT", "Sun"], "start": "21:00", "end": "02:00"},
            CallingWindow(frozenset({5, 6}), 1260, 120),
        ),
        (
            {"days": ["fri"], "start": "18:00", "end": "24:00"},
            CallingWindow(frozenset({4}), 1080, 1440),
        ),
        (
            {"days": ["fri"], "start": "18:00", "end": "00:00"},
            CallingWindow(frozenset({4}), 1080, 1440),
        ),
        (
            {"days": list(DAY_NAMES), "start": "00:00", "end": "24:00"},
            CallingWindow(frozenset(range(7)), 0, 1440),
        ),
    ],
)
def test_clean_window_reads_a_valid_window(raw: dict[str, object], window: CallingWindow) -> None:
    found: list[FieldProblem] = []
    assert clean_window(raw, found) == window
    assert found == []


# Every window: an end from the start and a length (crossing midnight when it wraps), with
# starts in the hours skipped by the daylight-saving changes of the zones used below, often;
# and whole days.
window_days = st.frozensets(st.integers(0, 6), min_size=1)
windows = st.one_of(
    st.builds(
        lambda days, start, length: CallingWindow(days, start, (start + length - 1) % 1440 + 1),
        window_days,
        st.one_of(st.integers(0, 1439), st.sampled_from([60, 90, 120, 150, 165, 179, 180, 225])),
        st.integers(1, 1439),
    ),
    st.builds(lambda days: CallingWindow(days, 0, 1440), window_days),
)


@given(windows)
@settings(max_examples=200)
def test_a_window_round_trips_through_its_wire_form(window: CallingWindow) -> None:
    found: list[FieldProblem] = []
    wire = window.to_wire()
    assert clean_window(wire, found) == window
    assert found == []
    assert list(wire) == ["days", "start", "end"]
    assert wire["days"] == [name for i, name in enumerate(DAY_NAMES) if i in window.days]


@pytest.mark.parametrize(
    ("window", "text"),
    [
        (MON_SAT_9_TO_21, "Mon-Sat 09:00-21:00"),
        (EVERY_DAY_9_TO_21, "every day 09:00-21:00"),
        (FRIDAY_21_TO_02, "Fri 21:00-02:00"),
        (CallingWindow(frozenset({5, 6, 0}), 600, 1440), "Sat-Mon 10:00-24:00"),
        (CallingWindow(frozenset({0, 2, 4}), 600, 720), "Mon, Wed, Fri 10:00-12:00"),
        (CallingWindow(frozenset({0, 1, 2, 4}), 0, 30), "Mon-Wed, Fri 00:00-00:30"),
    ],
)
def test_describe_collapses_consecutive_days(window: CallingWindow, text: str) -> None:
    assert window.describe() == text


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("mon-sat", {0, 1, 2, 3, 4, 5}),
        ("MON,wed, fri", {0, 2, 4}),
        ("sat-mon", {5, 6, 0}),
        ("mon-wed,fri", {0, 1, 2, 4}),
        (" tue ", {1}),
        ("sun-sun", {6}),
        ("all", set(range(7))),
        ("Every", set(range(7))),
    ],
)
def test_days_from_text_reads_lists_ranges_and_all(text: str, days: set[int]) -> None:
    assert days_from_text(text) == frozenset(days)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "'' in '' is not a day"),
        ("funday", "'funday' in 'funday' is not a day"),
        ("mon-", "is not a day"),
        ("mon-wed-fri", "is not a day or a range"),
        ("mon,mon", "mon is given twice"),
        ("mon-fri,wed", "wed is given twice"),
        ("every day", "is not a day"),
        ("monday", "is not a day"),
    ],
)
def test_days_from_text_refuses_anything_else_saying_what_is_accepted(
    text: str, message: str
) -> None:
    with pytest.raises(ValueError, match="days are mon, tue") as refused:
        days_from_text(text)
    assert message in str(refused.value)


def test_window_from_text_reads_days_and_hours() -> None:
    assert window_from_text("mon-sat", "09:00-21:00") == MON_SAT_9_TO_21
    assert window_from_text("fri", " 21:00 - 02:00 ") == FRIDAY_21_TO_02
    assert window_from_text("all", "00:00-24:00") == CallingWindow(frozenset(range(7)), 0, 1440)


@pytest.mark.parametrize(
    ("days", "hours", "message"),
    [
        ("mon", "9-17", "start '9' in '9-17' is not a time of day as HH:MM"),
        ("mon", "09:00", "not a range HH:MM-HH:MM"),
        ("mon", "09:00-10:00-11:00", "not a range HH:MM-HH:MM"),
        ("mon", "09:00-09:00", "the window's end is its start"),
        ("mon", "24:00-10:00", "start '24:00'"),
        (
            "mon",
            "09:00-24:30",
            "end '24:30' in '09:00-24:30' is not a time of day as HH:MM, from 00:00 to 24:00",
        ),
        ("someday", "09:00-10:00", "'someday' in 'someday' is not a day"),
    ],
)
def test_window_from_text_refuses_anything_else_saying_what_is_accepted(
    days: str, hours: str, message: str
) -> None:
    with pytest.raises(ValueError, match=r".") as refused:
        window_from_text(days, hours)
    assert message in str(refused.value)


@pytest.mark.parametrize(
    ("days", "start", "end"),
    [
        (frozenset(), 0, 60),
        (frozenset({7}), 0, 60),
        (frozenset({0}), 60, 60),
        (frozenset({0}), 1440, 60),
        (frozenset({0}), 0, 0),
    ],
)
def test_a_window_refuses_impossible_parts(days: frozenset[int], start: int, end: int) -> None:
    with pytest.raises(ValueError, match=r"day|start|end"):
        CallingWindow(days, start, end)


# --- daylight saving -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "zone", "before", "after"),
    [
        # The same UTC time of day the day before and the day of each 2026 change.
        (NEW_YORK, "America/New_York", at(2026, 3, 7, 13, 30), at(2026, 3, 8, 13, 30)),
        (LOS_ANGELES, "America/Los_Angeles", at(2026, 3, 7, 16, 30), at(2026, 3, 8, 16, 30)),
        (NEW_YORK, "America/New_York", at(2026, 10, 31, 13, 30), at(2026, 11, 1, 13, 30)),
        (LOS_ANGELES, "America/Los_Angeles", at(2026, 10, 31, 16, 30), at(2026, 11, 1, 16, 30)),
        (LONDON, "Europe/London", at(2026, 3, 28, 8, 30), at(2026, 3, 29, 8, 30)),
        (LONDON, "Europe/London", at(2026, 10, 24, 8, 30), at(2026, 10, 25, 8, 30)),
    ],
)
def test_the_same_utc_time_is_inside_on_one_side_of_a_change_and_outside_on_the_other(
    number: str, zone: str, before: datetime, after: datetime
) -> None:
    assert zones_of(number, "Asia/Kolkata") == (zone,)
    judge = WindowJudge(EVERY_DAY_9_TO_21, "Asia/Kolkata")
    first, second = judge.judge(number, before), judge.judge(number, after)
    assert zone in first.zones
    assert zone in second.zones
    assert first.inside != second.inside
    # The side that is outside sees 08:30 local: it opens half an hour later.
    closed, when = (first, before) if not first.inside else (second, after)
    assert closed.next_open == when + timedelta(minutes=30)
    assert judge.judge_many([number, None], before) == [first, None]
    assert judge.judge_many([number], after) == [second]


def test_a_window_opening_in_the_skipped_hour_opens_when_the_clocks_go_forward() -> None:
    zones = ["America/New_York"]
    sunday_0230 = CallingWindow(frozenset({6}), 150, 240)  # 02:30-04:00, 02:30 skipped on 8 March
    assert next_open(sunday_0230, zones, at(2026, 3, 8, 5)) == at(2026, 3, 8, 7)  # 03:00 EDT
    skipped_entirely = CallingWindow(frozenset({6}), 150, 165)  # 02:30-02:45: not on 8 March
    before_the_gap = at(2026, 3, 8, 6, 45)  # 01:45 EST
    assert next_open(skipped_entirely, zones, before_the_gap) == at(2026, 3, 15, 6, 30)


def test_a_window_in_the_repeated_hour_opens_the_first_time_and_again_the_second() -> None:
    zones = ["America/New_York"]
    sunday_0100 = CallingWindow(frozenset({6}), 60, 90)  # 01:00-01:30, twice on 1 November
    assert next_open(sunday_0100, zones, at(2026, 11, 1, 4)) == at(2026, 11, 1, 5)  # EDT
    assert next_open(sunday_0100, zones, at(2026, 11, 1, 5, 45)) == at(2026, 11, 1, 6)  # EST
    repeated_only = CallingWindow(frozenset({6}), 0, 90)  # 00:00-01:30: closes, then 01:00 again
    assert next_open(repeated_only, zones, at(2026, 11, 1, 5, 30, 0, 1)) == at(2026, 11, 1, 6)


def test_a_whole_day_window_is_open_through_each_of_its_days() -> None:
    weekend = CallingWindow(frozenset({5, 6}), 0, 1440)
    zones = ["Europe/London"]
    assert next_open(weekend, zones, at(2026, 1, 9, 12)) == at(2026, 1, 10, 0)  # Friday noon
    assert next_open(weekend, zones, at(2026, 1, 11, 23, 59, 59)) == at(2026, 1, 11, 23, 59, 59)
    assert next_open(weekend, zones, at(2026, 1, 12, 0)) == at(2026, 1, 17, 0)


def test_next_open_is_now_itself_when_open_and_none_when_never_within_a_week() -> None:
    now = at(2026, 1, 12, 12, 0, 0, 250_000)
    assert next_open(EVERY_DAY_9_TO_21, ["Europe/London"], now) == now
    nine_to_ten = CallingWindow(frozenset(range(7)), 540, 600)
    assert next_open(nine_to_ten, ["Pacific/Honolulu", "Asia/Tokyo"], now) is None  # never both


def test_an_instant_without_a_time_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="aware datetime"):
        WindowJudge(EVERY_DAY_9_TO_21, "UTC").judge(LONDON, datetime(2026, 1, 12, 12))
    with pytest.raises(ValueError, match="aware datetime"):
        next_open(EVERY_DAY_9_TO_21, ["UTC"], datetime(2026, 1, 12, 12))


def test_an_unknown_fallback_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="not a known IANA time zone"):
        WindowJudge(EVERY_DAY_9_TO_21, "Mars/Olympus_Mons")


# --- several zones, none ----------------------------------------------------------------------


def test_a_number_with_several_zones_is_inside_only_when_every_zone_is() -> None:
    zones = zones_of(AUSTRALIAN_MOBILE, "UTC")
    assert len(zones) == 8
    judge = WindowJudge(EVERY_DAY_9_TO_21, "UTC")
    # In January Cocos (+06:30) opens last, at 02:30 UTC; Sydney and Lord Howe (+11) close
    # first, at 10:00 UTC.
    some_open = at(2026, 1, 12, 1, 0)
    states = {EVERY_DAY_9_TO_21.open_at(some_open.astimezone(ZoneInfo(z))) for z in zones}
    assert states == {True, False}
    assert judge.judge(AUSTRALIAN_MOBILE, some_open) == Judgement(
        False, zones, at(2026, 1, 12, 2, 30)
    )
    all_open = at(2026, 1, 12, 3, 0)
    assert all(EVERY_DAY_9_TO_21.open_at(all_open.astimezone(ZoneInfo(z))) for z in zones)
    assert judge.judge(AUSTRALIAN_MOBILE, all_open).inside
    assert not judge.judge(AUSTRALIAN_MOBILE, at(2026, 1, 12, 10, 0)).inside


def test_a_uk_mobile_is_judged_in_london_and_the_crown_dependencies() -> None:
    zones = ("Europe/Guernsey", "Europe/Isle_of_Man", "Europe/Jersey", "Europe/London")
    assert zones_of(UK_MOBILE, "UTC") == zones
    judge = WindowJudge(EVERY_DAY_9_TO_21, "UTC")
    for hour in range(24):
        now = at(2026, 3, 29, hour, 30)
        mobile, fixed = judge.judge(UK_MOBILE, now), judge.judge(LONDON, now)
        assert mobile.zones == zones
        assert (mobile.inside, mobile.next_open) == (fixed.inside, fixed.next_open)


def test_a_number_without_zone_data_is_judged_in_the_fallback_zone() -> None:
    assert zones_of(FREEPHONE, "Asia/Tokyo") == ("Asia/Tokyo",)
    now = at(2026, 1, 12, 1, 0)  # 10:00 in Tokyo, 01:00 in London
    tokyo = WindowJudge(EVERY_DAY_9_TO_21, "Asia/Tokyo").judge(FREEPHONE, now)
    london = WindowJudge(EVERY_DAY_9_TO_21, "Europe/London").judge(FREEPHONE, now)
    assert tokyo == Judgement(True, ("Asia/Tokyo",), None)
    assert london == Judgement(False, ("Europe/London",), at(2026, 1, 12, 9, 0))


def test_a_string_that_is_no_number_is_judged_in_the_fallback_zone_when_looked_up() -> None:
    assert zones_of("+999123", "Asia/Tokyo") == ("Asia/Tokyo",)  # no such country code
    assert zones_of("not a number", "Asia/Tokyo") == ("Asia/Tokyo",)
    judge = WindowJudge(EVERY_DAY_9_TO_21, "Asia/Tokyo")
    assert judge.judge("+999123", at(2026, 1, 12, 1, 0)) == Judgement(True, ("Asia/Tokyo",), None)
    assert judge.judge("", at(2026, 1, 12, 1, 0)).zones == ("Asia/Tokyo",)


def test_an_invalid_number_may_be_judged_in_its_countrys_zones_where_they_agree() -> None:
    # The documented limit: the judge takes valid numbers; one that is not (an Ofcom drama
    # number) gets no zone from libphonenumber, but the UK's zones all agree.
    drama = "+447700900123"
    assert zones_of(drama, "Asia/Tokyo") == ("Asia/Tokyo",)
    found = WindowJudge(EVERY_DAY_9_TO_21, "Asia/Tokyo").judge(drama, at(2026, 1, 12, 1, 0))
    assert found.inside is False
    assert "Europe/London" in found.zones


def test_a_number_written_with_its_national_prefix_is_judged_as_libphonenumber_reads_it() -> None:
    # "+1 1 201...": libphonenumber drops the second 1 and finds New York; the digits alone
    # would say +1 only (every zone of the NANP).
    written = "+112015550123"
    assert zones_of(written, "UTC") == ("America/New_York",)
    judge = WindowJudge(MON_SAT_9_TO_21, "UTC")
    for hour in range(24):
        now = at(2026, 3, 10, hour, 30)
        assert judge.judge(written, now) == judge.judge(NEW_YORK, now)


def test_single_zone_countries_and_us_area_codes_are_judged_without_a_lookup(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(e164: str) -> tuple[str, ...]:
        raise AssertionError(f"{e164} was looked up")

    monkeypatch.setattr(calling_hours, "_zones_found", refuse)
    judge = WindowJudge(MON_SAT_9_TO_21, "America/Chicago")
    numbers = [INDIA, "+4930123456", NEW_YORK, LOS_ANGELES, LONDON, "+33123456789"]
    for minutes in range(0, 7 * 24 * 60, 17):  # a week, at edges of every zone
        now = at(2026, 3, 9) + timedelta(minutes=minutes, seconds=13)
        for judgement in judge.judge_many(numbers, now):
            assert judgement is not None


# --- next_open against a scan ----------------------------------------------------------------

ZONES = [
    "America/New_York",
    "America/Los_Angeles",
    "Europe/London",
    "Australia/Lord_Howe",  # half-hour changes
    "Pacific/Chatham",  # +12:45/+13:45
    "America/St_Johns",  # -03:30/-02:30
    "Asia/Kolkata",
]
# Near each 2026 change of those zones.
CHANGES = [
    at(2026, 3, 8, 7),
    at(2026, 3, 8, 10),
    at(2026, 11, 1, 6),
    at(2026, 3, 29, 1),
    at(2026, 10, 25, 1),
    at(2026, 4, 4, 15),
    at(2026, 10, 3, 15, 30),
    at(2026, 4, 4, 14),
    at(2026, 9, 26, 14),
]


def scanned_next_open(window: CallingWindow, zones: list[str], now: datetime) -> datetime | None:
    """The first instant >= now at which every zone is open, found minute by minute (these
    zones change state only on whole UTC minutes)."""
    infos = [ZoneInfo(zone) for zone in zones]

    def is_open(instant: datetime) -> bool:
        return all(window.open_at(instant.astimezone(info)) for info in infos)

    if is_open(now):
        return now
    minute = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
    while minute <= now + timedelta(days=7):
        if is_open(minute):
            return minute
        minute += timedelta(minutes=1)
    return None


@given(
    windows,
    st.lists(st.sampled_from(ZONES), min_size=1, max_size=3, unique=True),
    st.sampled_from(CHANGES),
    st.integers(-3 * 86_400, 3 * 86_400),
    st.sampled_from([0, 0, 250_000]),
)
@settings(max_examples=60, deadline=None)
def test_next_open_is_the_first_open_minute_a_scan_finds(
    window: CallingWindow, zones: list[str], change: datetime, seconds: int, micro: int
) -> None:
    now = change + timedelta(seconds=seconds, microseconds=micro)
    assert next_open(window, zones, now) == scanned_next_open(window, zones, now)


# --- the judge against the exact reading ------------------------------------------------------

KINDS = [
    phonenumbers.PhoneNumberType.FIXED_LINE,
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.TOLL_FREE,
    phonenumbers.PhoneNumberType.PREMIUM_RATE,
    phonenumbers.PhoneNumberType.SHARED_COST,
    phonenumbers.PhoneNumberType.VOIP,
    phonenumbers.PhoneNumberType.PERSONAL_NUMBER,
    phonenumbers.PhoneNumberType.PAGER,
    phonenumbers.PhoneNumberType.UAN,
    phonenumbers.PhoneNumberType.VOICEMAIL,
]


def _e164(number: phonenumbers.PhoneNumber) -> str:
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _valid(e164: str) -> bool:
    try:
        number = phonenumbers.parse(e164)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_valid_number(number) and _e164(number) == e164


@functools.cache
def sample_numbers() -> tuple[str, ...]:
    """Valid numbers of every region and type, near them, and under every key of
    libphonenumber's time zone table."""
    rng = random.Random(20260308)
    examples = set()
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in KINDS:
            example = phonenumbers.example_number_for_type(region, kind)
            if example is not None:
                examples.add(_e164(example))
    for code in sorted(phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS):
        example = phonenumbers.example_number_for_non_geo_entity(code)
        if example is not None:
            examples.add(_e164(example))
    found = set(examples)
    for e164 in sorted(examples):
        for delta in (1, 37, 1_000, 77_777):
            found.add(f"+{int(e164[1:]) + delta}")
    for key in sorted(TIMEZONE_DATA):
        for _ in range(6):
            length = rng.choice((10, 11, 12)) - len(key) + len(key) // 4
            found.add(f"+{key}{rng.randrange(10 ** max(length - 1, 0), 10**length)}")
    return tuple(sorted(e164 for e164 in found if _valid(e164)))


# Where the zones of a country (and of a number) disagree: the day through, on a day the US is
# on summer time and Europe not, and on both sides of the US changes. (Few days: each costs
# every zone's offsets once.)
@functools.cache
def sample_zones(fallback: str) -> dict[str, tuple[str, ...]]:
    # In order: libphonenumber compiles its patterns again when it goes from country to
    # country more often than re's cache holds.
    return {e164: zones_of(e164, fallback) for e164 in sample_numbers()}


INSTANTS = [
    *(at(2026, 3, 10, hour, 30, 7) for hour in range(0, 24, 2)),
    at(2026, 3, 10, 13, 0, 0),  # 09:00 in New York: its numbers open, Chicago's not yet
    at(2026, 3, 10, 14, 59, 59),
    at(2026, 3, 8, 6, 59, 59),
    at(2026, 3, 8, 7, 0, 0),
    at(2026, 11, 1, 5, 59, 59),
    at(2026, 11, 1, 6, 0, 0, 500_000),
]


class Reference:
    """The rules read slowly: zones_of, open_at in each zone, next_open."""

    def __init__(self, window: CallingWindow, fallback: str) -> None:
        self.window, self.fallback = window, fallback

    def zones(self, e164: str) -> tuple[str, ...]:
        return sample_zones(self.fallback)[e164]

    @functools.cache  # noqa: B019 (one per test)
    def judge_zones(self, zones: tuple[str, ...], now: datetime) -> tuple[bool, datetime | None]:
        inside = all(self.window.open_at(now.astimezone(ZoneInfo(z))) for z in zones)
        return inside, None if inside else next_open(self.window, zones, now)

    def judge(self, e164: str, now: datetime) -> tuple[bool, datetime | None]:
        return self.judge_zones(self.zones(e164), now)


def cases() -> Iterator[tuple[CallingWindow, str]]:
    for window in (MON_SAT_9_TO_21, CallingWindow(frozenset({4, 5, 6}), 21 * 60, 2 * 60)):
        for fallback in ("Asia/Kolkata", "America/New_York"):
            yield window, fallback


@pytest.mark.parametrize(("window", "fallback"), list(cases()))
def test_judge_and_judge_many_agree_with_the_exact_reading_for_every_kind_of_number(
    window: CallingWindow, fallback: str
) -> None:
    numbers: list[str | None] = [*sample_numbers(), None]
    assert len(numbers) > 5_000
    random.Random(7).shuffle(numbers)
    reference = Reference(window, fallback)
    judge = WindowJudge(window, fallback)
    for now in INSTANTS:
        for e164, many in zip(numbers, judge.judge_many(numbers, now), strict=True):
            if e164 is None:
                assert many is None
                continue
            one = judge.judge(e164, now)
            assert (one.inside, one.next_open) == reference.judge(e164, now), (e164, now)
            assert set(reference.zones(e164)) <= set(one.zones), (e164, now)
            assert many == one, (e164, now)


def test_the_sample_makes_the_shortcuts_and_the_lookups_both_answer() -> None:
    # The agreement above means something only if the sample reaches every route: numbers
    # settled by their country, by their prefix, and looked up.
    judge = WindowJudge(MON_SAT_9_TO_21, "Asia/Kolkata")
    judge.judge_many(list(sample_numbers()), at(2026, 3, 10, 13, 30, 7))
    minute = judge._minute
    routes = {type(found).__name__ for found in [*minute.heads.values(), *minute.prefixes.values()]}
    assert {"Judgement", "_ByPrefix", "_LookUp"} <= routes
    assert minute.verdicts  # numbers were looked up


@pytest.mark.parametrize(("window", "fallback"), list(cases()))
def test_judge_keys_finds_outside_exactly_the_numbers_judge_many_does(
    window: CallingWindow, fallback: str
) -> None:
    """The batch's columnar judge (by first three digits, with array operations) and
    judge_many agree on which numbers are outside and on each one's judgement; unwanted
    positions (numbers a list already stopped, inputs that are not numbers) are not judged."""
    numbers: list[str | None] = [*sample_numbers(), None]
    random.Random(11).shuffle(numbers)
    keys = np.array([-1 if n is None else int(n[1:]) for n in numbers], dtype=np.int64)
    wanted = keys >= 0
    wanted[::5] = False
    for now in INSTANTS:
        judge = WindowJudge(window, fallback)
        many = judge.judge_many(
            [n if w else None for n, w in zip(numbers, wanted, strict=True)], now
        )
        expected = {
            position: (found.inside, found.next_open, found.zones)
            for position, found in enumerate(many)
            if found is not None and not found.inside
        }
        got = {
            position: (o.judgement.inside, o.judgement.next_open, o.judgement.zones)
            for o in judge_keys(WindowJudge(window, fallback), numbers, keys, wanted, now)
            for position in o.positions.tolist()
        }
        assert got == expected, now
