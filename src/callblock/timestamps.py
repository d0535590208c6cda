"""Instants as POSIX microseconds: the form the check index and the entry table hold them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_LAST = datetime.max.replace(tzinfo=UTC)
# The expiry stamp of an entry that does not expire: the largest 64-bit integer.
NEVER = 2**63 - 1


def micros(instant: datetime) -> int:
    """POSIX microseconds of an aware datetime, exactly (no float rounding)."""
    return (instant - EPOCH) // timedelta(microseconds=1)


def from_micros(stamp: int) -> datetime:
    """The aware UTC datetime of POSIX microseconds."""
    try:
        return EPOCH + timedelta(microseconds=stamp)
    except OverflowError:  # only the last representable instant can be this late
        return _LAST
