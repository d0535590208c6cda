"""`/v1/account`: the calling account, and the settings it may change itself."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Body

from callblock.domain import Actor
from callblock.http import schemas
from callblock.http.problems import responses
from callblock.http.v1 import examples
from callblock.http.v1.common import PREFIX, AdminActorDep, AnyActorDep, ServiceDep

router = APIRouter(prefix=PREFIX, tags=["account"])


def _account_public(actor: Actor) -> schemas.AccountPublic:
    account = actor.account
    return schemas.AccountPublic(
        username=account.username,
        region=account.region,
        timezone=account.timezone,
        auth_mode=account.auth_mode.value,
        block_anonymous=account.block_anonymous,
    )


@router.get(
    "/account",
    operation_id="getAccount",
    summary="The calling account",
    description="Who the credentials belong to: the username, the region national numbers "
    "are read with, the time zone, how the compat endpoints authenticate it, and whether a "
    "withheld caller is blocked. A way to test a key: 401 if it is not valid.",
    response_model=schemas.AccountPublic,
    responses={**examples.ACCOUNT, **responses(401, 503)},
)
def get_account(actor: AnyActorDep) -> schemas.AccountPublic:
    return _account_public(actor)


@router.patch(
    "/account",
    operation_id="updateAccount",
    summary="Change the calling account's settings",
    description="Sets what the account may change itself: `block_anonymous` (inbound checks of "
    "an empty or withheld caller ID answer blocked), `region` (the ISO 3166 region national "
    "numbers are read with, from the next request on: entries already stored keep the "
    "numbers they were read as) and `timezone` (the IANA zone of an import's expiry without "
    "an offset). A field left out, or null, is kept. Every process and node uses the new "
    "settings within a second; the change is in the audit log (with the previous region and "
    "time zone) and the change feed (`settings`). Answers the account as it now is; an "
    "unknown region or time zone, or a `block_anonymous` that is not a boolean, is 422 "
    "naming the field, and nothing is changed.",
    response_model=schemas.AccountPublic,
    responses={**examples.UPDATED_ACCOUNT, **responses(400, 401, 413, 422, 503)},
)
def update_account(
    body: Annotated[schemas.AccountUpdate, Body(openapi_examples=examples.UPDATE_ACCOUNT)],
    actor: AdminActorDep,
    service: ServiceDep,
) -> schemas.AccountPublic:
    account = service.update_settings(
        actor,
        block_anonymous=body.block_anonymous,
        region=body.region,
        timezone=body.timezone,
    )
    return _account_public(replace(actor, account=account))
