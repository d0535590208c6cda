"""Number normalisation: every row of the contract's table, and its invalid examples."""

from __future__ import annotations

import pytest

from callblock.numbers import InvalidNumber, normalise


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # `+` followed by digits
        ("+919876543210", "+919876543210"),
        ("+14155552671", "+14155552671"),
        # separators ` -.()` removed first
        ("+91 98765-43210", "+919876543210"),
        ("(+91) 98765.43210", "+919876543210"),
        ("+91 90000 00001", "+919000000001"),
        # `00` followed by digits
        ("00919876543210", "+919876543210"),
        ("0014155552671", "+14155552671"),
        # 10 digits: +91, also when they start with 91
        ("9876543210", "+919876543210"),
        ("9177887778", "+919177887778"),
        ("98765 43210", "+919876543210"),
        # 11 digits starting with 0: +91 and the last 10
        ("09811122233", "+919811122233"),
        # 12 digits starting with 91
        ("919812345678", "+919812345678"),
        # anything else: libphonenumber for the default region (an Indian landline here)
        ("011 2345 6789", "+911123456789"),
        # surrounding whitespace
        ("  9876543210 ", "+919876543210"),
    ],
)
def test_valid_inputs_normalise_to_e164(raw: str, expected: str) -> None:
    assert normalise(raw, "IN") == expected


@pytest.mark.parametrize(
    "raw",
    [
        "12ab45",
        "abcdefghij",
        "2",
        "111111111111",  # +91111111111111: right length, no Indian range
        "95535787219959177442",
        "",
        "   ",
        "+",
        "+91",
        "1-800-FLOWERS",  # letters are never read as keypad digits
        "9876543210 ext 12",
        "98765\x0043210",
        "9" * 200,
        "\udcff\udcfe9876543495",  # bytes that were not UTF-8, before a valid number
        "\x079876543210",  # a control character
        "\ue0009876543210",  # a private-use code point
    ],
)
def test_invalid_inputs_are_refused(raw: str) -> None:
    with pytest.raises(InvalidNumber):
        normalise(raw, "IN")


def test_default_region_decides_national_numbers() -> None:
    assert normalise("(415) 555-2671", "US") == "+14155552671"
    assert normalise("07911 123456", "GB") == "+447911123456"


def test_two_spellings_of_one_number_are_equal() -> None:
    spellings = ["9876543210", "09876543210", "919876543210", "+91 98765 43210", "0091-9876543210"]
    assert {normalise(s, "IN") for s in spellings} == {"+919876543210"}
