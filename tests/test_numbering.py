"""The interval tables of valid numbers agree with libphonenumber, and so does batch parsing."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callblock import numbering
from callblock.numbering import derive_table, valid_table
from callblock.numbers import InvalidNumber, normalise, normalise_batch, normalise_many


@pytest.mark.parametrize(
    ("region", "length"), [("IN", 10), ("IN", 8), ("GB", 10), ("DE", 11), ("BR", 11), ("US", 10)]
)
def test_the_table_agrees_with_libphonenumber(region: str, length: int) -> None:
    table = derive_table(region, length)  # worked out here, whatever a cache holds
    assert table is not None
    code = phonenumbers.country_code_for_region(region)
    rng = random.Random(f"{region}{length}")
    samples = [rng.randrange(10 ** (length - 1), 10**length) for _ in range(20_000)]
    # Both sides of every interval edge: where a mistake would show first.
    for start, end in zip(table.starts.tolist()[:300], table.ends.tolist()[:300], strict=True):
        samples += [start - 1, start, end - 1, end]
    for national in samples:
        if not 10 ** (length - 1) <= national < 10**length:
            continue
        number = phonenumbers.parse(f"+{code}{national}")
        expected = phonenumbers.is_valid_number(number) and (
            phonenumbers.region_code_for_number(number) == region
        )
        assert table.contains(national) == expected, (region, national)


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    valid_table.cache_clear()
    yield tmp_path
    valid_table.cache_clear()


def _same(a: numbering.ValidTable | None, b: numbering.ValidTable | None) -> bool:
    assert a is not None
    assert b is not None
    return bool(np.array_equal(a.starts, b.starts) and np.array_equal(a.ends, b.ends))


def test_a_derived_table_is_kept_and_read_back_by_the_next_process(cache_home: Path) -> None:
    derived = derive_table("IN", 10)
    assert _same(valid_table("IN", 10), derived)
    kept = list((cache_home / "callblock").iterdir())
    assert [p.name for p in kept] == [f"valid-{phonenumbers.__version__}-IN-10.npy"]
    valid_table.cache_clear()  # as a new process would start
    original = numbering.derive_table
    try:
        numbering.derive_table = None  # type: ignore[assignment]  # must not be needed now
        assert _same(valid_table("IN", 10), derived)
    finally:
        numbering.derive_table = original


def test_a_damaged_cache_file_is_replaced_by_a_derived_table(cache_home: Path) -> None:
    target = cache_home / "callblock" / f"valid-{phonenumbers.__version__}-GB-10.npy"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"\x93NUMPY garbage")
    assert _same(valid_table("GB", 10), derive_table("GB", 10))
    valid_table.cache_clear()
    np.save(target, np.zeros((3, 2), np.int64))  # the wrong shape
    assert _same(valid_table("GB", 10), derive_table("GB", 10))


def test_an_unwritable_cache_directory_is_not_used(cache_home: Path) -> None:
    (cache_home / "callblock").write_text("a file where the directory would be")
    assert _same(valid_table("DE", 11), derive_table("DE", 11))
    assert not list(cache_home.glob("**/*.tmp"))


def one(text: str, region: str) -> str | None:
    try:
        return normalise(text, region)
    except InvalidNumber:
        return None


shapes = st.one_of(
    st.from_regex(r"(\+91|91|0|0091)?[0-9]{8,11}", fullmatch=True),
    st.from_regex(r"\+?[0-9 ()\-]{1,16}", fullmatch=True),
    st.text(max_size=16),
)


@settings(max_examples=300, deadline=None)
@given(texts=st.lists(shapes, max_size=40), region=st.sampled_from(["IN", "GB", "US"]))
def test_batch_parsing_agrees_with_one_at_a_time(texts: list[str], region: str) -> None:
    assert normalise_many(texts, region) == [one(t, region) for t in texts]


@settings(max_examples=40, deadline=None)
@given(
    texts=st.lists(shapes, min_size=256, max_size=400),
    common=st.lists(
        st.from_regex(r"(\+91|91|0)?[0-9]{10}", fullmatch=True), min_size=0, max_size=300
    ),
)
def test_large_batches_take_the_array_path_and_still_agree(
    texts: list[str], common: list[str]
) -> None:
    batch = texts + common
    numbers, keys = normalise_batch(batch, "IN")
    assert numbers == [one(t, "IN") for t in batch]
    assert keys.tolist() == [int(n[1:]) if n else -1 for n in numbers]


def test_any_between_finds_a_valid_number_in_a_range_exactly() -> None:
    table = numbering.ValidTable(np.array([10, 30], np.int64), np.array([20, 40], np.int64))
    assert table.any_between(19, 20)  # the last number of an interval
    assert table.any_between(25, 31)  # the first number of the next one
    assert table.any_between(0, 100)
    assert not table.any_between(20, 30)  # the gap between them, ends excluded
    assert not table.any_between(0, 10)
    assert not table.any_between(40, 50)


@pytest.mark.parametrize(
    ("country_code", "national", "none_starts"),
    [
        (91, "98765", False),
        (91, "140123456789", True),  # 12 digits: the only 12-digit Indian numbers are 1800...
        (91, "50", True),
        (91, "0", False),  # a leading 0 is libphonenumber's to judge: not certain
        (1, "415", False),  # +1 is shared by many regions: San Francisco is in one
        (1, "999", True),
        (800, "1", False),  # non-geographic: no table, so not certain
    ],
)
def test_no_valid_number_starts_with_agrees_with_libphonenumber(
    country_code: int, national: str, none_starts: bool
) -> None:
    assert numbering.no_valid_number_starts_with(country_code, national) is none_starts
    if none_starts:
        # libphonenumber itself: no number of any possible length starting so is valid.
        for region in phonenumbers.COUNTRY_CODE_TO_REGION_CODE[country_code]:
            metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
            for length in metadata.general_desc.possible_length:
                if length < len(national):
                    continue
                for tail in ("0", "5", "9"):
                    digits = national + tail * (length - len(national))
                    parsed = phonenumbers.parse(f"+{country_code}{digits}")
                    assert not phonenumbers.is_valid_number(parsed)
