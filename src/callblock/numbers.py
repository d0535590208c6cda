"""Parse and normalise phone numbers to E.164.

Every surface hands raw input here once, at its edge; everything behind it compares E.164
strings only. The rules are those of the Cloud Agent contract (spec section 5): a few common
Indian shapes are read directly (the reference service reads them this way, which differs from
libphonenumber for a 10-digit input that starts with 91), everything else goes to
libphonenumber, and the result must be a valid number of a real range.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import phonenumbers

from callblock.numbering import longest_national, no_valid_number_starts_with, valid_table

__all__ = [
    "PREFIX_MARK",
    "REGIONS",
    "InvalidNumber",
    "display_forms",
    "is_pattern",
    "key_pattern",
    "normalise",
    "normalise_batch",
    "normalise_fast",
    "normalise_full",
    "normalise_keys",
    "normalise_many",
    "normalise_prefix",
    "pattern_key",
    "search_texts",
]

PREFIX_MARK = "*"
# The ISO 3166 regions national numbers can be read with: those libphonenumber has a plan for.
REGIONS: tuple[str, ...] = tuple(sorted(phonenumbers.SUPPORTED_REGIONS))
_GARBAGE = frozenset({"Cc", "Cs", "Co", "Cn"})
_MAX_E164_DIGITS = 15

_SEPARATORS = str.maketrans("", "", " -.()")
# Longer than any real number with generous formatting; refuse early rather than parse junk.
_MAX_INPUT_CHARS = 64


class InvalidNumber(ValueError):
    """The input does not normalise to a valid phone number (or prefix); ``reason`` says why
    when there is more to say than that."""

    def __init__(self, raw: str, reason: str | None = None) -> None:
        super().__init__(raw if reason is None else f"{raw}: {reason}")
        self.raw = raw
        self.reason = reason


def _is_ascii_digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _ascii_digits(text: str) -> str:
    """Every Unicode decimal digit (Arabic-Indic, Devanagari, full-width...) as its ASCII
    digit, as libphonenumber reads digits in numbers; other characters as they are."""
    if text.isascii():
        return text
    return "".join(str(unicodedata.decimal(c)) if c.isdecimal() else c for c in text)


def _candidate(compact: str, region: str) -> str | None:
    """The E.164 candidate for the shapes read without libphonenumber, or None."""
    if compact.startswith("+") and _is_ascii_digits(compact[1:]):
        return compact
    if compact.startswith("00") and _is_ascii_digits(compact[2:]):
        return "+" + compact[2:]
    if region == "IN" and _is_ascii_digits(compact):
        if len(compact) == 10:
            return "+91" + compact
        if len(compact) == 11 and compact.startswith("0"):
            return "+91" + compact[1:]
        if len(compact) == 12 and compact.startswith("91"):
            return "+" + compact
    return None


@dataclass(frozen=True, slots=True)
class _RegionRules:
    """What the fast path needs of a region: its country code, when no other region has it
    (regions sharing +1 need libphonenumber to tell which one a number belongs to)."""

    country_code: str


@functools.cache
def _rules(region: str) -> _RegionRules | None:
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if metadata is None or metadata.country_code is None:
        return None
    if len(phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(metadata.country_code, ())) != 1:
        return None
    return _RegionRules(str(metadata.country_code))


def normalise_fast(raw: str, region: str) -> str | None:
    """The E.164 form of the common shapes (``98...``, ``+91...``, ``91...``, ``0...``,
    ``00...``) of numbers of the account's own country, without calling libphonenumber's
    parser; None when the input is not such a shape (the full parser then decides).

    It never refuses: an input it does not accept goes to the full parser, and where it
    accepts, it agrees with it (a property test holds it to that).
    """
    rules = _rules(region)
    if rules is None or len(raw) > _MAX_INPUT_CHARS:
        return None
    compact = raw if raw.isdigit() else raw.strip().translate(_SEPARATORS)
    candidate = _candidate(compact, region)
    if candidate is None or not candidate.startswith("+" + rules.country_code):
        return None
    national = candidate[len(rules.country_code) + 1 :]
    if not national or national[0] == "0":
        return None
    table = valid_table(region, len(national))
    if table is None or not table.contains(int(national)):
        return None  # the full parser decides
    return candidate


def normalise(raw: str, region: str) -> str:
    """Return the E.164 form of ``raw`` read with default ``region``, or raise InvalidNumber."""
    fast = normalise_fast(raw, region)
    if fast is not None:
        return fast
    return normalise_full(raw, region)


def normalise_full(raw: str, region: str) -> str:
    """``normalise`` through libphonenumber's parser, whatever the shape."""
    text = raw.strip()
    if not text or len(text) > _MAX_INPUT_CHARS:
        raise InvalidNumber(raw)
    compact = text.translate(_SEPARATORS)
    # libphonenumber would read letters as keypad digits (vanity numbers); the contract
    # calls any input with letters invalid.
    if any(char.isalpha() for char in compact):
        raise InvalidNumber(raw)
    # Nor are control characters, bytes that were not UTF-8 (lone surrogates), private-use or
    # unassigned code points, which libphonenumber would skip as leading noise.
    if any(unicodedata.category(char) in _GARBAGE for char in compact):
        raise InvalidNumber(raw)
    candidate = _candidate(compact, region)
    try:
        parsed = phonenumbers.parse(candidate if candidate is not None else compact, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidNumber(raw) from exc
    if parsed.extension or not phonenumbers.is_valid_number(parsed):
        raise InvalidNumber(raw)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def is_pattern(text: str) -> bool:
    """Whether an input asks for a prefix entry (``+91140*``, ``140*``)."""
    return text.strip().endswith(PREFIX_MARK)


def normalise_prefix(raw: str, region: str) -> str:
    """The E.164 prefix pattern (``+91140*``) of ``raw``, read with default ``region``.

    The part before ``*`` is international (``+``/``00``) or national, in which case the
    region's country code is put in front of it and its national prefix (``0`` in India)
    dropped. Digits are those numbers accept (any Unicode decimal digit, read as ASCII).

    The pattern must name a real country code and at least one digit after it (a whole
    country is not a prefix entry), and be able to match: a prefix that no valid number of
    its country starts with is refused, since a check only ever sees valid numbers. That
    covers a prefix longer than the country's longest number; it is decided from the exact
    tables of valid numbers (``numbering``), and accepted wherever they cannot tell.
    """
    text = raw.strip()
    if not text.endswith(PREFIX_MARK) or len(text) > _MAX_INPUT_CHARS:
        raise InvalidNumber(raw)
    body = _ascii_digits(text[: -len(PREFIX_MARK)]).translate(_SEPARATORS)
    if body.startswith("+"):
        digits = body[1:]
    elif body.startswith("00"):
        digits = body[2:]
    else:
        metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
        trunk = metadata.national_prefix if metadata is not None else None
        if trunk and body.startswith(trunk):
            body = body[len(trunk) :]
        digits = str(phonenumbers.country_code_for_region(region)) + body
    if not _is_ascii_digits(digits):
        raise InvalidNumber(raw)
    for length in (1, 2, 3):
        country_code = int(digits[:length])
        if country_code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            if len(digits) <= length:
                raise InvalidNumber(raw)
            problem = _never_matches(country_code, digits[length:])
            if problem is not None:
                raise InvalidNumber(raw, problem)
            return "+" + digits + PREFIX_MARK
    raise InvalidNumber(raw)


def _never_matches(country_code: int, national: str) -> str | None:
    """Why a prefix of ``country_code`` with these national digits can match no valid
    number, or None when it can (or the tables cannot tell)."""
    longest = min(
        longest_national(country_code) or _MAX_E164_DIGITS,
        _MAX_E164_DIGITS - len(str(country_code)),
    )
    if len(national) > longest:
        return f"longer than any number of +{country_code} (at most {longest} digits after it)"
    if no_valid_number_starts_with(country_code, national):
        return f"no valid number of +{country_code} starts with {national}"
    return None


def _country_code_of(digits: str) -> int | None:
    """The country code an international number's digits start with (1 to 3 of them)."""
    for length in (1, 2, 3):
        if int(digits[:length] or 0) in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            return int(digits[:length])
    return None


@functools.lru_cache(maxsize=16_384)
def display_forms(pattern: str) -> tuple[str, str]:
    """A stored pattern (``+919876543210``, ``+91140*``) as people read it: its national and
    its international form, spaced as libphonenumber formats the number in its own country
    (``098765 43210`` and ``+91 98765 43210``; ``(415) 555-0123`` and ``+1 415-555-0123``).

    A prefix is no number to format: it keeps its digits, the country code set apart in the
    international form (``+91 140*``) and, in the national form, the country's trunk prefix
    in front where its numbers are written with one (``0140*``; ``415*`` under +1), as
    ``normalise_prefix`` reads a national prefix back. Kept for the last patterns asked for:
    a page of a listing formats each of its entries.
    """
    prefix = pattern.endswith(PREFIX_MARK)
    digits = pattern[1 : -len(PREFIX_MARK)] if prefix else pattern[1:]
    country_code = _country_code_of(digits)
    if country_code is None:  # not stored by this service: shown as it is
        return pattern, pattern
    national = digits[len(str(country_code)) :]
    if prefix:
        trunk = _written_trunk_prefix(country_code)
        return f"{trunk}{national}{PREFIX_MARK}", f"+{country_code} {national}{PREFIX_MARK}"
    if national.startswith("0"):  # a leading zero (Italy): the parser sets what it needs
        number = phonenumbers.parse(pattern, None)
    else:
        number = phonenumbers.PhoneNumber(country_code=country_code, national_number=int(national))
    return (
        phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL),
        phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL),
    )


@functools.cache
def _written_trunk_prefix(country_code: int) -> str:
    """The trunk prefix the numbers of ``country_code`` are written with nationally (``0``
    in India), or "" where the national format has none (the US writes ``(415)``)."""
    region = phonenumbers.region_code_for_country_code(country_code)
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if metadata is None or not metadata.national_prefix:
        return ""
    written = any(form.national_prefix_formatting_rule for form in metadata.number_format)
    return metadata.national_prefix if written else ""


def pattern_key(pattern: str) -> int:
    """The stored key of an entry's pattern: the E.164 digits as an integer, negated for a
    prefix (``+91140*`` is -91140), so a number and the same digits as a prefix differ."""
    if pattern.endswith(PREFIX_MARK):
        return -int(pattern[1 : -len(PREFIX_MARK)])
    return int(pattern[1:])


def key_pattern(key: int) -> str:
    """The pattern of a stored key (the inverse of ``pattern_key``)."""
    return f"+{-key}{PREFIX_MARK}" if key < 0 else f"+{key}"


def search_texts(query: str, region: str) -> list[str]:
    """The texts an entry's pattern (``+919876543210``, ``+91140*``) may contain to match a
    search for ``query``, read with the account's ``region`` (an entry matches when its
    pattern contains any of them).

    They are the query as typed, without the separators people type (``98765 43210``); the
    number or prefix it is, when it reads as one as a check (or an add) would read it
    (``09876543210``, ``+91 98765 43210``, ``0091 98765 43210`` and ``919876543210`` all find
    ``+919876543210``; ``0140*`` finds ``+91140*``); and, for the start of a number spelt
    nationally (the region's trunk prefix: ``098765``) or internationally (``00``, or the
    region's own international prefix: ``0091 98765``), the start of the pattern it means
    (``+9198765``), so that a search typed a digit at a time finds the entry all along. A
    text that contains another is left out (any pattern holding it holds the other).
    """
    compact = "".join(_ascii_digits(query).split()).translate(_SEPARATORS)
    texts = [compact]
    starts = _pattern_start(compact, region)
    if starts is not None:
        texts.append(starts)
    try:
        if is_pattern(query):
            texts.append(normalise_prefix(query, region))
        else:
            texts.append(normalise(query, region))
    except InvalidNumber:
        pass
    distinct = list(dict.fromkeys(texts))
    return [
        text for text in distinct if not any(other != text and other in text for other in distinct)
    ]


def _pattern_start(compact: str, region: str) -> str | None:
    """The start of the pattern that a number (or prefix) spelt ``compact`` begins with, when
    ``compact`` starts with an international prefix (``0091...``: ``+91...``) or the
    region's trunk prefix (``098...`` in India: ``+9198...``); else None."""
    body = compact[: -len(PREFIX_MARK)] if compact.endswith(PREFIX_MARK) else compact
    if not _is_ascii_digits(body):
        return None
    for international in _international_prefixes(region):
        if body.startswith(international):
            return "+" + compact[len(international) :]
    trunk, country_code = _trunk_and_country_code(region)
    if trunk and body.startswith(trunk):
        return f"+{country_code}{compact[len(trunk) :]}"
    return None


@functools.cache
def _international_prefixes(region: str) -> tuple[str, ...]:
    """What a number dialled abroad from ``region`` starts with: ``00`` everywhere (as
    ``normalise`` reads it), and the region's own prefix when it is one string of digits
    (``011`` in the US)."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    own = None if metadata is None else metadata.international_prefix
    if own and _is_ascii_digits(own) and own != "00":
        return ("00", own)
    return ("00",)


@functools.cache
def _trunk_and_country_code(region: str) -> tuple[str | None, int]:
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    trunk = None if metadata is None else metadata.national_prefix
    return trunk, phonenumbers.country_code_for_region(region)


def normalise_many(texts: Sequence[str], region: str) -> list[str | None]:
    """``normalise`` for a batch: the E.164 form of each text, or None where it is invalid."""
    return normalise_batch(texts, region)[0]


def normalise_batch(
    texts: Sequence[str], region: str
) -> tuple[list[str | None], np.ndarray[Any, np.dtype[np.int64]]]:
    """``normalise`` for a batch: the E.164 form of each text (None where it is invalid) and
    the same numbers as integers (their digits; -1 where invalid), for array lookups.

    The common shapes are read with array operations (or string checks) and one vectorised
    validity test for the whole batch (``numbering.valid_table``); every other text goes
    through ``normalise``.
    """
    listed, keys = _batch(texts, region, spelt=True)
    assert listed is not None
    return listed, keys


def normalise_keys(texts: Sequence[str], region: str) -> np.ndarray[Any, np.dtype[np.int64]]:
    """``normalise_batch`` without the E.164 texts: only the integers (-1 where invalid)."""
    return _batch(texts, region, spelt=False)[1]


def _batch(
    texts: Sequence[str], region: str, *, spelt: bool
) -> tuple[list[str | None] | None, np.ndarray[Any, np.dtype[np.int64]]]:
    rules = _rules(region)
    results = np.full(len(texts), None, dtype=object) if spelt else None
    keys = np.full(len(texts), -1, np.int64)
    slow: list[int] = []
    if rules is None:
        slow = list(range(len(texts)))
    else:
        prefix = "+" + rules.country_code
        found: dict[int, tuple[list[Any], list[Any]]] = {}  # length -> (positions, nationals)
        if region == "IN" and len(texts) >= _VECTOR_FROM:
            positions, nationals, rest = _india_common_shapes(texts)
            found[10] = ([positions], [nationals])
        else:
            rest = np.arange(len(texts))
        loose: dict[int, tuple[list[int], list[int]]] = {}
        for position in rest.tolist():
            national = _common_national(texts[position], prefix, region)
            if national is None:
                slow.append(position)
            else:
                group = loose.setdefault(len(national), ([], []))
                group[0].append(position)
                group[1].append(int(national))
        for length, (positions_list, values_list) in loose.items():
            group_arrays = found.setdefault(length, ([], []))
            group_arrays[0].append(np.array(positions_list, np.int64))
            group_arrays[1].append(np.array(values_list, np.int64))
        for length, (position_parts, national_parts) in found.items():
            where = np.concatenate(position_parts)
            values = np.concatenate(national_parts)
            table = valid_table(region, length)
            if not len(where):
                continue
            if table is None:
                slow.extend(where.tolist())
                continue
            valid = table.contains_many(values)
            # Not valid in the table: the full parser has the last word.
            slow.extend(where[~valid].tolist())
            good, numbers = where[valid], values[valid]
            keys[good] = numbers + int(rules.country_code) * 10**length
            if results is not None:
                spelt_out = np.char.add(prefix, numbers.astype(f"U{length}"))
                results[good] = spelt_out.astype(object)
    for position in slow:
        try:
            e164 = normalise(texts[position], region)
        except InvalidNumber:
            continue
        if results is not None:
            results[position] = e164
        keys[position] = int(e164[1:])
    return (None if results is None else results.tolist()), keys


_VECTOR_FROM = 256
_POW10 = 10 ** np.arange(9, -1, -1, dtype=np.int64)
_ZERO, _NINE = ord("0"), ord("9")
# What comes before the 10-digit national number in the common Indian shapes.
_INDIA_LEADS = ("", "0", "91", "+91")


def _india_common_shapes(texts: Sequence[str]) -> tuple[Any, Any, Any]:
    """Positions and 10-digit national numbers of the texts shaped ``9876543210``,
    ``09876543210``, ``919876543210`` or ``+919876543210``, and the positions of all
    other texts.

    The texts of each length are joined and read as one byte matrix (a row a text): one
    array pass per shape instead of Python work per text.
    """
    lengths = np.fromiter(map(len, texts), np.int64, len(texts))
    found_positions: list[Any] = []
    found_nationals: list[Any] = []
    for lead in _INDIA_LEADS:
        size = len(lead) + 10
        where = np.flatnonzero(lengths == size)
        if not len(where):
            continue
        chosen = texts if len(where) == len(texts) else [texts[i] for i in where.tolist()]
        # One byte a character: anything not ASCII becomes "?", which no shape accepts.
        joined = "".join(chosen).encode("ascii", "replace")
        codes = np.frombuffer(joined, np.uint8).reshape(len(chosen), size)
        body = codes[:, len(lead) :]
        shaped = ((body >= _ZERO) & (body <= _NINE)).all(axis=1) & (body[:, 0] != _ZERO)
        for column, byte in enumerate(lead.encode()):
            shaped &= codes[:, column] == byte
        found_positions.append(where[shaped])
        found_nationals.append((body[shaped].astype(np.int64) - _ZERO) @ _POW10)
    if not found_positions:
        empty = np.empty(0, np.int64)
        return empty, empty, np.arange(len(texts))
    positions = np.concatenate(found_positions)
    rest_mask = np.ones(len(texts), dtype=bool)
    rest_mask[positions] = False
    return positions, np.concatenate(found_nationals), np.flatnonzero(rest_mask)


def _common_national(text: str, prefix: str, region: str) -> str | None:
    """The national number of a text in one of the commonest shapes, else None."""
    if text.isdigit() and text.isascii():
        if region == "IN":
            if len(text) == 10 and text[0] != "0":
                return text
            if len(text) == 11 and text[0] == "0" and text[1] != "0":
                return text[1:]
            if len(text) == 12 and text.startswith("91") and text[2] != "0":
                return text[2:]
        return None
    if text.startswith(prefix):
        national = text[len(prefix) :]
        if national.isdigit() and national.isascii() and national[:1] not in ("", "0"):
            return national
    return None
