"""Which lists a campaign's check obeys, and what their matches decide (no I/O).

The precedence (``docs/api.md``, "The campaign check"): a block that consent may not override
wins over everything; an active allow entry lifts the blocks of groups that allow it
(``consent_overrides``); the calling window applies last, to a number nothing blocks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from callblock.calling_hours import CallingWindow
from callblock.domain import (
    BatchReason,
    Direction,
    Group,
    GroupKind,
    GroupScope,
    Match,
    Reason,
    ReasonCode,
)


@dataclass(frozen=True, slots=True)
class Campaign:
    """A campaign: the attached groups its checks obey (on top of the global ones) and the
    calling window its calls must fall in, in the callee's local time."""

    id: int
    account_id: int
    name: str
    description: str
    window: CallingWindow | None
    groups: tuple[Group, ...]  # attached groups, in id order
    created_at: datetime
    updated_at: datetime

    @property
    def group_ids(self) -> tuple[int, ...]:
        return tuple(g.id for g in self.groups)


@dataclass(frozen=True, slots=True)
class GroupRole:
    """What the rules need to know of a group."""

    kind: GroupKind
    scope: GroupScope
    consent_overrides: bool
    direction: Direction

    def in_direction(self, direction: Direction | None) -> bool:
        return direction is None or self.direction in (direction, Direction.BOTH)


@dataclass(frozen=True, slots=True)
class Plan:
    """The groups one campaign's checks obey in one direction."""

    campaign_id: int
    campaign_name: str
    window: CallingWindow | None
    blocks: frozenset[int]
    allows: frozenset[int]
    overridable: frozenset[int]  # of ``blocks``: those an allow entry lifts

    @property
    def among(self) -> frozenset[int]:
        """Every group whose matches matter to the campaign."""
        return self.blocks | self.allows


def plain_groups(roles: Mapping[int, GroupRole], direction: Direction | None) -> frozenset[int]:
    """The groups a check without a campaign counts: global block groups (every group was
    one before campaigns existed), in the direction asked."""
    return frozenset(
        group_id
        for group_id, role in roles.items()
        if role.kind is GroupKind.BLOCK
        and role.scope is GroupScope.GLOBAL
        and role.in_direction(direction)
    )


def plan_of(
    campaign_id: int,
    campaign_name: str,
    window: CallingWindow | None,
    attached: Iterable[int],
    roles: Mapping[int, GroupRole],
    direction: Direction | None,
) -> Plan:
    """A campaign obeys every global group and the groups attached to it."""
    attached_ids = set(attached)
    blocks: set[int] = set()
    allows: set[int] = set()
    overridable: set[int] = set()
    for group_id, role in roles.items():
        if not role.in_direction(direction):
            continue
        if role.scope is GroupScope.ATTACHED and group_id not in attached_ids:
            continue
        if role.kind is GroupKind.ALLOW:
            allows.add(group_id)
        else:
            blocks.add(group_id)
            if role.consent_overrides:
                overridable.add(group_id)
    return Plan(
        campaign_id,
        campaign_name,
        window,
        frozenset(blocks),
        frozenset(allows),
        frozenset(overridable),
    )


@dataclass(frozen=True, slots=True)
class ListVerdict:
    """What the lists alone decide: the blocks that stand, and the reasons."""

    standing: list[Match]
    reasons: list[Reason]

    @property
    def blocked(self) -> bool:
        return bool(self.standing)


NOTHING = ListVerdict([], [])


def decide(matches: Sequence[Match], plan: Plan) -> ListVerdict:
    """What a campaign's lists decide of a number, from its active matches among
    ``plan.among`` (any order)."""
    if not matches:
        return NOTHING
    allowed_by = next((m for m in matches if m.group_id in plan.allows), None)
    standing: list[Match] = []
    reasons: list[Reason] = []
    for match in matches:
        if match.group_id not in plan.blocks:
            continue
        if allowed_by is not None and match.group_id in plan.overridable:
            reasons.append(Reason(ReasonCode.CONSENT_OVERRIDES_BLOCK, match, allowed_by))
        else:
            standing.append(match)
            code = ReasonCode.BLOCKED_BY_PREFIX if match.rule == "prefix" else ReasonCode.BLOCKED
            reasons.append(Reason(code, match))
    if standing:
        # A block that stands decides the answer; lifted ones would only confuse it.
        reasons = [r for r in reasons if r.code is not ReasonCode.CONSENT_OVERRIDES_BLOCK]
    return ListVerdict(standing, reasons)


def decide_ids(
    group_ids: Sequence[int], plan: Plan
) -> tuple[bool, list[tuple[ReasonCode, int, int | None]]]:
    """``decide`` from the ids of the groups among ``plan.among`` whose exact entries match
    a number (the batch check's fast form, for an account without prefixes): whether a block
    stands, and each reason as (code, group id, allow group id)."""
    allowed_by = next((g for g in group_ids if g in plan.allows), None)
    standing: list[tuple[ReasonCode, int, int | None]] = []
    lifted: list[tuple[ReasonCode, int, int | None]] = []
    for group_id in group_ids:
        if group_id not in plan.blocks:
            continue
        if allowed_by is not None and group_id in plan.overridable:
            lifted.append((ReasonCode.CONSENT_OVERRIDES_BLOCK, group_id, allowed_by))
        else:
            standing.append((ReasonCode.BLOCKED, group_id, None))
    return (True, standing) if standing else (False, lifted)


def batch_reason(reason: Reason) -> BatchReason:
    match, allowed = reason.match, reason.allowed_by
    return BatchReason(
        reason.code,
        None if match is None else match.group_id,
        # An exact entry is the number itself: the batch leaves it out (``BatchReason``).
        None if match is None or match.rule == "number" else match.pattern,
        None if allowed is None else allowed.group_id,
        reason.zones,
    )
