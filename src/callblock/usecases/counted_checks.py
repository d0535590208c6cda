"""The checks the service answers, counted as they are answered (``check_counts``).

A scrub is not counted: it cleans a list before dialling, where a check is a call about to
be placed or let through.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from callblock.domain import Actor, CampaignRef, Direction
from callblock.timestamps import micros
from callblock.usecases.campaign_checks import CampaignChecks
from callblock.usecases.check_counts import ALLOWED, BLOCKED, INVALID, CheckTally
from callblock.usecases.checking import Checker
from callblock.usecases.results import BatchCheck, CampaignBatch, CampaignCheck, CheckResult


class CountedChecks:
    def __init__(
        self,
        checker: Checker,
        campaign_checks: CampaignChecks,
        tally: CheckTally | None,
        clock: Callable[[], datetime],
    ) -> None:
        self._checker = checker
        self._campaign_checks = campaign_checks
        self._tally = tally  # None: nothing is counted (the CLI's own checks)
        self._clock = clock

    def check(self, actor: Actor, raw: str, direction: Direction | None) -> CheckResult:
        result = self._checker.check(actor, raw, direction)
        if self._tally is not None:
            outcome = (
                INVALID if result.error is not None else BLOCKED if result.matches else ALLOWED
            )
            now = micros(self._clock())
            self._tally.single(actor.account.id, 0, now, outcome, result.matches)
        return result

    def check_many(
        self, actor: Actor, inputs: Sequence[object], direction: Direction | None
    ) -> BatchCheck:
        if self._tally is None:
            return self._checker.check_many(actor, inputs, direction)
        checked = self._checker.check_many(actor, inputs, direction, tallied=True)
        self._tally.matched_batch(
            actor.account.id,
            micros(self._clock()),
            checks=len(checked.numbers),
            blocked=checked.blocked,
            invalid=checked.invalid,
            keys=checked.keys,
            tally=checked.tally,
        )
        return checked

    def check_for_campaign(
        self, actor: Actor, raw: str, direction: Direction | None, campaign: CampaignRef
    ) -> CampaignCheck:
        result = self._campaign_checks.check(actor, raw, direction, campaign)
        if self._tally is not None:
            outcome = (
                INVALID if result.error is not None else ALLOWED if result.callable else BLOCKED
            )
            now = micros(self._clock())
            self._tally.single(actor.account.id, result.campaign_id, now, outcome, result.matches)
        return result

    def check_many_for_campaign(
        self,
        actor: Actor,
        inputs: Sequence[object],
        direction: Direction | None,
        campaign: CampaignRef | None,
    ) -> CampaignBatch:
        checked = self._campaign_checks.check_many(actor, inputs, direction, campaign)
        if self._tally is not None:
            invalid = checked.numbers.count(None) - len(checked.withheld)
            blocked = len(checked.callable) - checked.callable.count(True) - invalid
            self._tally.batch(
                actor.account.id,
                checked.campaign_id,
                micros(self._clock()),
                blocked=blocked,
                invalid=invalid,
                numbers=checked.numbers,
                group_ids=lambda: checked.group_ids,
            )
        return checked
