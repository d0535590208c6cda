"""`/v1/check`: is a number blocked, one at a time or up to 100,000 at once."""

from __future__ import annotations

import json
from typing import Annotated

import orjson
from fastapi import APIRouter, Body, Path
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from callblock.domain import NOT_A_NUMBER, Direction
from callblock.http import schemas
from callblock.http.problems import responses
from callblock.http.v1 import examples
from callblock.http.v1.common import PREFIX, CheckingActorDep, ServiceDep, invalid
from callblock.rules import NUMBER_TEXT_MAX
from callblock.service import CheckResult

router = APIRouter(prefix=PREFIX, tags=["checks"])


def _check_public(result: CheckResult) -> schemas.CheckPublic:
    return schemas.CheckPublic(
        number=result.number,
        blocked=result.blocked,
        matches=[
            schemas.MatchPublic(
                group_id=m.group_id,
                group_name=m.group_name,
                pattern=m.pattern,
                expires_at=m.expires_at,
                rule=m.rule,
            )
            for m in result.matches
        ],
    )


@router.get(
    "/check/{number}",
    operation_id="checkNumber",
    summary="Is this number blocked?",
    description="Answers from memory, never the database: whether any active entry of the "
    "account's groups blocks the number, and each match (the group, the entry, and whether a "
    "number, a prefix or the withheld-caller rule matched). `direction` counts only the groups "
    "for that direction; without it, every group counts. A number that cannot be read is 422.",
    response_model=schemas.CheckPublic,
    responses={**examples.CHECKED, **responses(401, 422, 503)},
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
) -> schemas.CheckPublic:
    wanted = None if direction is None else Direction(direction.value)
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
    "413.",
    response_model=schemas.CheckManyPublic,
    responses={**examples.CHECKED_MANY, **responses(400, 401, 413, 422, 503)},
)
def check_numbers(
    body: Annotated[schemas.CheckMany, Body(openapi_examples=examples.CHECK_NUMBERS)],
    actor: CheckingActorDep,
    service: ServiceDep,
) -> Response:
    wanted = None if body.direction is None else Direction(body.direction.value)
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
