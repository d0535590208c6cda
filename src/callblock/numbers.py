"""Parse and normalise phone numbers to E.164.

Every surface hands raw input here once, at its edge; everything behind it compares E.164
strings only. The rules are those of the Cloud Agent contract (spec section 5): a few common
Indian shapes are read directly (the reference service reads them this way, which differs from
libphonenumber for a 10-digit input that starts with 91), everything else goes to
libphonenumber, and the result must be a valid number of a real range.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import phonenumbers

from callblock.numbering import valid_table

__all__ = [
    "PREFIX_MARK",
    "InvalidNumber",
    "is_pattern",
    "normalise",
    "normalise_fast",
    "normalise_full",
    "normalise_many",
    "normalise_prefix",
]

PREFIX_MARK = "*"
_MAX_E164_DIGITS = 15

_SEPARATORS = str.maketrans("", "", " -.()")
# Longer than any real number with generous formatting; refuse early rather than parse junk.
_MAX_INPUT_CHARS = 64


class InvalidNumber(ValueError):
    """The input does not normalise to a valid phone number."""


def _is_ascii_digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


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
class _Desc:
    lengths: frozenset[int]
    pattern: re.Pattern[str]

    def matches(self, national: str) -> bool:
        return (not self.lengths or len(national) in self.lengths) and bool(
            self.pattern.fullmatch(national)
        )


@dataclass(frozen=True, slots=True)
class _RegionRules:
    """libphonenumber's validity rules of one region, compiled once for the fast path."""

    country_code: str
    general: _Desc
    types: tuple[_Desc, ...]

    def valid(self, national: str) -> bool:
        # What is_valid_number decides for a number of this region: the general pattern, then
        # any one number type (mobile, fixed line, toll free, ...).
        return self.general.matches(national) and any(t.matches(national) for t in self.types)


def _desc(desc: phonenumbers.PhoneNumberDesc | None) -> _Desc | None:
    if desc is None or desc.national_number_pattern is None:
        return None
    lengths = frozenset(n for n in (desc.possible_length or ()) if n > 0)
    return _Desc(lengths, re.compile(desc.national_number_pattern))


@functools.cache
def _rules(region: str) -> _RegionRules | None:
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if metadata is None or metadata.country_code is None:
        return None
    # Regions sharing a country code (+1) need libphonenumber to tell which region a number is.
    if len(phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(metadata.country_code, ())) != 1:
        return None
    general = _desc(metadata.general_desc)
    if general is None:
        return None
    kinds = (  # the likeliest first: any one match decides
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
    types = tuple(d for d in map(_desc, kinds) if d is not None)
    return _RegionRules(str(metadata.country_code), general, types)


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
    valid = rules.valid(national) if table is None else table.contains(int(national))
    return candidate if valid else None


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
    dropped. The pattern must name a real country code and at least one digit after it:
    a whole country is not a prefix entry.
    """
    text = raw.strip()
    if not text.endswith(PREFIX_MARK) or len(text) > _MAX_INPUT_CHARS:
        raise InvalidNumber(raw)
    body = text[: -len(PREFIX_MARK)].translate(_SEPARATORS)
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
    if not _is_ascii_digits(digits) or len(digits) > _MAX_E164_DIGITS:
        raise InvalidNumber(raw)
    for length in (1, 2, 3):
        if int(digits[:length]) in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            if len(digits) <= length:
                raise InvalidNumber(raw)
            return "+" + digits + PREFIX_MARK
    raise InvalidNumber(raw)


def normalise_many(texts: Sequence[str], region: str) -> list[str | None]:
    """``normalise`` for a batch: the E.164 form of each text, or None where it is invalid.

    The common shapes are read with string checks and one vectorised validity test for the
    whole batch (``numbering.valid_table``); every other text goes through ``normalise``.
    """
    rules = _rules(region)
    results: list[str | None] = [None] * len(texts)
    if rules is None:
        slow: list[int] = list(range(len(texts)))
    else:
        slow = []
        by_length: dict[int, tuple[list[int], list[int]]] = {}
        prefix = "+" + rules.country_code
        india = region == "IN"
        national: str | None
        for position, text in enumerate(texts):
            # The commonest shapes inline (this loop is the batch check's hot path).
            if india and len(text) == 10 and text.isdigit() and text.isascii() and text[0] != "0":
                national = text
            else:
                national = _common_national(text, prefix, region)
                if national is None:
                    slow.append(position)
                    continue
            group = by_length.get(len(national))
            if group is None:
                group = by_length[len(national)] = ([], [])
            group[0].append(position)
            group[1].append(int(national))
        for length, (positions, values) in by_length.items():
            table = valid_table(region, length)
            if table is None:
                slow.extend(positions)
                continue
            valid = table.contains_many(np.fromiter(values, np.int64, len(values))).tolist()
            for position, value, ok in zip(positions, values, valid, strict=True):
                if ok:
                    results[position] = f"{prefix}{value}"
                else:  # not a common-shape number: the full parser has the last word
                    slow.append(position)
    for position in slow:
        try:
            results[position] = normalise(texts[position], region)
        except InvalidNumber:
            results[position] = None
    return results


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
