"""Validation rules, without HTTP: names, descriptions, number lists, ids and expiry."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from callblock.domain import (
    InvalidInput,
    ProblemCode,
    RequestedNumber,
    clean_description,
    clean_group_name,
    name_key,
    parse_numbers,
    split_repeats,
)
from callblock.http.compat.fields import FieldCheck, parse_group_id

NOW = datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("ब्लॉक सूची", "ब्लॉक सूची"),
        ("  Legal hold  ", "Legal hold"),
        ("a.b_c-d 9", "a.b_c-d 9"),
        ("٣ أرقام", "٣ أرقام"),  # Arabic-Indic digit first: a digit of any script
        ("s@n", None),
        ("@n", None),
        ("s@", None),
        ("x", None),
        (" x ", None),
        ("a" * 51, None),
        ("_a", None),
        ("a\tb", None),
        ("a\u00a0b", None),  # no-break space is not the space the rule allows
        (12, None),
        (None, None),
    ],
)
def test_group_name_rule(raw: Any, clean: str | None) -> None:
    assert clean_group_name(raw) == clean


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Known spam!", "Known spam!"),
        ("  ok ", "ok"),
        ("a", None),
        ("x" * 51, None),
        ("ctrl\x01", "ctrl\x01"),
        ("nul\x00", None),
        ("\udc80x", None),
        (["x"], None),
    ],
)
def test_description_rule(raw: Any, clean: str | None) -> None:
    assert clean_description(raw) == clean


def test_name_key_ignores_case_and_normalisation_form() -> None:
    assert name_key("Straße") == name_key("STRASSE")
    assert name_key("e\u0301") == name_key("\u00e9")


def test_parse_numbers_keeps_order_and_inputs_as_sent() -> None:
    valid, invalid = parse_numbers(
        ["9876543210", 9123456780, "bad", False, "+91 98765 43210"], "IN"
    )
    assert valid == [
        RequestedNumber("9876543210", "+919876543210"),
        RequestedNumber(9123456780, "+919123456780"),
        RequestedNumber("+91 98765 43210", "+919876543210"),
    ]
    assert invalid == ["bad", False]


def test_split_repeats_keeps_the_first_occurrence() -> None:
    numbers = [RequestedNumber("a", "+1"), RequestedNumber("b", "+2"), RequestedNumber("c", "+1")]
    first, repeats = split_repeats(numbers)
    assert [n.raw for n in first] == ["a", "b"]
    assert [n.raw for n in repeats] == ["c"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (5, 5),
        ("5", 5),
        (" 42 ", 42),
        ("0", None),
        (-3, None),
        ("4a", None),
        (True, None),
        (2**63, None),
        (2**63 - 1, 2**63 - 1),
        ("٣", None),
        (None, None),
        (1.0, None),
    ],
)
def test_group_id_parsing(value: Any, expected: int | None) -> None:
    assert parse_group_id(value) == expected


def test_field_check_reports_every_problem_in_field_order() -> None:
    check = FieldCheck.start("IN", "Asia/Kolkata", NOW)
    check.name("@")
    check.description("")
    check.numbers(["12ab45", "9876543210", "x"])
    check.expiry("2001-01-01 00:00:00")
    with pytest.raises(InvalidInput) as caught:
        check.done()
    assert [(p.field, p.code) for p in caught.value.problems] == [
        ("name", ProblemCode.LENGTH),
        ("description", ProblemCode.LENGTH),
        ("blockNumbers", ProblemCode.INVALID_NUMBERS),
        ("expiryDate", ProblemCode.EXPIRY),
    ]
    assert caught.value.invalid_numbers == ["12ab45", "x"]


@pytest.mark.parametrize(
    ("value", "count"),
    [
        ("9876543210", 1),
        ("9876543210,9123456780", 2),
        (["9876543210", "9123456780,9811122233"], 3),
        ("9876543210,", 1),
        ([9876543210], 1),
    ],
)
def test_number_field_shapes(value: Any, count: int) -> None:
    check = FieldCheck.start("IN", "Asia/Kolkata", NOW)
    assert len(check.numbers(value)) == count
    check.done()


def test_expiry_one_second_ahead_is_future_and_now_is_not() -> None:
    check = FieldCheck.start("IN", "Asia/Kolkata", NOW)
    assert check.expiry("2026-06-01 17:30:01") == datetime(2026, 6, 1, 12, 0, 1, tzinfo=UTC)
    assert check.expiry(None) is None
    assert check.expiry("") is None
    check.done()
    assert check.expiry("2026-06-01 17:30:00") is None
    with pytest.raises(InvalidInput):
        check.done()
