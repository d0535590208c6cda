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

from callblock import metrics
from callblock.calling_hours import CallingWindow, WindowJudge
from callblock.campaign_rules import Plan, decide, decide_groups
from callblock.domain import (
    NOT_A_NUMBER,
    WITHHELD_CALLER_IDS,
    Actor,
    CampaignRef,
    Direction,
    Match,
    Reason,
    ReasonCode,
)
from callblock.index import AccountIndex
from callblock.numbers import InvalidNumber, normalise
from callblock.timestamps import micros
from callblock.usecases.checking import Checker
from callblock.usecases.results import CampaignBatch, CampaignCheck

_NO_REASONS: list[Reason] = []  # shared by every number nothing stands against; never appended


class CampaignChecks:
    def __init__(self, checker: Checker, clock: Callable[[], datetime]) -> None:
        self._checker = checker
        self._clock = clock
        # One judge per window and fallback zone: each keeps its answers for the minute.
        self._judges: dict[tuple[CallingWindow, str], WindowJudge] = {}
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

        def answer(
            number: str | None,
            callable_: bool,
            reasons: list[Reason],
            next_at: datetime | None = None,
            error: str | None = None,
        ) -> CampaignCheck:
            return CampaignCheck(
                raw,
                number,
                plan.campaign_id,
                plan.campaign_name,
                callable_,
                reasons,
                next_at,
                error,
            )

        if (
            direction is Direction.INBOUND
            and account.block_anonymous
            and raw.strip().lower() in WITHHELD_CALLER_IDS
        ):
            metrics.CHECKED_BLOCKED.inc()
            rule = Match(None, None, raw.strip().lower(), None, "block_anonymous")
            return answer(None, False, [Reason(ReasonCode.WITHHELD_CALLER, rule)])
        try:
            e164 = normalise(raw, account.region)
        except InvalidNumber:
            metrics.CHECKED_INVALID.inc()
            return answer(None, False, [], error=NOT_A_NUMBER)
        verdict = decide(index.matches(e164, direction, micros(now), plan.among), plan)
        if verdict.blocked:
            metrics.CHECKED_BLOCKED.inc()
            return answer(e164, False, verdict.reasons)
        metrics.CHECKED_NOT_BLOCKED.inc()
        if plan.window is None:
            return answer(e164, True, verdict.reasons)
        judged = self._judge(plan.window, account.timezone).judge(e164, now)
        if judged.inside:
            return answer(e164, True, verdict.reasons)
        outside = Reason(ReasonCode.OUTSIDE_CALLING_HOURS, zones=judged.zones)
        return answer(e164, False, [*verdict.reasons, outside], judged.next_open)

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
        callable_ = [number is not None for number in numbers]
        reasons: list[list[Reason]] = [_NO_REASONS] * count
        next_at: list[datetime | None] = [None] * count
        for position in hits.withheld:
            rule = Match(None, None, str(inputs[position]).strip().lower(), None, "block_anonymous")
            reasons[position] = [Reason(ReasonCode.WITHHELD_CALLER, rule)]
        blocked = len(hits.withheld)
        for position, groups in enumerate(hits.groups):
            if not groups:
                continue
            stands, lifted = decide_groups(groups, plan)
            if not (stands or lifted):
                continue  # only allow entries: nothing to say
            number = numbers[position]
            assert number is not None  # only numbers have groups
            matches = hits.index.matches(number, direction, stamp, plan.among)
            reasons[position] = decide(matches, plan).reasons
            if stands:
                callable_[position] = False
                blocked += 1
        invalid = numbers.count(None) - len(hits.withheld)
        metrics.CHECKED_BLOCKED.inc(blocked)
        metrics.CHECKED_INVALID.inc(invalid)
        metrics.CHECKED_NOT_BLOCKED.inc(count - blocked - invalid)
        if plan.window is not None:
            self._judge_window(
                plan.window, account.timezone, now, numbers, callable_, reasons, next_at
            )
        return CampaignBatch(
            plan.campaign_id,
            plan.campaign_name,
            inputs,
            numbers,
            callable_,
            reasons,
            next_at,
            hits.withheld,
        )

    def _judge_window(
        self,
        window: CallingWindow,
        zone: str,
        now: datetime,
        numbers: list[str | None],
        callable_: list[bool],
        reasons: list[list[Reason]],
        next_at: list[datetime | None],
    ) -> None:
        """The window, for the numbers the lists let through."""
        judged = self._judge(window, zone).judge_many(
            [n if ok else None for n, ok in zip(numbers, callable_, strict=True)], now
        )
        for position, judgement in enumerate(judged):
            if judgement is None or judgement.inside:
                continue
            callable_[position] = False
            outside = Reason(ReasonCode.OUTSIDE_CALLING_HOURS, zones=judgement.zones)
            reasons[position] = [*reasons[position], outside]
            next_at[position] = judgement.next_open
