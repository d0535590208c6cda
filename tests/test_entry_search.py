"""Finding a group's entries (`q`) by any spelling a check takes, and an entry's number in the
national and international forms people read: read with the account's region, on each engine
(the `service` fixture)."""

from __future__ import annotations

import pytest

from callblock.domain import Actor, EntryStatus, RequestedNumber, Surface
from callblock.numbers import (
    display_forms,
    normalise,
    normalise_prefix,
    pattern_key,
    search_texts,
)
from callblock.service import Service

# Every spelling of +919800000001 that a check of an Indian account reads as it.
INDIAN_SPELLINGS = [
    "+919800000001",
    "+91 98000 00001",
    "+91-98000-00001",
    "(+91) 98000.00001",
    "9800000001",
    "98000 00001",
    "09800000001",
    "098000 00001",
    "919800000001",
    "0091 98000 00001",
    "00919800000001",
    "\u0669\u0668\u0660\u0660\u0660\u0660\u0660\u0660\u0660\u0661",  # Arabic-Indic digits
    "  09800000001  ",
]


def actor_of(service: Service, region: str = "IN") -> Actor:
    key = service.create_account(f"searcher{region.lower()}", region=region).key
    return service.authenticate_key(key, Surface.V1)


def fill_group(service: Service, actor: Actor, patterns: list[str]) -> int:
    """A group holding the patterns, as E.164 numbers or E.164 prefixes ending in `*`."""
    numbers = [RequestedNumber(pattern, pattern) for pattern in patterns]
    return service.create_group(actor, "Searched", "", numbers, None).group.id


def found(service: Service, actor: Actor, group_id: int, q: str) -> tuple[list[str], int]:
    """The patterns the search lists (one page), and the count it gives."""
    page = service.list_entries(
        actor, group_id, status=EntryStatus.ALL, q=q, after=None, limit=1000
    )
    return [entry.pattern for entry in page.items], page.total


INDIAN_GROUP = ["+91140*", "+919800000001", "+919800000017", "+919811122233", "+442079460958"]


@pytest.mark.parametrize("spelling", INDIAN_SPELLINGS)
def test_every_spelling_a_check_takes_finds_the_entry(service: Service, spelling: str) -> None:
    assert normalise(spelling, "IN") == "+919800000001"  # a check reads it as the entry
    actor = actor_of(service)
    group_id = fill_group(service, actor, INDIAN_GROUP)
    assert found(service, actor, group_id, spelling) == (["+919800000001"], 1)


@pytest.mark.parametrize(
    ("q", "patterns"),
    [
        # Part of the stored text, as before: digits anywhere in it.
        ("98000", ["+919800000001", "+919800000017"]),
        ("0001", ["+919800000001", "+919800000017"]),
        ("7946", ["+442079460958"]),
        ("+44", ["+442079460958"]),
        ("98000 000", ["+919800000001", "+919800000017"]),  # spaces left out
        # The start of a number spelt nationally or internationally.
        ("098000", ["+919800000001", "+919800000017"]),
        ("098000 0001", ["+919800000017"]),
        ("0091 9811", ["+919811122233"]),
        ("0044 20", ["+442079460958"]),
        # The start of a pattern, `+` and digits: matched on the keys, as ranges.
        ("+91980000000", ["+919800000001"]),
        ("+919800000017", ["+919800000017"]),
        ("+9114", ["+91140*"]),
        ("+91140", ["+91140*"]),
        ("+4420794609580", []),  # longer than the number it starts like
        ("+", sorted(INDIAN_GROUP, key=pattern_key)),
        # A prefix entry: by its digits, as stored, or spelt as an add takes it.
        ("140", ["+91140*"]),
        ("140*", ["+91140*"]),
        ("+91140*", ["+91140*"]),
        ("0140*", ["+91140*"]),
        ("+91 140*", ["+91140*"]),
        # Nothing to find.
        ("12345", []),
        ("09800000002", []),
        ("abc", []),
    ],
)
def test_a_partial_search_and_a_prefix_still_find_their_entries(
    service: Service, q: str, patterns: list[str]
) -> None:
    actor = actor_of(service)
    group_id = fill_group(service, actor, INDIAN_GROUP)
    assert found(service, actor, group_id, q) == (patterns, len(patterns))


def test_the_accounts_region_reads_the_search(service: Service) -> None:
    """A US account's national spellings are read as US numbers: what a check there does."""
    actor = actor_of(service, "US")
    group_id = fill_group(service, actor, ["+1415*", "+14155550123", "+919800000001"])
    for spelling in ("(415) 555-0123", "415-555-0123", "1 415 555 0123", "011 1 415 555 0123"):
        assert normalise(spelling, "US") == "+14155550123"
        assert found(service, actor, group_id, spelling) == (["+14155550123"], 1), spelling
    assert found(service, actor, group_id, "1415*") == (["+1415*"], 1)
    assert found(service, actor, group_id, "011 91 98000") == (["+919800000001"], 1)
    # An Indian national spelling means nothing nationally here: only its digits are read.
    assert found(service, actor, group_id, "09800000001") == ([], 0)


def test_search_pages_and_counts_with_status(service: Service) -> None:
    actor = actor_of(service)
    numbers = [f"+9198000{i:05d}" for i in range(30)]
    group_id = fill_group(service, actor, numbers)
    first = service.list_entries(
        actor, group_id, status=EntryStatus.ACTIVE, q="098000 0001", after=None, limit=4
    )
    assert [e.pattern for e in first.items] == numbers[10:14]
    assert first.total == 10
    assert first.next_after is not None
    rest = service.list_entries(
        actor,
        group_id,
        status=EntryStatus.ACTIVE,
        q="098000 0001",
        after=first.next_after,
        limit=10,
    )
    assert [e.pattern for e in rest.items] == numbers[14:20]
    expired = service.list_entries(
        actor, group_id, status=EntryStatus.EXPIRED, q="098000 0001", after=None, limit=10
    )
    assert (expired.items, expired.total) == ([], 0)


@pytest.mark.parametrize("q", ["", "   ", "- ()"])
def test_a_search_of_separators_alone_keeps_every_entry(service: Service, q: str) -> None:
    actor = actor_of(service)
    group_id = fill_group(service, actor, INDIAN_GROUP)
    assert found(service, actor, group_id, q)[1] == len(INDIAN_GROUP)


@pytest.mark.parametrize("q", ["\x00", "98\x00", "\ud800"])
def test_a_search_no_engine_can_compare_finds_nothing(service: Service, q: str) -> None:
    actor = actor_of(service)
    group_id = fill_group(service, actor, INDIAN_GROUP)
    assert found(service, actor, group_id, q) == ([], 0)


@pytest.mark.parametrize("q", ["50%", "98_00", "\\"])
def test_like_wildcards_in_a_search_are_plain_characters(service: Service, q: str) -> None:
    actor = actor_of(service)
    group_id = fill_group(service, actor, INDIAN_GROUP)
    assert found(service, actor, group_id, q) == ([], 0)


def test_search_texts_leave_out_a_text_that_holds_another() -> None:
    # 9800000001 is in +919800000001: any pattern holding the longer holds the shorter.
    assert search_texts("9800000001", "IN") == ["9800000001"]
    assert search_texts("09800000001", "IN") == ["09800000001", "+919800000001"]
    assert search_texts("098000", "IN") == ["098000", "+9198000"]
    assert search_texts(" +91 98000 ", "IN") == ["+9198000"]
    assert search_texts("0140*", "IN") == ["0140*", "+91140*"]


@pytest.mark.parametrize(
    ("pattern", "national", "international"),
    [
        ("+919800000001", "098000 00001", "+91 98000 00001"),
        ("+911123456789", "011 2345 6789", "+91 11 2345 6789"),
        ("+442079460958", "020 7946 0958", "+44 20 7946 0958"),
        ("+14155550123", "(415) 555-0123", "+1 415-555-0123"),
        ("+390612345678", "06 1234 5678", "+39 06 1234 5678"),  # a leading zero kept
        # A prefix: its digits, the country code set apart; the trunk prefix where written.
        ("+91140*", "0140*", "+91 140*"),
        ("+44207*", "0207*", "+44 207*"),
        ("+1415*", "415*", "+1 415*"),
        ("+7495*", "8495*", "+7 495*"),
    ],
)
def test_display_forms_are_libphonenumbers_national_and_international(
    pattern: str, national: str, international: str
) -> None:
    assert display_forms(pattern) == (national, international)


@pytest.mark.parametrize(
    ("pattern", "region"), [("+91140*", "IN"), ("+44207*", "GB"), ("+1415*", "US")]
)
def test_a_prefixs_forms_are_read_back_as_the_prefix(pattern: str, region: str) -> None:
    national, international = display_forms(pattern)
    assert normalise_prefix(national, region) == pattern
    assert normalise_prefix(international, region) == pattern
