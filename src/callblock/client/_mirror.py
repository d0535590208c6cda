"""The local copy a :class:`Mirror` keeps: the account's groups and their entries, how a change
of the feed applies to it, and the check answered from it. No I/O here: the copying and the
following are ``_async``'s (and so the generated ``_sync``'s).

The SDK carries no numbering plan (it imports nothing of the server), so a check takes an
E.164 number (``+919876543210``; spaces, dashes, dots and brackets are dropped) and refuses
anything else with ``ValueError``, where the API would read national forms with the account's
region. Expiry is judged against the mirror's clock at each check, as the server judges it
against its own.

The check is the API's check without a campaign: only global block groups count. Allow groups
and groups scoped to the campaigns they are attached to are copied all the same (a later
change may make one global, or a block group), and left out of the check.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

from callblock.client._models import (
    Change,
    CheckDirection,
    CheckResult,
    Direction,
    GroupKind,
    GroupScope,
    Match,
)

__all__ = ["LocalCopy", "utc_now"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_E164 = re.compile(r"\+([0-9]{1,15})")
_SEPARATORS = str.maketrans("", "", " -.()")
# Caller IDs that mean "withheld", as the API reads them (docs/api.md, Checks).
_WITHHELD = frozenset({"", "anonymous", "private", "unknown", "withheld"})
_PREFIX_MARK = "*"


def utc_now() -> datetime:
    return datetime.now(UTC)


def _stamp(instant: datetime | None) -> int | None:
    """POSIX microseconds of an expiry (None: it never expires)."""
    return None if instant is None else (instant - _EPOCH) // _MICROSECOND


def _instant(stamp: int | None) -> datetime | None:
    return None if stamp is None else _EPOCH + timedelta(microseconds=stamp)


@dataclass(slots=True)
class _Group:
    id: int
    name: str
    direction: Direction
    kind: GroupKind
    scope: GroupScope
    # E.164 digits as an integer -> expiry (POSIX microseconds; None: never)
    numbers: dict[int, int | None] = field(default_factory=dict)
    # a prefix's digits ("91140" for +91140*) -> expiry
    prefixes: dict[str, int | None] = field(default_factory=dict)

    def counts_for(self, direction: CheckDirection | None) -> bool:
        """Whether the group counts in a check without a campaign: a global block group, in
        the direction asked (as the server's ``campaign_rules.plain_groups``)."""
        return (
            self.kind == "block"
            and self.scope == "global"
            and (direction is None or self.direction in (direction, "both"))
        )


class LocalCopy:
    """An account's groups as of some change of its feed."""

    def __init__(self, clock: Callable[[], datetime] = utc_now) -> None:
        self._clock = clock
        self._groups: dict[int, _Group] = {}
        self._prefix_lengths: Counter[int] = Counter()  # of prefixes held, in digits
        self.block_anonymous = False

    @property
    def entries(self) -> int:
        """Entries held, expired ones included (they stay until removed, as on the server)."""
        return sum(len(g.numbers) + len(g.prefixes) for g in self._groups.values())

    # --- writing -------------------------------------------------------------------------

    def put_group(
        self,
        group_id: int,
        name: str,
        direction: Direction,
        kind: GroupKind = "block",
        scope: GroupScope = "global",
    ) -> None:
        """A group as it now is; its entries stay."""
        known = self._groups.get(group_id)
        if known is None:
            self._groups[group_id] = _Group(group_id, name, direction, kind, scope)
        else:
            known.name, known.direction, known.kind, known.scope = name, direction, kind, scope

    def drop_group(self, group_id: int) -> None:
        group = self._groups.pop(group_id, None)
        if group is not None:
            self._prefix_lengths.subtract(len(p) for p in group.prefixes)
            self._prefix_lengths = +self._prefix_lengths  # forget lengths no prefix has

    def upsert(self, group_id: int, pattern: str, expires_at: datetime | None) -> None:
        group = self._groups.get(group_id)
        if group is None:
            # A group the copy does not have was deleted after the copy's token: its
            # deletion comes later in the feed, and its entries would go with it.
            return
        if pattern.endswith(_PREFIX_MARK):
            digits = pattern[1 : -len(_PREFIX_MARK)]
            if digits not in group.prefixes:
                self._prefix_lengths[len(digits)] += 1
            group.prefixes[digits] = _stamp(expires_at)
        else:
            group.numbers[int(pattern[1:])] = _stamp(expires_at)

    def remove(self, group_id: int | None, pattern: str) -> None:
        """Remove an entry from the group, or from every group (None)."""
        groups = list(self._groups.values()) if group_id is None else [self._groups.get(group_id)]
        for group in groups:
            if group is None:
                continue
            if pattern.endswith(_PREFIX_MARK):
                digits = pattern[1 : -len(_PREFIX_MARK)]
                if digits in group.prefixes:
                    del group.prefixes[digits]
                    self._prefix_lengths[len(digits)] -= 1
                    if not self._prefix_lengths[len(digits)]:
                        del self._prefix_lengths[len(digits)]
            else:
                group.numbers.pop(int(pattern[1:]), None)

    def apply(self, change: Change) -> None:
        """A change of the feed (or a part of one). Applying one again changes nothing, so a
        change the copy already has (made between its token and its export) is harmless."""
        group = change.group
        if group is not None:
            self.put_group(group.id, group.name, group.direction, group.kind, group.scope)
        if change.action == "delete" and change.group_id is not None:
            self.drop_group(change.group_id)
        if change.group_id is not None:
            for entry in change.upserted:
                self.upsert(change.group_id, entry.number, entry.expires_at)
        for pattern in change.removed:
            self.remove(change.group_id, pattern)
        if change.block_anonymous is not None:
            self.block_anonymous = change.block_anonymous

    # --- reading -------------------------------------------------------------------------

    def check(self, number: str, direction: CheckDirection | None = None) -> CheckResult:
        """Is ``number`` blocked now, by this copy? The answer the API's check gives (number
        entries first, then prefixes, shortest first), with no network call."""
        if not isinstance(number, str):
            raise TypeError(f"number must be a string, not {type(number).__name__}")
        if direction not in (None, "inbound", "outbound"):
            raise ValueError(f"direction must be 'inbound', 'outbound' or None, not {direction!r}")
        caller = number.strip().lower()
        if direction == "inbound" and self.block_anonymous and caller in _WITHHELD:
            return CheckResult(None, True, (Match(None, None, caller, None, "block_anonymous"),))
        found = _E164.fullmatch(number.translate(_SEPARATORS))
        if found is None:
            raise ValueError(
                f"not an E.164 number: {number!r} (the Mirror reads only +<country><number>)"
            )
        digits = found.group(1)
        key = int(digits)
        now = _stamp(self._clock())
        assert now is not None
        # Copies: a sync in another thread may add or drop groups and lengths meanwhile.
        groups = [g for g in list(self._groups.values()) if g.counts_for(direction)]
        lengths = sorted(n for n in list(self._prefix_lengths) if n <= len(digits))
        matches: list[Match] = []
        for group in groups:
            if key in group.numbers:
                self._collect(matches, group, "+" + digits, group.numbers[key], "number", now)
        for length in lengths:
            prefix = digits[:length]
            for group in groups:
                if prefix in group.prefixes:
                    pattern = f"+{prefix}{_PREFIX_MARK}"
                    self._collect(matches, group, pattern, group.prefixes[prefix], "prefix", now)
        return CheckResult("+" + digits, bool(matches), tuple(matches))

    @staticmethod
    def _collect(
        into: list[Match],
        group: _Group,
        pattern: str,
        expires: int | None,
        rule: Literal["number", "prefix"],
        now: int,
    ) -> None:
        if expires is None or now < expires:
            into.append(Match(group.id, group.name, pattern, _instant(expires), rule))
