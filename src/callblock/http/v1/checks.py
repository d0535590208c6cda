"""`/v1/check`: is a number blocked, one at a time or up to 100,000 at once."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated

import orjson
from fastapi import APIRouter, Body, Path, Query
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from callblock.domain import (
    NOT_A_NUMBER,
    BatchReason,
    Direction,
    Match,
    Reason,
    ReasonCode,
    campaign_ref,
)
from callblock.http import schemas
from callblock.http.problems import responses
from callblock.http.v1 import examples
from callblock.http.v1.common import PREFIX, CheckingActorDep, ServiceDep, invalid
from callblock.rules import NAME_MAX, NUMBER_TEXT_MAX
from callblock.service import CampaignBatch, CampaignCheck, CheckResult

router = APIRouter(prefix=PREFIX, tags=["checks"])

CampaignParam = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=NAME_MAX,
        description="A campaign's id or name: answer whether it may call the number now.",
    ),
]


def _match_public(m: Match) -> schemas.MatchPublic:
    return schemas.MatchPublic(
        group_id=m.group_id,
        group_name=m.group_name,
        pattern=m.pattern,
        expires_at=m.expires_at,
        rule=m.rule,
    )


def _check_public(result: CheckResult) -> schemas.CheckPublic:
    return schemas.CheckPublic(
        number=result.number,
        blocked=result.blocked,
        matches=[_match_public(m) for m in result.matches],
    )


def _reason_public(reason: Reason) -> schemas.ReasonPublic:
    match = reason.match
    return schemas.ReasonPublic(
        code=reason.code,
        group_id=None if match is None else match.group_id,
        group_name=None if match is None else match.group_name,
        pattern=None if match is None else match.pattern,
        expires_at=None if match is None else match.expires_at,
        allowed_by=None if reason.allowed_by is None else _match_public(reason.allowed_by),
        time_zones=list(reason.zones) if reason.code is ReasonCode.OUTSIDE_CALLING_HOURS else None,
    )


def _campaign_check_public(result: CampaignCheck) -> schemas.CampaignCheckPublic:
    return schemas.CampaignCheckPublic(
        number=result.number,
        campaign=schemas.CampaignNamed(id=result.campaign_id, name=result.campaign_name),
        callable=result.callable,
        blocked=result.blocked,
        matches=[_match_public(m) for m in result.matches],
        reasons=[_reason_public(r) for r in result.reasons],
        next_callable_at=result.next_callable_at,
    )


def _batch_reason(reason: BatchReason, number: str | None) -> dict[str, object]:
    # An exact entry's pattern is the number itself (``BatchReason``); a withheld caller's
    # is the caller ID; the window names no entry.
    names_entry = reason.group_id is not None
    return {
        "code": reason.code.value,
        "group_id": reason.group_id,
        "pattern": reason.pattern if reason.pattern is not None or not names_entry else number,
        "allowed_by_group_id": reason.allowed_by_group_id,
    }


def _instant(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


@router.get(
    "/check/{number}",
    operation_id="checkNumber",
    summary="Is this number blocked?",
    description="Answers from memory, never the database: whether any active entry of the "
    "account's groups blocks the number, and each match (the group, the entry, and whether a "
    "number, a prefix or the withheld-caller rule matched). `direction` counts only the groups "
    "for that direction; without it, every group counts. A number that cannot be read is 422."
    "\n\nWith `campaign` (an id or a name), the answer is whether that campaign may call the "
    "number now: `callable`, coded `reasons` and `next_callable_at`, by the precedence table "
    "of docs/api.md (global block groups and the campaign's attached ones; allow entries "
    "lifting the blocks of groups with `consent_overrides`; then the calling window in the "
    "callee's local time). An unknown campaign is 404.",
    response_model=schemas.CheckPublic | schemas.CampaignCheckPublic,
    responses={**examples.CHECKED, **responses(401, 404, 422, 503)},
)
async def check_number(
    number: Annotated[
        str,
        Path(
            max_length=NUMBER_TEXT_MAX,
            description="Any common form of the number.",
            openapi_examples=examples.CHECK_NUMBER,
        ),
    ],
    actor: CheckingActorDep,
    service: ServiceDep,
    direction: schemas.CheckDirection | None = None,
    campaign: CampaignParam = None,
) -> schemas.CheckPublic | schemas.CampaignCheckPublic:
    wanted = None if direction is None else Direction(direction.value)
    if campaign is not None:
        ref = campaign_ref(campaign)
        if service.has_index(actor.account.id):
            found = service.check_for_campaign(actor, number, wanted, ref)
        else:
            found = await run_in_threadpool(service.check_for_campaign, actor, number, wanted, ref)
        if found.error is not None:
            raise invalid("number", found.error, number)
        return _campaign_check_public(found)
    if service.has_index(actor.account.id):
        result = service.check(actor, number, wanted)
    else:  # the first check of an account loads its index: not on the event loop
        result = await run_in_threadpool(service.check, actor, number, wanted)
    if result.error is not None:
        raise invalid("number", result.error, number)
    return _check_public(result)


@router.post(
    "/check",
    operation_id="checkNumbers",
    summary="Check many numbers at once",
    description="Up to 100,000 inputs in one request, answered in input order: each with its "
    "E.164 form, whether it is blocked and by which groups. An input that is not a number is "
    "answered with `error` rather than failing the request; a body over the size limit is "
    "413. With `campaign`, each result also says whether the campaign may call the number now "
    "(`callable`, `reasons`, `next_callable_at`), as the single check does.",
    response_model=schemas.CheckManyPublic | schemas.CampaignCheckManyPublic,
    responses={**examples.CHECKED_MANY, **responses(400, 401, 404, 413, 422, 503)},
)
def check_numbers(
    body: Annotated[schemas.CheckMany, Body(openapi_examples=examples.CHECK_NUMBERS)],
    actor: CheckingActorDep,
    service: ServiceDep,
) -> Response:
    wanted = None if body.direction is None else Direction(body.direction.value)
    if body.campaign is not None:
        return _campaign_batch(
            service.check_many_for_campaign(
                actor, body.numbers, wanted, campaign_ref(body.campaign)
            )
        )
    checked = service.check_many(actor, body.numbers, wanted)
    # Up to 100,000 results: encoded straight from plain dicts (the shape is the declared
    # CheckManyPublic, which the OpenAPI test holds it to), not through a model per result.
    results = [
        {
            "input": item,
            "number": number,
            "blocked": bool(groups) or i in checked.withheld,
            "group_ids": groups,
            "error": None if number is not None or i in checked.withheld else NOT_A_NUMBER,
        }
        for i, (item, number, groups) in enumerate(
            zip(checked.inputs, checked.numbers, checked.group_ids, strict=True)
        )
    ]
    try:
        encoded = orjson.dumps({"results": results})
    except TypeError:  # an input integer beyond 64 bits, echoed back: the slower encoder
        encoded = json.dumps({"results": results}, separators=(",", ":")).encode()
    return Response(encoded, media_type="application/json")


def _campaign_batch(checked: CampaignBatch) -> Response:
    """A campaign's batch answer, encoded from plain dicts like the plain batch's."""
    stands = checked.group_ids
    results = [
        {
            "input": item,
            "number": number,
            "callable": callable_,
            "blocked": bool(groups) or i in checked.withheld,
            "group_ids": groups,
            "reasons": [_batch_reason(r, number) for r in reasons] if reasons else [],
            "next_callable_at": _instant(next_at),
            "error": None if number is not None or i in checked.withheld else NOT_A_NUMBER,
        }
        for i, (item, number, callable_, groups, reasons, next_at) in enumerate(
            zip(
                checked.inputs,
                checked.numbers,
                checked.callable,
                stands,
                checked.reasons,
                checked.next_callable_at,
                strict=True,
            )
        )
    ]
    answer = {
        "campaign": {"id": checked.campaign_id, "name": checked.campaign_name},
        "results": results,
    }
    try:
        encoded = orjson.dumps(answer)
    except TypeError:  # an input integer beyond 64 bits, echoed back: the slower encoder
        encoded = json.dumps(answer, separators=(",", ":")).encode()
    return Response(encoded, media_type="application/json")
