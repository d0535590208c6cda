"""A campaign's one question, "may we call this number now?", answered from memory.

The lists come first (``campaign_rules.decide``: the campaign's block groups, the allow groups
that lift the blocks consent may override), then the calling window in the callee's local
time (``calling_hours``). Everything is read from the process's index, like a plain check:
the campaign, its groups and their entries.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import numpy as np

from callblock import metrics
from callblock.calling_hours import CallingWindow, WindowJudge, judge_keys
from callblock.campaign_rules import NOTHING, Plan, batch_reason, decide, decide_ids
from callblock.domain import (
    NOT_A_NUMBER,
    WITHHELD_CALLER_IDS,
    Actor,
    BatchReason,
    CampaignRef,
    Direction,
    Match,
    Reason,
    ReasonCode,
)
from callblock.index import AccountIndex
from callblock.numbers import InvalidNumber, normalise
from callblock.timestamps import micros
from callblock.usecases.checking import BatchHits, Checker
from callblock.usecases.results import CampaignBatch, CampaignCheck

_NO_REASONS: list[BatchReason] = []  # shared by every number nothing stands against; never appended


class CampaignChecks:
    def __init__(self, checker: Checker, clock: Callable[[], datetime]) -> None:
        self._checker = checker
        self._clock = clock
        # One judge per window and fallback zone: each keeps its answers for the minute.
        self._judges: dict[tuple[CallingWindow, str], WindowJudge] = {}
        # The window's reason for each set of zones: the same value every time.
        self._outside: dict[tuple[str, ...], Reason] = {}
        self._lock = threading.Lock()

    def _judge(self, window: CallingWindow, zone: str) -> WindowJudge:
        judge = self._judges.get((window, zone))
        if judge is None:
            with self._lock:
                judge = self._judges.setdefault((window, zone), WindowJudge(window, zone))
        return judge

    def plan(self, actor: Actor, campaign: CampaignRef, direction: Direction | None) -> Plan:
        """The campaign's lists (CampaignNotFound when the account has no such campaign)."""
        return self._checker.index_of(actor.account.id).plan(campaign, direction)

    def check(
        self, actor: Actor, raw: str, direction: Direction | None, campaign: CampaignRef
    ) -> CampaignCheck:
        account = actor.account
        index = self._checker.index_of(account.id)
        plan = index.plan(campaign, direction)
        now = self._clock()
        if (
            direction is Direction.INBOUND
            and account.block_anonymous
            and raw.strip().lower() in WITHHELD_CALLER_IDS
        ):
            metrics.CHECKED_BLOCKED.inc()
            rule = Match(None, None, raw.strip().lower(), None, "block_anonymous")
            withheld = [Reason(ReasonCode.WITHHELD_CALLER, rule)]
            return CampaignCheck(raw, None, plan.campaign_id, plan.campaign_name, False, withheld)
        try:
            e164 = normalise(raw, account.region)
        except InvalidNumber:
            metrics.CHECKED_INVALID.inc()
            return CampaignCheck(
                raw, None, plan.campaign_id, plan.campaign_name, False, [], error=NOT_A_NUMBER
            )
        matches = index.matches(e164, direction, micros(now), plan.among)
        verdict = decide(matches, plan) if matches else NOTHING
        reasons = verdict.reasons
        if verdict.blocked:
            metrics.CHECKED_BLOCKED.inc()
            return CampaignCheck(raw, e164, plan.campaign_id, plan.campaign_name, False, reasons)
        metrics.CHECKED_NOT_BLOCKED.inc()
        window = plan.window
        if window is not None:
            judged = self._judge(window, account.timezone).judge(e164, now)
            if not judged.inside:
                outside = self._outside.get(judged.zones)
                if outside is None:
                    outside = Reason(ReasonCode.OUTSIDE_CALLING_HOURS, zones=judged.zones)
                    self._outside[judged.zones] = outside
                return CampaignCheck(
                    raw,
                    e164,
                    plan.campaign_id,
                    plan.campaign_name,
                    False,
                    [*reasons, outside],
                    judged.next_open,
                )
        return CampaignCheck(raw, e164, plan.campaign_id, plan.campaign_name, True, list(reasons))

    def check_many(
        self,
        actor: Actor,
        inputs: Sequence[object],
        direction: Direction | None,
        campaign: CampaignRef | None,
    ) -> CampaignBatch:
        """Every input checked for the campaign (None: as a check without one, with reasons),
        in order; answered from memory like ``check``, with array operations for the numbers
        no list names."""
        account = actor.account
        now = self._clock()
        stamp = micros(now)

        def among(index: AccountIndex) -> frozenset[int]:
            return plans.setdefault(0, index.plan(campaign, direction)).among

        plans: dict[int, Plan] = {}  # the plan of the index that answers
        hits = self._checker.batch_hits(account, inputs, direction, stamp, among)
        plan = plans[0]
        numbers = hits.numbers
        count = len(numbers)
        reasons: list[list[BatchReason]] = [_NO_REASONS] * count
        next_at: list[datetime | None] = [None] * count
        for position in hits.withheld:
            caller = str(inputs[position]).strip().lower()
            reasons[position] = [BatchReason(ReasonCode.WITHHELD_CALLER, pattern=caller)]
        stopped: list[int] = []  # positions of the numbers a block stands against
        # Without prefixes every match is an exact entry, so the ids of the matching groups
        # decide alone, once per set of ids; with prefixes, the entries are looked up.
        exact_only = not hits.index.prefix_lengths
        # Numbers matched by the same groups share one list of reasons (never appended to).
        # Keyed by the answer list itself (``blocking_groups`` shares one between the numbers
        # of one group; every list is alive through the loop, so no id is reused).
        decided: dict[int, tuple[bool, list[BatchReason]]] = {}
        groups_of = hits.groups
        matched = np.flatnonzero(np.fromiter(map(len, groups_of), np.int64, count))
        for position in matched.tolist():
            groups = groups_of[position]
            if exact_only:
                found = decided.get(id(groups))
                if found is None:
                    stands, parts = decide_ids(groups, plan)
                    shared = [BatchReason(c, g, None, a) for c, g, a in parts]
                    found = decided[id(groups)] = stands, shared
                stands, shared = found
                if not shared:
                    continue  # only allow entries: nothing to say
                reasons[position] = shared
            else:
                number = numbers[position]
                assert number is not None  # only numbers have groups
                verdict = decide(hits.index.matches(number, direction, stamp, plan.among), plan)
                stands = verdict.blocked
                reasons[position] = [batch_reason(r) for r in verdict.reasons]
            if stands:
                stopped.append(position)
        blocked = len(stopped) + len(hits.withheld)
        callable_mask = hits.keys >= 0  # a number (not invalid, not a withheld caller)
        callable_mask[stopped] = False
        if plan.window is not None:
            self._judge_window(
                plan.window,
                account.timezone,
                now,
                hits,
                callable_mask,
                reasons,
                next_at,
            )
        callable_ = callable_mask.tolist()
        invalid = numbers.count(None) - len(hits.withheld)
        metrics.CHECKED_BLOCKED.inc(blocked)
        metrics.CHECKED_INVALID.inc(invalid)
        metrics.CHECKED_NOT_BLOCKED.inc(count - blocked - invalid)
        return CampaignBatch(
            plan.campaign_id,
            plan.campaign_name,
            inputs,
            numbers,
            callable_,
            reasons,
            next_at,
            hits.withheld,
            {g.id: g.name for g in list(hits.index.groups.values())},
        )

    # The name a scrub calls it by (``files.BatchChecker``).
    check_many_for_campaign = check_many

    def _judge_window(
        self,
        window: CallingWindow,
        zone: str,
        now: datetime,
        hits: BatchHits,
        callable_: np.ndarray[Any, np.dtype[np.bool_]],
        reasons: list[list[BatchReason]],
        next_at: list[datetime | None],
    ) -> None:
        """The window, for the numbers the lists let through (``callable_``, updated)."""
        judge = self._judge(window, zone)
        outside_of = judge_keys(judge, hits.numbers, hits.keys, callable_, now)
        # Numbers with the same reasons and the same judgement share one list of reasons.
        extended: dict[tuple[int, int], list[BatchReason]] = {}
        for outside in outside_of:
            judgement, positions = outside.judgement, outside.positions
            callable_[positions] = False
            window_reason = BatchReason(ReasonCode.OUTSIDE_CALLING_HOURS, zones=judgement.zones)
            alone = [window_reason]  # for the numbers nothing else was said of (most)
            opens = judgement.next_open
            for position in positions.tolist():
                before = reasons[position]
                if before is _NO_REASONS:
                    reasons[position] = alone
                else:
                    key = (id(before), id(judgement))
                    shared = extended.get(key)
                    if shared is None:
                        shared = extended[key] = [*before, window_reason]
                    reasons[position] = shared
                next_at[position] = opens
