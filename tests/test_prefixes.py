"""Prefix entries: the digits numbers accept, and refusal of a prefix that can never match."""

from __future__ import annotations

import sys
import unicodedata
from datetime import UTC, datetime

import phonenumbers
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from callblock.files.plan import ImportLines, plan_import
from callblock.numbers import InvalidNumber, normalise, normalise_prefix

# The zero of every script of decimal digits (Arabic-Indic, Devanagari, full-width...).
ZEROS = [
    chr(code)
    for code in range(sys.maxunicode + 1)
    if unicodedata.category(chr(code)) == "Nd" and unicodedata.decimal(chr(code)) == 0
]


def in_script(text: str, zero: str) -> str:
    """``text`` with its ASCII digits written in the script whose zero is ``zero``."""
    return "".join(chr(ord(zero) + int(c)) if c.isascii() and c.isdigit() else c for c in text)


def prefix_or_refused(raw: str, region: str) -> str | None:
    try:
        return normalise_prefix(raw, region)
    except InvalidNumber:
        return None


def test_numbers_accept_every_script_of_decimal_digits() -> None:
    """What the prefix rule below is held to: the digits a number may be written in."""
    assert len(ZEROS) > 50
    for zero in ZEROS:
        assert normalise(in_script("+919876543210", zero), "IN") == "+919876543210"


@settings(max_examples=500, deadline=None)
@given(
    lead=st.sampled_from(["+", "00", "", "0"]),
    digits=st.text(alphabet="0123456789", min_size=1, max_size=14),
    separator=st.sampled_from(["", " ", "-"]),
    scripts=st.lists(st.sampled_from(ZEROS), min_size=1, max_size=3),
    region=st.sampled_from(["IN", "GB", "US"]),
)
@example(lead="+", digits="91140", separator="", scripts=["\u0660"], region="IN")
@example(lead="", digits="140", separator="", scripts=["\u0966"], region="IN")
def test_a_prefix_in_any_decimal_digits_is_the_ascii_prefix(
    lead: str, digits: str, separator: str, scripts: list[str], region: str
) -> None:
    ascii_text = f"{lead}{digits[:3]}{separator}{digits[3:]}*"
    # Each digit in one of the drawn scripts, mixed as a copy-paste may mix them.
    written = "".join(in_script(c, scripts[i % len(scripts)]) for i, c in enumerate(ascii_text))
    assert prefix_or_refused(written, region) == prefix_or_refused(ascii_text, region)


def test_arabic_indic_and_devanagari_prefixes() -> None:
    assert normalise_prefix("+٩١١٤٠*", "IN") == "+91140*"
    assert normalise_prefix("١٤٠*", "IN") == "+91140*"
    assert normalise_prefix("०१४०*", "IN") == "+91140*"  # national prefix 0, Devanagari
    assert normalise_prefix("+۹۱ ۱۴۰*", "IN") == "+91140*"  # Extended Arabic-Indic


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        # Fewer digits than India's longest numbers (13), but none starts so.
        ("+91140123456789*", "no valid number of +91 starts with 140123456789"),
        ("140123456789*", "no valid number of +91 starts with 140123456789"),
        ("+9150*", "no valid number of +91 starts with 50"),
        ("+1999*", "no valid number of +1 starts with 999"),
        # More digits than any number of the country.
        ("+9198765432101234*", "longer than any number of +91 (at most 13 digits after it)"),
        ("+14155552671123*", "longer than any number of +1 (at most 10 digits after it)"),
        ("+800123456789*", "longer than any number of +800 (at most 8 digits after it)"),
    ],
)
def test_a_prefix_that_can_never_match_is_refused_with_its_reason(raw: str, reason: str) -> None:
    with pytest.raises(InvalidNumber) as refused:
        normalise_prefix(raw, "IN")
    assert refused.value.reason == reason
    assert reason in str(refused.value)


@pytest.mark.parametrize(
    ("raw", "pattern"),
    [
        ("+91140*", "+91140*"),
        ("140*", "+91140*"),
        ("+9198765*", "+9198765*"),
        ("+919876543210*", "+919876543210*"),  # a whole number is a prefix of itself
        ("+1415*", "+1415*"),
        ("+4420*", "+4420*"),
        ("+3906*", "+3906*"),  # a leading 0 (Rome): the tables cannot tell, so accepted
        ("+8001*", "+8001*"),  # a non-geographic code
    ],
)
def test_a_prefix_some_valid_number_starts_with_is_kept(raw: str, pattern: str) -> None:
    assert normalise_prefix(raw, "IN") == pattern


REGIONS = ["IN", "US", "CA", "GB", "DE", "IT", "AT", "NL", "FR", "BR", "SG", "CN", "AE"]
TYPES = [
    phonenumbers.PhoneNumberType.FIXED_LINE,
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.TOLL_FREE,
    phonenumbers.PhoneNumberType.PREMIUM_RATE,
    phonenumbers.PhoneNumberType.VOIP,
    phonenumbers.PhoneNumberType.UAN,
]


@st.composite
def valid_numbers(draw: st.DrawFn) -> str:
    """A valid number: a region's example number with its last digits drawn anew."""
    region = draw(st.sampled_from(REGIONS))
    kind = draw(st.sampled_from(TYPES))
    sample = phonenumbers.example_number_for_type(region, kind)
    if sample is None:
        sample = phonenumbers.example_number(region)
    e164 = phonenumbers.format_number(sample, phonenumbers.PhoneNumberFormat.E164)
    tail = draw(st.text(alphabet="0123456789", max_size=4))
    candidate = e164[: len(e164) - len(tail)] + tail
    parsed = phonenumbers.parse(candidate)
    return candidate if phonenumbers.is_valid_number(parsed) else e164


@settings(max_examples=300, deadline=None)
@given(valid_numbers())
def test_every_leading_part_of_a_valid_number_is_an_accepted_prefix(e164: str) -> None:
    """The refusal is never wrong: whatever a valid number starts with can be blocked."""
    code = str(phonenumbers.parse(e164).country_code)
    for end in range(len(code) + 2, len(e164) + 1):
        assert normalise_prefix(e164[:end] + "*", "IN") == e164[:end] + "*"


def test_an_import_says_why_a_prefix_was_refused() -> None:
    lines = ImportLines([1, 2, 3], ["+91140123456789*", "140*", "+999*"], None)
    plan = plan_import([lines], "IN", "Asia/Kolkata", datetime(2026, 1, 1, tzinfo=UTC))
    assert [(r.line, r.reason) for r in plan.invalid] == [
        (1, "not a valid prefix: no valid number of +91 starts with 140123456789"),
        (3, "not a valid prefix"),
    ]
