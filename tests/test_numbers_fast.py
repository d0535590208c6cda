"""The fast path of number parsing agrees with libphonenumber wherever it answers."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from callblock.numbers import InvalidNumber, normalise, normalise_fast, normalise_full

separators = st.sampled_from(["", " ", "-", ".", "(", ")"])
digits = st.text(alphabet="0123456789", min_size=0, max_size=14)


@st.composite
def shaped(draw: st.DrawFn) -> str:
    """Common shapes with random digits: most are valid numbers, many are near misses."""
    prefix = draw(st.sampled_from(["", "+91", "91", "0", "0091", "+", "00", "+1", "+44"]))
    first = draw(st.sampled_from("0123456789"))
    body = draw(st.text(alphabet="0123456789", min_size=5, max_size=12))
    sep = draw(separators)
    text = prefix + sep + first + body[:4] + sep + body[4:]
    return draw(st.sampled_from(["", " ", "\t"])) + text + draw(st.sampled_from(["", " "]))


def full_or_none(raw: str, region: str) -> str | None:
    try:
        return normalise_full(raw, region)
    except InvalidNumber:
        return None


def normalise_or_none(raw: str, region: str) -> str | None:
    try:
        return normalise(raw, region)
    except InvalidNumber:
        return None


@settings(max_examples=3000, deadline=None)
@given(
    raw=st.one_of(shaped(), digits, st.text(max_size=20)),
    region=st.sampled_from(["IN", "GB", "US", "DE"]),
)
@example(raw="9191778877", region="IN")  # 10 digits starting 91: national, as the contract says
@example(raw="+91 0 98765 43210", region="IN")  # trunk 0 after the country code: full parser
@example(raw="1400000000", region="IN")
def test_fast_path_agrees_with_the_full_parser(raw: str, region: str) -> None:
    full = full_or_none(raw, region)
    fast = normalise_fast(raw, region)
    if fast is not None:
        assert fast == full, "the fast path answered otherwise than the full parser"
    # So normalise, which takes the fast path when it answers, always answers as the full
    # parser does: the same E.164 form, or InvalidNumber where it refuses.
    assert normalise_or_none(raw, region) == full


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("9876543210", "+919876543210"),
        ("+919876543210", "+919876543210"),
        ("919876543210", "+919876543210"),
        ("09876543210", "+919876543210"),
        ("0091 98765 43210", "+919876543210"),
        ("98765-43210", "+919876543210"),
    ],
)
def test_common_shapes_take_the_fast_path(raw: str, expected: str) -> None:
    assert normalise_fast(raw, "IN") == expected
    assert normalise(raw, "IN") == expected


@pytest.mark.parametrize(
    "raw", ["+14155552671", "+91 0 98765 43210", "1-800-FLOWERS", "2", "12ab45"]
)
def test_other_inputs_are_left_to_the_full_parser(raw: str) -> None:
    assert normalise_fast(raw, "IN") is None


def test_regions_sharing_a_country_code_use_the_full_parser() -> None:
    assert normalise_fast("4155552671", "US") is None
    assert normalise("4155552671", "US") == "+14155552671"
